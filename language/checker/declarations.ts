// Pass 1: collect interface and scheduler declarations. Names reach generated C and
// the kernel, so the identifier rules are enforced here and nowhere else.
import { error } from "../diagnostics.js";
import type { Name, StringLiteral } from "../syntax-tree.js";
import { IDENTIFIER_PATTERN, IFNAME_MAX, SCHEDULER_NAME_MAX } from "../vocabulary.js";
import type { CheckContext } from "./context.js";

export function collectDeclarations(context: CheckContext): void {
  const { interfaces, schedulers } = context.symbols;
  for (const file of context.files) {
    for (const statement of file.statements) {
      if (statement.kind === "Interface") {
        checkName(context, statement.name, "an interface name", 64);
        for (const pattern of statement.patterns) checkInterfacePattern(context, pattern);
        const first = interfaces.get(statement.name.text);
        if (first) {
          context.report(
            error("E101", statement.name.span, `interface '${statement.name.text}' is declared twice`, {
              related: [{ span: first.name.span, message: "first declared here" }],
              hints: ["list all kernel names in one declaration: interface NAME = \"a\", \"b\""],
            }),
          );
        } else interfaces.set(statement.name.text, statement);
      } else if (statement.kind === "Scheduler") {
        checkName(context, statement.name, "a scheduler name", SCHEDULER_NAME_MAX);
        const first = schedulers.get(statement.name.text);
        if (first) {
          context.report(
            error("E102", statement.name.span, `scheduler '${statement.name.text}' is declared twice`, {
              related: [{ span: first.name.span, message: "first declared here" }],
            }),
          );
        } else schedulers.set(statement.name.text, statement);
      }
    }
  }
}

function checkName(context: CheckContext, name: Name, what: string, maxLength: number): void {
  if (!IDENTIFIER_PATTERN.test(name.text)) {
    const suggestion = name.text.toLowerCase().replace(/[^a-z0-9_]/g, "_").replace(/^[0-9]/, "_$&");
    context.report(
      error("E103", name.span, `'${name.text}' is not a valid name: use lower-case letters, digits and '_', not starting with a digit`, {
        hints: [`write '${suggestion}'`],
      }),
    );
  } else if (name.text.length > maxLength) {
    context.report(
      error(maxLength === SCHEDULER_NAME_MAX ? "E104" : "E103", name.span, `${what} has at most ${maxLength} characters; '${name.text}' has ${name.text.length}`, {
        hints: maxLength === SCHEDULER_NAME_MAX ? ["the kernel keeps scheduler names in 16 bytes with the terminating NUL"] : [],
      }),
    );
  }
}

/** Kernel interface names: 1-15 bytes, no '/', ':' or white space; glob characters allowed. */
function checkInterfacePattern(context: CheckContext, pattern: StringLiteral): void {
  if (!pattern.terminated) return; // already reported by the lexer
  const text = pattern.value;
  let problem: string | undefined;
  if (text.length === 0) problem = "an interface pattern cannot be empty";
  else if (new TextEncoder().encode(text.replace(/\[[^\]]*\]/g, "x")).length > IFNAME_MAX) problem = `kernel interface names have at most ${IFNAME_MAX} bytes`;
  else if (/[/:\s"\\]/.test(text) || /[\x00-\x1f\x7f]/.test(text)) problem = "interface names cannot contain '/', ':', quotes, backslashes or white space";
  else if (text === "." || text === "..") problem = `'${text}' is not an interface name`;
  else if (/\[[^\]]*$/.test(text)) problem = "unclosed '[' in the pattern";
  if (problem) context.report(error("E105", pattern.span, problem, { hints: ['patterns are kernel names with * ? [..] globs, e.g. "wlan0", "usb*"'] }));
}

// The problems list: every diagnostic with its severity, code, message, hints and
// position; Enter or a click jumps there. Arrow keys move through the list.
import { h, replaceChildren } from "../dom.js";
import type { PlaygroundDiagnostic } from "../protocol.js";

export type Jump = (file: string, line: number, column: number) => void;

export function renderProblems(list: HTMLElement, counts: HTMLElement, diagnostics: readonly PlaygroundDiagnostic[], jump: Jump): void {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  replaceChildren(
    counts,
    h(
      "span",
      { className: `count count-error${errors ? "" : " zero"}`, title: "errors" },
      h("span", { className: "dot", "aria-hidden": "true" }),
      `${errors} ${errors === 1 ? "error" : "errors"}`,
    ),
    h(
      "span",
      { className: `count count-warning${warnings ? "" : " zero"}`, title: "warnings" },
      h("span", { className: "dot", "aria-hidden": "true" }),
      `${warnings} ${warnings === 1 ? "warning" : "warnings"}`,
    ),
  );
  if (diagnostics.length === 0) {
    replaceChildren(
      list,
      h("li", { className: "problems-empty" }, h("span", { className: "check", "aria-hidden": "true" }, "✓"), "No problems: the policy checks clean."),
    );
    return;
  }
  replaceChildren(
    list,
    diagnostics.map((d) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            className: `problem problem-${d.severity}`,
            "data-code": d.code,
            "aria-label": `${d.severity} ${d.code} at ${d.file} line ${d.line} column ${d.column}: ${d.message}${d.hints.length ? `. Hint: ${d.hints.join(" ")}` : ""}`,
            onclick: () => jump(d.file, d.line, d.column),
          },
          h("span", { className: "severity", "aria-hidden": "true" }, d.severity === "error" ? "✕" : "!"),
          h(
            "span",
            { className: "problem-body" },
            h("span", { className: "problem-head" }, h("code", { className: "code" }, d.code), h("span", { className: "message" }, d.message)),
            d.hints.map((hint) => h("span", { className: "hint" }, h("span", { className: "hint-label" }, "hint"), hint)),
            d.related.map((r) => h("span", { className: "related" }, `${r.file}:${r.line}:${r.column}: ${r.message}`)),
          ),
          h("span", { className: "where" }, `${d.file}:${d.line}:${d.column}`),
        ),
      ),
    ),
  );
}

/** Up and Down move between problems, as in a list box. */
export function enableArrowKeys(list: HTMLElement): void {
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const buttons = [...list.querySelectorAll<HTMLButtonElement>("button.problem")];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    event.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))]?.focus();
  });
}

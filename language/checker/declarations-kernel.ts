// Pass: `limits` and `endpoint` lines, the in-kernel path manager's configuration.
// What every kernel would refuse is refused here, before anything touches it; a limit
// that only older kernels refuse (above 8) is lowered by `run` to theirs, with a warning.
import { error, warning } from "../diagnostics.js";
import { didYouMean, orElse } from "../suggest.js";
import type { EndpointDecl, LimitEntry } from "../syntax-tree.js";
import { ENDPOINT_FLAGS, LIMIT_NAMES } from "../vocabulary.js";
import type { CheckContext } from "./context.js";
import { resolveInterface } from "./references.js";
import { checkAddress, checkInteger, checkPort } from "./values.js";

export function checkKernelDeclarations(context: CheckContext): void {
  const limits = new Map<string, LimitEntry>();
  const endpoints = new Map<string, EndpointDecl>();
  for (const file of context.files) {
    for (const statement of file.statements) {
      if (statement.kind === "Limits") for (const entry of statement.entries) checkLimit(context, entry, limits);
      else if (statement.kind === "Endpoint") checkEndpoint(context, statement, endpoints);
    }
  }
}

function checkLimit(context: CheckContext, entry: LimitEntry, seen: Map<string, LimitEntry>): void {
  const known = LIMIT_NAMES.find((l) => l.name === entry.name.text);
  if (!known) {
    context.report(error("E403", entry.name.span, `unknown limit '${entry.name.text}'`, { hints: orElse(didYouMean(entry.name.text, LIMIT_NAMES.map((l) => l.name)), "limits: subflows, add_addr_accepted") }));
    return;
  }
  // The largest maximum of any kernel: `run` lowers it to the running kernel's.
  checkInteger(entry.value, `limit '${known.name}'`, 0, known.max, context.report);
  const first = seen.get(known.name);
  if (first) {
    context.report(error("E402", entry.name.span, `limit '${known.name}' is set twice`, { related: [{ span: first.span, message: "first set here" }] }));
  } else seen.set(known.name, entry);
}

function checkEndpoint(context: CheckContext, endpoint: EndpointDecl, seen: Map<string, EndpointDecl>): void {
  const target = endpoint.target;
  let key: string | undefined;
  if (target.kind === "Name") key = resolveInterface(context, target) ? `iface:${target.text}` : undefined;
  else key = checkAddress(target, false, context.report)?.address;
  if (key !== undefined) {
    const first = seen.get(key);
    if (first) {
      context.report(error("E405", target.span, `endpoint '${target.text}' is declared twice`, { related: [{ span: first.target.span, message: "first declared here" }], hints: ["give all its flags on one line"] }));
    } else seen.set(key, endpoint);
  }
  const flags = new Set<string>();
  for (const flag of endpoint.flags) {
    if (!ENDPOINT_FLAGS.some((f) => f.name === flag.text)) {
      context.report(error("E400", flag.span, `unknown endpoint flag '${flag.text}'`, { hints: orElse(didYouMean(flag.text, ENDPOINT_FLAGS.map((f) => f.name)), "flags: signal subflow backup fullmesh laminar") }));
    } else if (flags.has(flag.text)) {
      context.report(warning("W603", flag.span, `flag '${flag.text}' is given twice`, { hints: ["remove the repeat"] }));
    }
    flags.add(flag.text);
  }
  const fullmesh = endpoint.flags.find((f) => f.text === "fullmesh");
  if (fullmesh && flags.has("signal")) {
    context.report(error("E401", fullmesh.span, "the kernel refuses 'fullmesh' together with 'signal'", { hints: ["use two endpoints, or drop one flag"] }));
  }
  if (endpoint.port) {
    checkPort(endpoint.port, context.report);
    if (!flags.has("signal")) context.report(error("E404", endpoint.port.span, "an endpoint port is only used to announce: add the 'signal' flag"));
  }
}

// The outline of a file (document symbols): its declarations, rules and schedulers
// with their steps, each with the range of the whole statement and of its name. Pure.
import { printStatement, printStep } from "../printer.js";
import type { Span } from "../source.js";
import type { Statement } from "../syntax-tree.js";
import { locationOf, type Analysis, type Location } from "./analysis.js";

export type OutlineKind = "interface" | "limits" | "endpoint" | "rule" | "scheduler" | "step" | "selection" | "zone";

export interface OutlineItem {
  readonly name: string;
  readonly detail: string;
  readonly kind: OutlineKind;
  readonly range: Location;
  readonly selectionRange: Location;
  readonly children: readonly OutlineItem[];
}

function item(kind: OutlineKind, name: string, detail: string, whole: Span, selected: Span, children: OutlineItem[] = []): OutlineItem {
  return { kind, name, detail, range: locationOf(whole), selectionRange: locationOf(selected), children };
}

function outlineOf(statement: Statement): OutlineItem {
  switch (statement.kind) {
    case "Interface":
      return item("interface", statement.name.text, statement.patterns.map((p) => `"${p.value}"`).join(", "), statement.span, statement.name.span);
    case "Limits":
      return item("limits", "limits", statement.entries.map((e) => `${e.name.text} ${e.value.text}`).join(" "), statement.span, statement.span);
    case "Endpoint":
      return item("endpoint", `endpoint ${statement.target.text}`, statement.flags.map((f) => f.text).join(" "), statement.span, statement.target.span);
    case "Rule":
      return item(
        "rule",
        `on ${statement.event.text}${statement.iface ? ` ${statement.iface.text}` : ""}`,
        printStatement(statement).join(" "),
        statement.span,
        statement.event.span,
      );
    case "Isolate":
      return item("zone", printStatement(statement).join(" "), "a zone: these interfaces never share a connection with others", statement.span, statement.span);
    case "Mptcp":
      return item("selection", printStatement(statement).join(" "), "programs made MPTCP", statement.span, statement.span);
    case "Scheduler":
      return item(
        "scheduler",
        statement.name.text,
        "scheduler",
        statement.span,
        statement.name.span,
        statement.steps.map((step) => item("step", printStep(step), "", step.span, step.span)),
      );
  }
}

export function outlineAt(analysis: Analysis, file: string): OutlineItem[] {
  return (analysis.trees.get(file)?.statements ?? []).map(outlineOf);
}

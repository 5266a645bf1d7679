// The simulator's note on facts the timeline's events lack: said once above the
// timeline, with each rule that therefore cannot match, its source and a link to it.
// A rule on `iface` and events without `ifname` would otherwise just never fire.
import { h } from "../dom.js";
import type { MissingFactsNote } from "../simulate.js";
import { sourceLink } from "./plan.js";
import type { Jump } from "./problems.js";

export function missingFactsNotice(note: MissingFactsNote, jump: Jump): HTMLElement {
  return h(
    "section",
    { className: "missing-facts", "aria-label": "Rules the events cannot match" },
    h("p", { className: "missing-facts-head" }, h("span", { className: "badge badge-warning" }, "missing facts"), ` ${note.summary}:`),
    h(
      "ul",
      { className: "missing-facts-rules" },
      note.rules.map((rule) =>
        h(
          "li",
          { "data-rule": `${rule.at.file}:${rule.at.line}` },
          sourceLink(rule.at, jump),
          " ",
          h("code", { className: "step-source" }, rule.source),
          h("span", { className: "muted small" }, ` — ${rule.detail}`),
        ),
      ),
    ),
    h(
      "p",
      { className: "muted small" },
      "Add ",
      note.lacking.flatMap((field, i) => [i > 0 ? ", " : "", h("code", {}, `${field}=…`)]),
      " to the events, as ",
      h("code", {}, "mptcp-policy monitor --format json"),
      " records them.",
    ),
  );
}

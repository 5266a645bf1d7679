// The plan tab: the path manager chosen and why, limits, endpoints, and each rule's
// Netlink requests as readable messages. The raw plan JSON is one click away.
import type { SourceRef } from "../../compiler/model.js";
import type { Plan, PlannedCommand } from "../../compiler/plan.js";
import { h, replaceChildren } from "../dom.js";
import type { Jump } from "./problems.js";

export function sourceLink(at: SourceRef, jump: Jump, label = `${at.file}:${at.line}`): HTMLElement {
  return h(
    "button",
    { type: "button", className: "source-link", title: `Go to ${at.file}:${at.line}:${at.column}`, onclick: () => jump(at.file, at.line, at.column) },
    label,
  );
}

function value(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.join(", ");
  return String(v);
}

export function commandView(c: PlannedCommand): HTMLElement {
  return h(
    "div",
    { className: "command" },
    h(
      "div",
      { className: "command-head" },
      h("code", { className: `netlink netlink-${c.command.toLowerCase()}` }, `MPTCP_PM_CMD_${c.command}`),
      h("span", { className: "when" }, c.when),
    ),
    h(
      "dl",
      { className: "attributes" },
      Object.entries(c.attributes).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, value(v))]),
    ),
  );
}

/** The source text at a position (from the editor's models). */
export type SourceText = (at: SourceRef) => string | undefined;

export function renderPlan(panel: HTMLElement, plan: Plan | undefined, jump: Jump, sourceText: SourceText = () => undefined): void {
  if (!plan) {
    replaceChildren(panel, blocked("plan"));
    return;
  }
  const kernel = plan.strategy === "kernel";
  const limits = [
    plan.limits.subflows !== undefined ? `subflows ${plan.limits.subflows}` : "",
    plan.limits.add_addr_accepted !== undefined ? `add_addr_accepted ${plan.limits.add_addr_accepted}` : "",
  ].filter(Boolean);
  replaceChildren(
    panel,
    h(
      "section",
      { className: "card strategy" },
      h("h3", {}, "Path manager"),
      h(
        "p",
        { className: "strategy-line" },
        h("span", { className: `badge ${kernel ? "badge-kernel" : "badge-userspace"}` }, kernel ? "in-kernel" : "userspace"),
        h("code", {}, `${plan.path_manager.sysctl} = ${plan.path_manager.value}`),
      ),
      h(
        "ul",
        { className: "reasons", "aria-label": "Why" },
        plan.reasons.map((r) => {
          const m = /^([^:]+):(\d+): (.*)$/.exec(r);
          return m ? h("li", {}, sourceLink({ file: m[1] ?? "", line: Number(m[2]), column: 1 }, jump), " ", m[3]) : h("li", {}, r);
        }),
      ),
    ),
    h(
      "section",
      { className: "card" },
      h("h3", {}, "Limits"),
      limits.length
        ? h("p", {}, h("code", {}, limits.join(" · ")), ` enforced by the ${plan.limits.enforced_by}`)
        : h("p", { className: "muted" }, "Not set: the kernel's limits stay as they are."),
      plan.limits.commands.map(commandView),
    ),
    plan.zones && plan.zones.length > 0
      ? h(
          "section",
          { className: "card zones" },
          h("h3", {}, "Zones ", h("span", { className: "count-pill" }, plan.zones.length)),
          h("p", { className: "muted small" }, "A connection's subflows stay in the zone of its first subflow; the interfaces no isolate names form the default zone."),
          plan.zones.map((z) =>
            h(
              "div",
              { className: "item" },
              h("div", { className: "item-head" }, sourceLink(z.at, jump), z.interfaces.map((i) => h("span", { className: "chip" }, i)), h("span", { className: "by" }, `kept by the ${z.enforced_by}`)),
            ),
          ),
        )
      : null,
    h(
      "section",
      { className: "card" },
      h("h3", {}, "Endpoints ", h("span", { className: "count-pill" }, plan.endpoints.length)),
      plan.endpoints.length === 0 ? h("p", { className: "muted" }, "No endpoints.") : null,
      plan.endpoints.map((e) =>
        h(
          "div",
          { className: "item" },
          h(
            "div",
            { className: "item-head" },
            sourceLink(e.at, jump),
            h("strong", {}, e.iface ?? e.address ?? ""),
            e.flags.map((f) => h("span", { className: "chip" }, f)),
            e.port !== undefined ? h("span", { className: "chip" }, `port ${e.port}`) : null,
            h("span", { className: "by" }, `by the ${e.carried_out_by}`),
          ),
          e.commands.map(commandView),
        ),
      ),
    ),
    h(
      "section",
      { className: "card" },
      h("h3", {}, "Rules ", h("span", { className: "count-pill" }, plan.rules.length)),
      plan.rules.length === 0 ? h("p", { className: "muted" }, "No rules.") : null,
      plan.rules.map((r) =>
        h(
          "div",
          { className: "item rule" },
          h(
            "div",
            { className: "item-head" },
            sourceLink(r.at, jump),
            h("span", {}, "on ", h("strong", { className: "event" }, r.trigger.event), r.trigger.iface !== undefined ? ` ${r.trigger.iface}` : ""),
          ),
          h("code", { className: "rule-source" }, sourceText(r.at) ?? ""),
          r.actions.map((a) =>
            h(
              "div",
              { className: "action" },
              h(
                "div",
                { className: "action-head" },
                h("span", { className: "op" }, a.op),
                a.after_ms > 0 ? h("span", { className: "chip" }, `after ${a.after_ms} ms`) : null,
                sourceLink(a.at, jump, `:${a.at.line}:${a.at.column}`),
              ),
              a.commands.length === 0 ? h("p", { className: "muted small" }, "No Netlink request: written to the daemon's log.") : a.commands.map(commandView),
            ),
          ),
        ),
      ),
    ),
    h(
      "details",
      { className: "card raw" },
      h("summary", {}, "Plan as JSON (compile --format json)"),
      h("pre", { className: "json" }, JSON.stringify(plan, null, 2)),
    ),
  );
}

export function blocked(what: string): HTMLElement {
  return h(
    "div",
    { className: "blocked" },
    h("span", { className: "blocked-icon", "aria-hidden": "true" }, "⚠"),
    h("p", {}, `The policy has errors: fix them to see the ${what}.`),
    h("p", { className: "muted small" }, "The problems list under the editor says where."),
  );
}

export function renderExplain(panel: HTMLElement, text: string | undefined, jump: Jump): void {
  if (text === undefined) {
    replaceChildren(panel, blocked("explanation"));
    return;
  }
  const lines = text.trimEnd().split("\n");
  replaceChildren(
    panel,
    h(
      "div",
      { className: "explain" },
      lines.map((line) => {
        const m = /^(\s*)(because )?([\w.-]+\.policy):(\d+): (.*)$/.exec(line);
        const indent = line.startsWith("  ");
        if (m)
          return h("p", { className: indent ? "indent" : "" }, m[2] ?? "", sourceLink({ file: m[3] ?? "", line: Number(m[4]), column: 1 }, jump), " ", m[5]);
        return h("p", { className: indent ? "indent" : line.endsWith(":") ? "heading" : "" }, line.trim());
      }),
    ),
  );
}

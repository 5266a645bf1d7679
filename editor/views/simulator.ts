// The simulator tab: a timeline of events (from a scenario, or added one by one),
// run through the real decision core in the check worker; each event shows the rule
// that fired and the actions it would send. The scheduler tab: a connection's
// subflows with their metrics, and which subflow each scheduler picks and why.
import { EVENTS } from "../../language/vocabulary.js";
import { h, replaceChildren } from "../dom.js";
import type { DeclaredNames } from "../protocol.js";
import type { MissingFactsNote, ScheduleResult, SimulatedStep } from "../simulate.js";
import { formatFields, parseFields, scenarios, templateFor, type EventObject, type ScheduleInput, type SubflowInput } from "../timeline.js";
import { missingFactsNotice } from "./missing-facts.js";
import { sourceLink } from "./plan.js";
import type { Jump } from "./problems.js";

export interface TimelineView {
  setEvents(events: EventObject[]): void;
  events(): EventObject[];
  /** The outcome of each event, and what the events lack that rules test (said once). */
  showResults(steps: readonly SimulatedStep[] | undefined, missing?: MissingFactsNote): void;
  setNames(names: DeclaredNames): void;
}

export function setUpTimeline(panel: HTMLElement, changed: (events: EventObject[]) => void, jump: Jump): TimelineView {
  let events: EventObject[] = [];
  let names: DeclaredNames = { interfaces: [], schedulers: [] };
  const errors = new Map<number, string>();
  const scenarioSelect = h("select", { id: "scenario-picker", "aria-label": "Scenario" });
  const addSelect = h(
    "select",
    { id: "add-event-kind", "aria-label": "Event to add" },
    EVENTS.map((e) => h("option", { value: e.name }, e.name)),
  );
  const list = h("ol", { className: "timeline", id: "timeline", "aria-label": "Event timeline" });
  const notice = h("div", { id: "missing-facts", "aria-live": "polite" });
  // Redrawn only when it changes: results come after every check, and a live region
  // redrawn with the same words would be read out again at every key.
  let noticeShown = "";

  function fillScenarios(): void {
    const current = scenarioSelect.value;
    replaceChildren(
      scenarioSelect,
      scenarios(names).map((s) => h("option", { value: s.id }, s.title)),
    );
    if (current) scenarioSelect.value = current;
  }

  function commit(): void {
    renderRows();
    changed(events);
  }

  function renderRows(): void {
    replaceChildren(
      list,
      events.length === 0 ? h("li", { className: "timeline-empty muted" }, "No events yet: load a scenario or add an event.") : null,
      events.map((event, i) => {
        const kind = h(
          "select",
          {
            "aria-label": `Event ${i + 1}`,
            className: "event-kind",
            onchange: (e: Event) => {
              events[i] = { ...templateFor((e.target as HTMLSelectElement).value, names) };
              commit();
            },
          },
          EVENTS.map((ev) => h("option", { value: ev.name, selected: ev.name === event["event"] }, ev.name)),
        );
        const fields = h("input", {
          type: "text",
          className: "event-fields",
          spellcheck: "false",
          "aria-label": `Fields of event ${i + 1}`,
          value: formatFields(event),
          title: formatFields(event),
          onchange: (e: Event) => {
            const parsed = parseFields((e.target as HTMLInputElement).value);
            if ("error" in parsed) {
              errors.set(i, parsed.error);
              renderRows();
              return;
            }
            errors.delete(i);
            events[i] = { event: String(event["event"]), ...parsed.fields };
            commit();
          },
        });
        const error = errors.get(i);
        return h(
          "li",
          { className: "timeline-row", "data-index": i },
          h("span", { className: "step-number", "aria-hidden": "true" }, i + 1),
          h(
            "div",
            { className: "row-main" },
            h(
              "div",
              { className: "row-inputs" },
              kind,
              fields,
              h(
                "button",
                {
                  type: "button",
                  className: "icon-button",
                  "aria-label": `Remove event ${i + 1}`,
                  title: "Remove",
                  onclick: () => (events.splice(i, 1), errors.clear(), commit()),
                },
                "✕",
              ),
            ),
            error ? h("p", { className: "field-error", role: "alert" }, error) : null,
            h("div", { className: "result", "data-result": i }),
          ),
        );
      }),
    );
  }

  replaceChildren(
    panel,
    h(
      "div",
      { className: "toolbar" },
      h("label", { className: "field" }, h("span", {}, "Scenario"), scenarioSelect),
      h("button", { type: "button", id: "load-scenario", className: "button primary", onclick: () => loadScenario() }, "Run scenario"),
      h("span", { className: "spacer" }),
      h("label", { className: "field" }, h("span", {}, "Add"), addSelect),
      h(
        "button",
        { type: "button", className: "button", id: "add-event", onclick: () => (events.push(templateFor(addSelect.value, names)), commit()) },
        "Add event",
      ),
      h("button", { type: "button", className: "button subtle", onclick: () => ((events = []), errors.clear(), commit()) }, "Clear"),
    ),
    h(
      "p",
      { className: "muted small intro" },
      "Events as ",
      h("code", {}, "mptcp-policy monitor --format json"),
      " prints them, run through the real decision core: for each event the first matching rule fires. Edit fields as key=value (error=timeout, server_side=true).",
    ),
    notice,
    list,
  );

  function loadScenario(): void {
    const scenario = scenarios(names).find((s) => s.id === scenarioSelect.value) ?? scenarios(names)[0];
    if (!scenario) return;
    events = scenario.events.map((e) => ({ ...e }));
    errors.clear();
    commit();
  }

  fillScenarios();
  renderRows();
  return {
    setEvents(next) {
      events = next;
      renderRows();
    },
    events: () => events,
    setNames(next) {
      names = next;
      fillScenarios();
    },
    showResults(steps, missing) {
      const noticeWanted = steps && missing ? JSON.stringify(missing) : "";
      if (noticeWanted !== noticeShown) {
        noticeShown = noticeWanted;
        replaceChildren(notice, steps && missing ? missingFactsNotice(missing, jump) : null);
      }
      for (const cell of list.querySelectorAll<HTMLElement>("[data-result]")) {
        const i = Number(cell.dataset["result"]);
        const step = steps?.[i];
        if (!steps) {
          replaceChildren(cell, h("span", { className: "muted" }, "fix the policy's errors to run the simulator"));
          continue;
        }
        if (!step) continue;
        if (step.error) {
          replaceChildren(cell, h("span", { className: "field-error" }, step.error));
          continue;
        }
        replaceChildren(
          cell,
          step.rule
            ? h(
                "div",
                { className: "fired" },
                h("span", { className: "badge badge-fired" }, "fired"),
                " rule ",
                sourceLink(step.rule.at, jump),
                step.connection
                  ? h(
                      "span",
                      { className: "muted small conn" },
                      `connection ${step.connection.token}: ${step.connection.subflows} subflow${step.connection.subflows === 1 ? "" : "s"}`,
                    )
                  : null,
              )
            : h(
                "div",
                { className: "no-rule" },
                h("span", { className: "badge badge-none" }, "no rule"),
                h("span", { className: "muted" }, " no rule matches this event"),
                step.connection
                  ? h(
                      "span",
                      { className: "muted small conn" },
                      `connection ${step.connection.token}: ${step.connection.subflows} subflow${step.connection.subflows === 1 ? "" : "s"}`,
                    )
                  : null,
              ),
          step.actions.length
            ? h(
                "ul",
                { className: "actions" },
                step.actions.map((a) =>
                  h(
                    "li",
                    {},
                    h("code", { className: `netlink netlink-${a.command.toLowerCase()}` }, a.command),
                    " ",
                    a.summary,
                    a.afterMs > 0 ? h("span", { className: "chip" }, `after ${a.afterMs} ms`) : null,
                  ),
                ),
              )
            : null,
        );
      }
    },
  };
}

const METRIC_COLUMNS: readonly { key: keyof SubflowInput; label: string; unit: string }[] = [
  { key: "rtt", label: "rtt", unit: "ms" },
  { key: "rtt_var", label: "rtt_var", unit: "ms" },
  { key: "cwnd", label: "cwnd", unit: "pkts" },
  { key: "inflight", label: "inflight", unit: "pkts" },
  { key: "queued", label: "queued", unit: "KB" },
  { key: "pacing", label: "pacing", unit: "mbit/s" },
  { key: "lost", label: "lost", unit: "pkts" },
  { key: "retrans", label: "retrans", unit: "pkts" },
];

export interface ScheduleView {
  setInput(input: ScheduleInput): void;
  showResult(result: ScheduleResult | undefined): void;
}

export function setUpSchedule(panel: HTMLElement, changed: (input: ScheduleInput) => void): ScheduleView {
  let input: ScheduleInput | undefined;
  let lastResult: ScheduleResult | undefined;
  const form = h("div", { className: "schedule-form" });
  const results = h("div", { className: "schedule-results", "aria-live": "polite" });
  replaceChildren(
    panel,
    h(
      "p",
      { className: "muted small intro" },
      "A connection and its subflows at the moment a packet is sent. Edit the metrics and see which subflow each scheduler picks; only usable (",
      h("em", {}, "active"),
      ") subflows are ever chosen.",
    ),
    form,
    results,
  );

  function commit(): void {
    if (input) changed(input);
  }

  function textInput(label: string, get: () => string, set: (v: string) => void, className = ""): HTMLElement {
    return h(
      "label",
      { className: `field ${className}` },
      h("span", {}, label),
      h("input", { type: "text", spellcheck: "false", value: get(), onchange: (e: Event) => (set((e.target as HTMLInputElement).value), commit()) }),
    );
  }

  function renderForm(): void {
    if (!input) return;
    const s = input;
    replaceChildren(
      form,
      h(
        "fieldset",
        { className: "connection" },
        h("legend", {}, "Connection"),
        h(
          "label",
          { className: "field" },
          h("span", {}, "family"),
          h(
            "select",
            { onchange: (e: Event) => ((s.family = (e.target as HTMLSelectElement).value as "ipv4" | "ipv6"), commit()) },
            ["ipv4", "ipv6"].map((f) => h("option", { value: f, selected: f === s.family }, f)),
          ),
        ),
        textInput(
          "local",
          () => s.local,
          (v) => (s.local = v.trim()),
        ),
        textInput(
          "local port",
          () => String(s.localPort),
          (v) => (s.localPort = Number(v)),
          "narrow",
        ),
        textInput(
          "remote",
          () => s.remote,
          (v) => (s.remote = v.trim()),
        ),
        textInput(
          "remote port",
          () => String(s.remotePort),
          (v) => (s.remotePort = Number(v)),
          "narrow",
        ),
        h(
          "label",
          { className: "field" },
          h("span", {}, "side"),
          h(
            "select",
            { onchange: (e: Event) => ((s.side = (e.target as HTMLSelectElement).value as "client" | "server"), commit()) },
            ["client", "server"].map((f) => h("option", { value: f, selected: f === s.side }, f)),
          ),
        ),
      ),
      h(
        "div",
        { className: "table-wrap" },
        h(
          "table",
          { className: "subflows", "aria-label": "Subflows" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "#"),
              h("th", { scope: "col" }, "ifname"),
              ["active", "backup", "stale"].map((f) => h("th", { scope: "col" }, f)),
              METRIC_COLUMNS.map((c) => h("th", { scope: "col" }, c.label, h("span", { className: "unit" }, c.unit))),
              h("th", { scope: "col" }, h("span", { className: "visually-hidden" }, "Remove")),
            ),
          ),
          h(
            "tbody",
            {},
            s.subflows.map((sf, i) =>
              h(
                "tr",
                { "data-subflow": i },
                h("th", { scope: "row" }, i + 1),
                h(
                  "td",
                  {},
                  h("input", {
                    type: "text",
                    className: "ifname",
                    "aria-label": `Subflow ${i + 1} interface`,
                    value: sf.ifname,
                    onchange: (e: Event) => ((sf.ifname = (e.target as HTMLInputElement).value.trim()), commit()),
                  }),
                ),
                (["active", "backup", "stale"] as const).map((flag) =>
                  h(
                    "td",
                    { className: "flag" },
                    h("input", {
                      type: "checkbox",
                      "aria-label": `Subflow ${i + 1} ${flag}`,
                      checked: sf[flag],
                      onchange: (e: Event) => ((sf[flag] = (e.target as HTMLInputElement).checked), commit()),
                    }),
                  ),
                ),
                METRIC_COLUMNS.map((c) =>
                  h(
                    "td",
                    {},
                    h("input", {
                      type: "number",
                      min: "0",
                      step: "any",
                      className: "metric",
                      "aria-label": `Subflow ${i + 1} ${c.label} (${c.unit})`,
                      value: String(sf[c.key]),
                      onchange: (e: Event) => {
                        (sf as unknown as Record<string, number>)[c.key] = Math.max(0, Number((e.target as HTMLInputElement).value) || 0);
                        commit();
                      },
                    }),
                  ),
                ),
                h(
                  "td",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      className: "icon-button",
                      "aria-label": `Remove subflow ${i + 1}`,
                      disabled: s.subflows.length <= 1,
                      onclick: () => (s.subflows.splice(i, 1), renderForm(), commit()),
                    },
                    "✕",
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
      h(
        "button",
        {
          type: "button",
          className: "button",
          disabled: s.subflows.length >= 8,
          onclick: () => {
            const last = s.subflows[s.subflows.length - 1];
            if (last) s.subflows.push({ ...last });
            renderForm();
            commit();
          },
        },
        "Add subflow",
      ),
    );
    if (lastResult) highlight(lastResult);
  }

  function highlight(result: ScheduleResult): void {
    const served = result.served === null ? undefined : result.schedulers[result.served];
    for (const row of form.querySelectorAll<HTMLElement>("[data-subflow]"))
      row.classList.toggle("picked", served?.scheduled.includes(Number(row.dataset["subflow"])) ?? false);
  }

  return {
    setInput(next) {
      input = next;
      renderForm();
    },
    showResult(result) {
      lastResult = result;
      if (!result) {
        replaceChildren(results, h("p", { className: "muted" }, "Fix the policy's errors to run its schedulers."));
        return;
      }
      if (result.error) {
        replaceChildren(results, h("p", { className: "field-error", role: "alert" }, result.error));
        return;
      }
      highlight(result);
      const subflowName = (i: number) => `#${i + 1} ${input?.subflows[i]?.ifname ?? ""}`;
      replaceChildren(
        results,
        result.schedulers.length === 0 ? h("p", { className: "muted" }, "The policy has no scheduler: connections keep the kernel's default scheduler.") : null,
        result.schedulers.length > 0 && result.served === null
          ? h("p", { className: "muted" }, "No scheduler's for matches this connection: it keeps the kernel's default scheduler.")
          : null,
        result.schedulers.map((s) =>
          h(
            "section",
            { className: `card scheduler${s.selected ? " selected" : ""}`, "data-scheduler": s.name },
            h(
              "div",
              { className: "item-head" },
              h("strong", {}, s.name),
              s.selected
                ? h("span", { className: "badge badge-fired" }, "serves this connection")
                : h("span", { className: "badge badge-none" }, "if it served"),
              h("span", { className: "muted small" }, s.selector ? `for ${s.selector}` : "default: every other connection"),
            ),
            h(
              "ol",
              { className: "steps" },
              s.steps.map((text, k) =>
                h(
                  "li",
                  { className: s.step === k + 1 ? "decided" : s.step === null || k + 1 < s.step ? "tried" : "skipped", title: text.words },
                  h("code", { className: "step-source" }, text.source),
                  s.step === k + 1
                    ? h(
                        "span",
                        { className: "picks" },
                        "→ ",
                        s.scheduled.map((i) => h("span", { className: "chip chip-pick" }, subflowName(i))),
                      )
                    : s.step === null || k + 1 < s.step
                      ? h("span", { className: "muted small" }, " found no usable subflow")
                      : null,
                ),
              ),
            ),
            s.step === null ? h("p", { className: "muted small" }, "No step found a subflow: nothing is sent.") : null,
          ),
        ),
      );
    },
  };
}

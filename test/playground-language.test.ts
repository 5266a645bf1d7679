// The playground's pure parts, in Node: highlighting generated from the lexer,
// completion and hover from the vocabulary, the worker's analysis, the simulator,
// the simulator's inputs and the shareable link. The page itself is tested in a real
// browser (playground.e2e.test.ts).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tokenize } from "../language/lexer.js";
import { sourceFile } from "../language/source.js";
import { KEYWORDS, REDUNDANT_WITH_HOOK } from "../language/vocabulary.js";
import type { PolicyModel } from "../compiler/model.js";
import { checkFiles, formatText, outputsOf } from "../editor/analysis.js";
import { completionsAt, hoverText } from "../editor/completion.js";
import { monarchDefinition, type MonarchRule } from "../editor/monarch.js";
import { decodeState, encodeState } from "../editor/share.js";
import { simulate, simulateEvents } from "../editor/simulate.js";
import { sourceLines } from "../editor/source-lines.js";
import { defaultScheduleInput, exampleIfname, formatFields, parseFields, scenarios, snapshotJson } from "../editor/timeline.js";
import { ROOT } from "./helpers.js";

function example(name: string): { name: string; text: string }[] {
  const dir = join(ROOT, "examples", name);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".policy"))
    .sort()
    .map((f) => ({ name: f, text: readFileSync(join(dir, f), "utf8") }));
}
const ALL_EXAMPLES = readdirSync(join(ROOT, "examples"), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .flatMap((e) => example(e.name));
const LAPTOP = example("laptop-wifi-lte");
/** The line of the laptop example's rules file that starts with `start` (the example grows: no fixed numbers). */
function ruleLine(start: string): number {
  const lines = (LAPTOP.find((f) => f.name === "20-rules.policy")?.text ?? "").split("\n");
  const index = lines.findIndex((l) => l.startsWith(start));
  expect(index, start).toBeGreaterThanOrEqual(0);
  return index + 1;
}

function modelOf(files: { name: string; text: string }[]): PolicyModel {
  const checked = checkFiles(files);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return checked.result.model as PolicyModel;
}

/** Monaco's Monarch matching, reduced to what the generated definition uses. */
function monarchTokens(line: string, rules: MonarchRule[], definition: ReturnType<typeof monarchDefinition>): { start: number; text: string; cls: string }[] {
  const compiled = rules.map(([re, action]) => [new RegExp(`^(?:${re.source.replace(/@@/g, "@")})`, re.flags), action] as const);
  const out: { start: number; text: string; cls: string }[] = [];
  let pos = 0;
  while (pos < line.length) {
    const rest = line.slice(pos);
    const hit = compiled.map(([re, action]) => [re.exec(rest), action] as const).find(([m]) => m !== null && m[0].length > 0);
    if (!hit || !hit[0]) throw new Error(`no rule matches at ${pos} of ${JSON.stringify(line)}`);
    const text = hit[0][0];
    const action = hit[1];
    let cls = typeof action === "string" ? action : "";
    if (typeof action !== "string") {
      const lists: [string, readonly string[]][] = [
        ["@keywords", definition.keywords],
        ["@events", definition.events],
        ["@metrics", definition.metrics],
        ["@constants", definition.constants],
      ];
      cls = action.cases[lists.find(([, words]) => words.includes(text))?.[0] ?? "@default"] ?? "";
    }
    if (cls !== "white") out.push({ start: pos, text, cls });
    pos += text.length;
  }
  return out;
}

describe("editor/ runs in the browser", () => {
  it("imports no Node module", () => {
    const offenders = readdirSync(join(ROOT, "editor"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) =>
        [...readFileSync(join(ROOT, "editor", f), "utf8").matchAll(/from\s+["'](node:[^"']+|fs|path|os|child_process)["']/g)].map((m) => `${f}: ${m[1]}`),
      );
    expect(offenders).toEqual([]);
  });
});

describe("highlighting from the lexer's tokens", () => {
  const definition = monarchDefinition();

  it("splits every example line exactly as the real lexer does, keywords included", () => {
    for (const file of ALL_EXAMPLES) {
      const lexed = tokenize(sourceFile(file.name, file.text));
      const expected = [...lexed.tokens, ...lexed.comments.map((c) => ({ startOffset: c.span.start, image: c.text, tokenType: { name: "Comment" } }))];
      let offset = 0;
      for (const line of file.text.split("\n")) {
        const got = monarchTokens(line, definition.tokenizer.root, definition).map((t) => ({
          start: t.start + offset,
          text: t.text,
          keyword: t.cls === "keyword",
        }));
        const want = expected
          .filter((t) => t.startOffset >= offset && t.startOffset < offset + line.length)
          .sort((a, b) => a.startOffset - b.startOffset)
          .map((t) => ({ start: t.startOffset, text: t.image, keyword: t.tokenType.name.startsWith("kw_") }));
        expect(got, `${file.name}: ${line}`).toEqual(want);
        offset += line.length + 1;
      }
    }
  });

  it("classifies words from the vocabulary and marks what the lexer rejects", () => {
    const tokens = monarchTokens('on established if rtt < 150ms and family ipv4 then log "x" ; "open', definition.tokenizer.root, definition);
    const cls = Object.fromEntries(tokens.map((t) => [t.text, t.cls]));
    expect(cls).toMatchObject({
      on: "keyword",
      established: "type.event",
      rtt: "variable.metric",
      "150ms": "number",
      ipv4: "constant",
      '"x"': "string",
      ";": "invalid",
      '"open': "string.invalid",
    });
    expect(definition.keywords).toEqual(KEYWORDS);
  });
});

describe("completion", () => {
  const { names } = checkFiles(LAPTOP);
  const labels = (text: string) => completionsAt(text, names).map((i) => i.label);

  it("offers statements at a line start, and steps inside a scheduler block", () => {
    expect(labels("")).toEqual(["interface", "limits", "endpoint", "on", "scheduler", "mptcp", "isolate"]);
    expect(labels('interface wifi = "wlan0"\nli')).toContain("limits");
    expect(labels("scheduler s {\n  use any\n  ")).toEqual(["use", "redundant", "round_robin"]);
  });

  it("offers events after `on`, and interfaces after events that take one", () => {
    expect(labels("on ")).toContain("subflow_closed");
    expect(labels("on iface_down ")).toEqual(["wifi", "lte", "if", "then"]);
    expect(labels("on established ")).toEqual(["if", "then"]);
  });

  it("offers only the conditions the rule's event carries", () => {
    const established = labels("on established if ");
    expect(established).toEqual(expect.arrayContaining(["iface", "remote", "local", "side", "family", "subflows", "not"]));
    expect(established).not.toContain("error");
    expect(labels("on subflow_closed if iface wifi and ")).toContain("error");
    expect(labels("on iface_up if ")).toEqual(["iface", "not"]);
    expect(labels("on established if iface ")).toEqual(["wifi", "lte", "in"]);
    expect(labels("on established if iface in (wifi, ")).toEqual(["wifi", "lte"]);
    expect(labels("on subflow_closed if error ")).toContain("timeout");
    expect(labels("on established if iface wifi ")).toEqual(["and", "or", "then"]);
  });

  it("offers actions and their options", () => {
    expect(labels("on established then ")).toEqual(["create", "destroy", "announce", "withdraw", "set", "log"]);
    expect(labels("on closed then ")).toEqual(["log"]);
    expect(labels("on established then create via ")).toEqual(["wifi", "lte"]);
    // The options come from the grammar, in its order (an option added there is offered too); `via` is given, so no `via` nor `from`.
    const options = labels("on established then create via lte ");
    expect(options.slice(0, 3)).toEqual(["to", "port", "backup"]);
    expect(options).toContain("after");
    expect(options).not.toContain("via");
    expect(options).not.toContain("from");
    expect(labels("on announced then create to ")).toEqual(["remote", "announced"]);
    expect(labels("on iface_down wifi then set lte ")).toEqual(["backup", "active"]);
    expect(labels('on iface_down wifi then log "x", ')).toContain("set");
  });

  it("offers metrics, orderings and units of the metric's kind in schedulers", () => {
    expect(labels("scheduler s {\n  use ")).toEqual(["any", "where", "by"]);
    expect(labels("scheduler s {\n  use by ")).toEqual(["lowest", "highest"]);
    expect(labels("scheduler s {\n  use by lowest ")).toContain("pacing");
    expect(labels("scheduler s {\n  use where ")).toEqual(expect.arrayContaining(["iface", "stale", "rtt", "queued"]));
    expect(labels("scheduler s {\n  use where rtt < 150")).toEqual(["150us", "150ms", "150s"]);
    expect(labels("scheduler s {\n  use where pacing > 10")).toEqual(["10kbit", "10mbit", "10gbit"]);
    expect(labels("scheduler s for ")).toEqual(["local", "remote", "family", "side", "not"]);
    expect(labels("endpoint wifi subflow ")).toEqual(["signal", "backup", "fullmesh", "laminar", "port"]);
  });

  it("gives hover help from the vocabulary and the declarations", () => {
    expect(hoverText("established", names)).toContain("fully established");
    expect(hoverText("wifi", names)).toContain('"wlan0"');
    expect(hoverText("prefer_wifi", names)).toContain("20-rules.policy");
    expect(hoverText("150ms", names)).toContain("milliseconds");
    expect(hoverText("redundant", names)).toBe(`**redundant**: Scheduler step: every matching subflow; with the BPF scheduler hook, ${REDUNDANT_WITH_HOOK}.`);
    expect(hoverText("nonsense", names)).toBeUndefined();
  });
});

describe("the check worker's analysis", () => {
  it("reports diagnostics with 1-based positions, hints and related notes, and names despite errors", () => {
    const checked = checkFiles([{ name: "p.policy", text: 'interface wifi = "wlan0"\nendpoint wifi subflow\non established then create via wfi\non ' }]);
    expect(checked.diagnostics[0]).toMatchObject({ file: "p.policy", line: 4, severity: "error", code: "E003" });
    expect(checked.names.interfaces).toEqual([{ name: "wifi", patterns: ["wlan0"], file: "p.policy", line: 1 }]);
    const undeclared = checkFiles([{ name: "p.policy", text: 'interface wifi = "wlan0"\nendpoint wifi subflow\non established then create via wfi\n' }]);
    expect(undeclared.diagnostics).toEqual([expect.objectContaining({ code: "E100", line: 3, column: 32, endColumn: 35, hints: ["did you mean 'wifi'?"] })]);
    expect(undeclared.result.model).toBeUndefined();
  });

  it("produces the plan and explain, and formats only files without syntax errors", () => {
    const outputs = outputsOf(modelOf(LAPTOP));
    expect(outputs.plan.strategy).toBe("userspace");
    expect(outputs.explain).toContain("userspace path manager");
    // The browser knows no kernel: explain says what run does with and without the hook.
    expect(outputs.explain).toContain(
      `20-rules.policy:${ruleLine("scheduler prefer_wifi")}: scheduler prefer_wifi serves every other connection.\n  - with the BPF scheduler hook (MPTCP development tree): attached:`,
    );
    expect(outputs.explain).toMatch(/\n {2}- without it \(mainline kernels\): approximated by backup flags from live subflow metrics: .*from the start, subflows where iface wifi /);
    expect(outputs.explain).not.toContain("Kernel:");
    expect(formatText({ name: "a.policy", text: 'on  iface_up   wifi then log "x"' })).toEqual({ text: 'on iface_up wifi then log "x"\n' });
    expect(formatText({ name: "a.policy", text: "on iface_up wifi then" })).toHaveProperty("error");
  });
});

describe("simulator", () => {
  const model = modelOf(LAPTOP);
  const { names } = checkFiles(LAPTOP);

  it("runs a scenario through the decision core: which rule fired and what it sends", () => {
    const failover = scenarios(names).find((s) => s.id === "failover");
    expect(failover?.title).toBe("Connection on wifi, wifi goes down, its subflow times out");
    const steps = simulateEvents(model, failover?.events ?? []);
    expect(steps.map((s) => (s.rule ? s.rule.at.line : "-"))).toEqual([
      "-",
      ruleLine("on established if iface wifi and remote port 443"),
      "-",
      ruleLine("on iface_down wifi"),
      ruleLine("on subflow_closed if iface wifi"),
      ruleLine("on iface_up wifi"),
      ruleLine("on address_added wifi"),
      "-",
    ]);
    expect(steps[1]?.actions).toEqual([
      expect.objectContaining({
        command: "SUBFLOW_CREATE",
        summary: "on connection 7f6f626c: open a backup subflow from an address of lte to 203.0.113.80 port 443 (attempt 1 of 4)",
      }),
    ]);
    expect(steps[3]?.actions.map((a) => a.command)).toEqual(["SET_FLAGS", "log"]);
    expect(steps[2]?.connection).toEqual({ token: "7f6f626c", subflows: 2 });
    expect(simulateEvents(model, [{ event: "nope" }])).toEqual([{ error: "unknown event 'nope'", actions: [] }]);
  });

  it("says once which facts the events lack and which rules therefore cannot match, with their source", () => {
    for (const scenario of scenarios(names)) expect(simulate(model, scenario.events, undefined).missing, scenario.id).toBeUndefined();
    const failover = scenarios(names).find((s) => s.id === "failover");
    // As another tool would record them: no interface names.
    const events = (failover?.events ?? []).map(({ ifname: _, ...rest }) => rest);
    const missing = simulate(model, events, undefined, sourceLines(LAPTOP)).missing;
    // Every rule that names an interface and has an event in the scenario.
    const lacking = ["on established if iface wifi and", "on established if iface wifi then", "on subflow_closed if iface wifi", "on subflow_closed if iface lte", "on iface_down wifi", "on iface_up wifi", "on subflow_established if iface wifi", "on address_added wifi", "on iface_down lte", "on iface_up lte"].map(ruleLine);
    expect(missing?.summary).toBe(`The events lack ifname, so ${lacking.length} rules cannot match them`);
    expect(missing?.lacking).toEqual(["ifname"]);
    expect(missing?.rules.map((r) => r.at.line)).toEqual(lacking);
    expect(missing?.rules[0]).toEqual({
      at: { file: "20-rules.policy", line: ruleLine("on established if iface wifi and"), column: 1 },
      source: "on established if iface wifi and remote port 443 then create via lte backup retry 3",
      detail: "1 of 1 established event lacks ifname",
    });
    // The rules stay silent, as the note says.
    expect(simulateEvents(model, events).map((s) => s.rule?.at.line ?? "-")).toEqual(["-", "-", "-", "-", "-", "-", "-", "-"]);
    // A second established event with its interface: the rule misses only the first.
    const again = simulate(model, [...events, { ...failover?.events[1] }], undefined).missing;
    expect(again?.rules.find((r) => r.at.line === ruleLine("on established if iface wifi and"))?.detail).toBe("1 of 2 established events lacks ifname");
  });

  it("says which scheduler serves a connection and which subflow each one picks", () => {
    const input = defaultScheduleInput(names);
    const result = simulate(model, [], snapshotJson(input), sourceLines(LAPTOP)).schedule;
    expect(result?.served).toBe(1);
    expect(result?.schedulers.map((s) => [s.name, s.selected, s.step, s.scheduled])).toEqual([
      ["voip", false, 1, [0]],
      ["prefer_wifi", true, 1, [0]],
    ]);
    expect(result?.schedulers[1]?.steps[0]?.source).toBe("use where iface wifi and rtt < 150ms and not stale");
    // `redundant` in the words explain and the fallback use: new data is not sent twice.
    expect(result?.schedulers[0]?.steps[0]).toEqual({
      source: "redundant where active",
      words:
        "schedule every subflow where the subflow is not a backup (with the BPF scheduler hook, new data goes out once, spread over the matching subflows, and only retransmissions are sent on every match)",
    });
    expect(result?.schedulers[0]?.steps[0]?.words).toContain(REDUNDANT_WITH_HOOK);
    // Wi-Fi slower than 150 ms: the next step, the fastest subflow that is not a backup.
    const slow = { ...input, subflows: input.subflows.map((s, i) => (i === 0 ? { ...s, rtt: 200 } : s)) };
    expect(simulate(model, [], snapshotJson(slow)).schedule?.schedulers[1]).toMatchObject({ step: 2, scheduled: [0] });
    expect(simulate(model, [], { connection: {} }).schedule?.error).toMatch(/connection.family/);
  });
});

describe("simulator inputs", () => {
  it("reads and writes event fields as key=value, errno names included", () => {
    expect(parseFields("ifname=wlan0 dport=443 error=timeout server_side=true")).toEqual({
      fields: { ifname: "wlan0", dport: 443, error: 110, server_side: true },
    });
    expect(parseFields("dport=x")).toEqual({ error: "dport: expected a whole number" });
    expect(parseFields("colour=red")).toHaveProperty("error");
    expect(formatFields({ event: "subflow_closed", ifname: "wlan0", error: 110 })).toBe("ifname=wlan0 error=timeout");
  });

  it("names a kernel interface that the declared patterns match", () => {
    expect(exampleIfname(["usb*"])).toBe("usb0");
    expect(exampleIfname(["ens1f[0-1]"])).toBe("ens1f0");
    expect(exampleIfname(["wlan?"])).toBe("wlan0");
  });
});

describe("shareable link", () => {
  it("round-trips the files through the URL fragment and rejects damaged ones", async () => {
    const hash = await encodeState({ files: LAPTOP });
    expect(hash).toMatch(/^#code=[A-Za-z0-9_-]+$/);
    expect(await decodeState(hash)).toEqual({ files: LAPTOP });
    expect(await decodeState("#code=AAAA")).toBeUndefined();
    expect(await decodeState("#other")).toBeUndefined();
    expect(await decodeState(await encodeState({ files: [{ name: "../x", text: "" }] }))).toBeUndefined();
  });
});

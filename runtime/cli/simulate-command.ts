// `mptcp-policy simulate PATH ...`: run a policy on recorded input without a kernel
// connection. Two modes share the command:
//   --subflows FILE   scheduler snapshots, one JSON object per line (this file)
//   --events FILE     path-manager events, as `monitor --format json` prints them
// For schedulers, two engines answer the same question on the same input: the
// TypeScript reference evaluator, or the generated BPF decision core run in this
// kernel through BPF_PROG_TEST_RUN. One output function writes text or JSON lines.
import { readFileSync } from "node:fs";
import { readEvent, type PolicyEvent } from "../../compiler/events.js";
import { interfaceMatcher } from "../../compiler/interfaces.js";
import { describeMissingFacts, describeUnmatchableRule, findMissingFacts, missingFactsJson, type MissingFacts } from "../../compiler/missing-facts.js";
import { describePlannedAction, describeRetry, outcomeJson, simulateEvents, type EventOutcome } from "../../compiler/simulate-events.js";
import type { PolicyModel } from "../../compiler/model.js";
import type { ScheduleDecision } from "../../compiler/scheduler/evaluate.js";
import { decisionJson, simulateSchedules } from "../../compiler/scheduler/simulate.js";
import { parseSnapshot, SnapshotError, type Snapshot } from "../../compiler/scheduler/snapshot.js";
import { BpfEngine } from "../bpf/engine.js";
import { BpfLoadError } from "../bpf/helper.js";
import { CompileError, ToolchainError } from "../bpf/toolchain.js";
import { formatOption, requirePaths, type Command } from "./command.js";
import { loadModel } from "./compile-command.js";
import { InputError, UsageError } from "./errors.js";
import { writeErr, writeOut } from "./output.js";

export type SchedulerEngineName = "reference" | "bpf";

export const simulateCommand: Command = {
  name: "simulate",
  summary: "run a policy on recorded events or scheduler snapshots",
  usage: `Usage: mptcp-policy simulate PATH --subflows FILE [--engine reference|bpf] [--format text|json]
       mptcp-policy simulate PATH --events FILE [--format text|json]

--events FILE: path-manager events, one JSON object per line, exactly as
'mptcp-policy monitor --format json' prints them (a recorded session replays as
is). Prints, per event, the rule that fired (and the endpoint lines the daemon
carries out under the userspace path manager) and the actions it would send; with
--format json one object per line:
  {"event": "established", "token": "7f6f626c", "rules": ["p.policy:6"],
   "actions": [{"op": "create", "via": "lte", "to": "10.1.1.2", "port": 443,
   "backup": true, "scope": "connection", "after_ms": 0, "rule": "p.policy:6"}]}
When the events lack a fact that rules test (most often "ifname", which rules on
'iface' need), the output ends with a note, said once: the fields, and each rule
that cannot match for want of them with how many of its events it misses; with
--format json one last line:
  {"missing": ["ifname"], "unmatchable_rules": [{"rule": "p.policy:6",
   "event": "established", "missing": ["ifname"], "events": 2, "of": 2}]}

--subflows FILE: one scheduler snapshot per line, for example
  {"connection": {"family": "ipv4", "local": "10.1.1.1", "remote": "192.0.2.7",
   "local_port": 40000, "remote_port": 443},
   "subflows": [{"ifname": "wlan0", "rtt": 23000, "rtt_var": 4000, "cwnd": 10,
   "inflight": 2, "queued": 0, "pacing": 1250000, "lost": 0, "retrans": 0,
   "stale": false, "backup": false, "active": true}]}
(times in us, queued in bytes, pacing in bytes per second; "side": "client" or
"server" may be added to the connection, default client). Prints one line per
snapshot, in order; with --format json:
  {"scheduler": "prefer_wifi", "step": 1, "scheduled": [0]}
(step: the 1-based step that found a subflow, null when none did; scheduler: null
when no scheduler of the policy serves the connection). Snapshots of the same
connection share its round_robin turn.

Options:
  --subflows FILE   scheduler snapshots (JSON lines; '-' reads standard input)
  --events FILE     path-manager events
  --engine NAME     reference (default): the TypeScript evaluator; bpf: the
                    generated decision core in this kernel (needs root and clang)
  --format FORMAT   text (default) or json
  -h, --help        show this help`,
  options: {
    subflows: { type: "string" },
    events: { type: "string" },
    engine: { type: "string" },
    format: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  run(values, positionals) {
    if (typeof values["events"] === "string") {
      if (typeof values["subflows"] === "string") throw new UsageError("give --events or --subflows, not both");
      return simulateEventsFile(values["events"], formatOption(values["format"] ?? "text"), requirePaths(positionals, "simulate"));
    }
    const file = values["subflows"];
    if (typeof file !== "string") throw new UsageError("simulate needs --subflows FILE or --events FILE (try 'mptcp-policy simulate --help')");
    const engine = engineOption(values["engine"]);
    const format = formatOption(values["format"] ?? "text");
    const snapshots = readSnapshots(file);
    const model = loadModel(requirePaths(positionals, "simulate"));
    if (!model) return 1;
    const decisions = engine === "reference" ? simulateSchedules(model, snapshots, interfaceMatcher(model)) : runBpf(model, snapshots);
    const lines = decisions.map((d, i) => (format === "json" ? JSON.stringify(decisionJson(d)) : describeDecision(i + 1, d, snapshots[i] as Snapshot)));
    if (lines.length > 0) writeOut(lines.join("\n"));
    return 0;
  },
};

function engineOption(value: string | boolean | undefined): SchedulerEngineName {
  if (value === undefined || value === "reference" || value === "bpf") return value ?? "reference";
  throw new UsageError(`--engine must be 'reference' or 'bpf', not '${String(value)}'`);
}

/** One snapshot per non-blank line; a bad line is exit 2 with its line number. */
export function readSnapshots(file: string): Snapshot[] {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (cause) {
    throw new InputError(`${file}: ${(cause as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : String((cause as Error).message)}`);
  }
  const snapshots: Snapshot[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    try {
      snapshots.push(parseSnapshot(JSON.parse(line)));
    } catch (cause) {
      if (cause instanceof SnapshotError || cause instanceof SyntaxError) throw new InputError(`${file}:${i + 1}: ${cause.message}`);
      throw cause;
    }
  }
  return snapshots;
}

function runBpf(model: PolicyModel, snapshots: readonly Snapshot[]): ScheduleDecision[] {
  let engine: BpfEngine | undefined;
  try {
    engine = new BpfEngine(model);
    return engine.run(snapshots.map((snapshot) => ({ snapshot })));
  } catch (cause) {
    if (cause instanceof ToolchainError) throw new InputError(cause.message);
    if (cause instanceof BpfLoadError) throw new InputError(`--engine bpf: the kernel refused the test run (${cause.message}); it needs root`);
    if (cause instanceof CompileError) throw new Error(`${cause.message}\n${cause.stderr}`);
    throw cause;
  } finally {
    engine?.close();
  }
}

function describeDecision(line: number, d: ScheduleDecision, snapshot: Snapshot): string {
  if (d.scheduler === null) return `${line}: no scheduler of the policy serves this connection (the kernel's default scheduler does)`;
  if (d.step === null) return `${line}: ${d.scheduler}: no step found a usable subflow: nothing is sent`;
  const chosen = d.scheduled.map((i) => `${i} (${snapshot.subflows[i]?.ifname ?? "?"})`).join(", ");
  return `${line}: ${d.scheduler} step ${d.step}: ${chosen}`;
}

function simulateEventsFile(file: string, format: "text" | "json", paths: string[]): number {
  const events = readEvents(file);
  const model = loadModel(paths);
  if (!model) return 1;
  const outcomes = simulateEvents(model, events.map((e) => e.event));
  const lines = outcomes.map((outcome, i) => (format === "json" ? JSON.stringify(outcomeJson(outcome)) : describeOutcome(events[i]?.line ?? i + 1, outcome)));
  // Said once, after the events: the rules that stayed silent for want of a fact.
  const missing = findMissingFacts(model, events.map((e) => e.event));
  if (missing) lines.push(format === "json" ? JSON.stringify(missingFactsJson(missing)) : describeMissing(missing));
  if (lines.length > 0) writeOut(lines.join("\n"));
  return 0;
}

function describeMissing(missing: MissingFacts): string {
  const rules = missing.rules.map((r) => `\n  ${r.at.file}:${r.at.line}: ${describeUnmatchableRule(r)}`).join("");
  const fields = missing.lacking.map((f) => `"${f}"`).join(", ");
  return `warning: ${describeMissingFacts(missing)}:${rules}\nhint: add ${fields} to the events; 'mptcp-policy monitor --format json' records ${missing.lacking.length === 1 ? "it" : "them"}`;
}

/** One event per non-blank line; a line that is not an event is exit 2 with its number. */
function readEvents(file: string): { line: number; event: PolicyEvent }[] {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (cause) {
    throw new InputError(`${file}: ${(cause as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : String((cause as Error).message)}`);
  }
  const events: { line: number; event: PolicyEvent }[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new InputError(`${file}:${i + 1}: not JSON: ${(cause as Error).message}`);
    }
    const event = readEvent(value);
    if (typeof event === "string") throw new InputError(`${file}:${i + 1}: ${event}`);
    events.push({ line: i + 1, event });
  }
  return events;
}

function describeOutcome(line: number, outcome: EventOutcome): string {
  const { event } = outcome;
  const head = `${line}: ${event.event}${event.token !== undefined ? ` ${event.token}` : ""}${event.ifname !== undefined ? ` (${event.ifname})` : ""}`;
  if (outcome.zoneClose !== undefined) return `${head}: across a zone: ${outcome.zoneClose}`;
  if (outcome.fired.length === 0) return `${head}: no rule fires`;
  const refused = (outcome.refused ?? []).map((r) => `\n    ${r.action.at.file}:${r.action.at.line}: refused: ${describePlannedAction(r.action)}: ${r.reason}`).join("");
  const actions = outcome.actions.map((a) => `\n    ${a.at.file}:${a.at.line}: ${describePlannedAction(a)}`).join("") + refused;
  const rules = outcome.fired.map((r) => `${r.file}:${r.line}`).join(", ");
  if (outcome.retry) return `${head}: ${rules}: ${describeRetry(outcome.retry)}${actions}`;
  return `${head}: ${rules} fired${actions}`;
}

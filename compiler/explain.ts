// The plan in words, rule by rule, for `mptcp-policy explain` and the playground.
// A pure function of the model, its plan and what the caller says about the kernel.
import { EVENT_BY_NAME } from "../language/vocabulary.js";
import { describeCondition } from "./explain-conditions.js";
import { explainSchedulers, type SchedulerExplainOptions } from "./explain-schedulers.js";
import { zonesOf, type ActionModel, type PolicyModel } from "./model.js";
import { planPolicy, type Plan } from "./plan.js";
import { explainProgramSelection } from "./programs/plan.js";
import { nominalRetryDelaysUs, RETRY_CAP_US } from "./retries.js";

export { describeCondition } from "./explain-conditions.js";
export type { KernelDescription, SchedulerExplainOptions, SchedulerFallbackMode } from "./explain-schedulers.js";

/** ", for the connections of the zone 'isolate vpn' only": an endpoint acts on its zone's connections (nothing without zones). */
function endpointZone(model: PolicyModel, iface: string | undefined): string {
  const zones = zonesOf(model);
  if (zones.length === 0) return "";
  if (iface === undefined) return ", for the connections of the zone of the interface holding the address";
  const zone = zones.find((z) => z.interfaces.includes(iface));
  return zone ? `, for the connections of the zone ${zone.interfaces.join(", ")} only` : ", for the connections of the default zone only";
}

/** What `run` does with each zone: who keeps the connections in it, and how. */
function explainZones(plan: Plan): string[] {
  const zones = plan.zones ?? [];
  if (zones.length === 0) return [];
  const lines = zones.map((z) => `${z.at.file}:${z.at.line}: zone ${z.interfaces.join(", ")}: a connection whose first subflow is on ${z.interfaces.length === 1 ? "it" : "one of them"} keeps all its subflows there, and a connection on another interface gets none there.`);
  lines.push(
    zones[0]?.enforced_by === "kernel"
      ? "  The in-kernel path manager keeps them: 'limits subflows 0 add_addr_accepted 0' leaves it no subflow to add."
      : "  The daemon keeps them: subflows of rules and endpoints are never requested across a zone, nor addresses of another zone announced; the peer's ADD_ADDR is answered only from the zone; a join the peer opens across a zone is closed as soon as its event arrives; the subflows open at start or reload are checked the same way. The interfaces no 'isolate' names form the default zone.",
  );
  return lines;
}

export function explainPolicy(model: PolicyModel, plan: Plan = planPolicy(model), options: SchedulerExplainOptions = {}): string {
  const lines: string[] = [];
  lines.push(
    plan.strategy === "kernel"
      ? "Path manager: the in-kernel path manager (net.mptcp.path_manager = kernel)."
      : "Path manager: the userspace path manager (net.mptcp.path_manager = userspace); the daemon decides for every connection.",
  );
  for (const reason of plan.reasons) lines.push(`  because ${reason}`);
  const limits = [
    plan.limits.subflows !== undefined ? `at most ${count(plan.limits.subflows, "extra subflow")}` : "",
    plan.limits.add_addr_accepted !== undefined ? `at most ${count(plan.limits.add_addr_accepted, "accepted announcement")}` : "",
  ].filter(Boolean);
  if (limits.length > 0) lines.push(`Limits: ${limits.join(", ")} per connection, enforced by the ${plan.limits.enforced_by}.`);
  for (const endpoint of plan.endpoints) {
    const what = endpoint.iface !== undefined ? `every address of ${endpoint.iface}` : endpoint.address;
    const flags = endpoint.flags.length > 0 ? endpoint.flags.join(", ") : "no flags";
    lines.push(`${endpoint.at.file}:${endpoint.at.line}: endpoint ${what} (${flags}${endpoint.port !== undefined ? `, port ${endpoint.port}` : ""}), carried out by the ${endpoint.carried_out_by}${endpointZone(model, endpoint.iface)}.`);
  }
  lines.push(...explainZones(plan));
  if (model.rules.length > 0) lines.push("Rules (for each event the first matching rule fires):");
  for (const rule of model.rules) {
    const noticed = EVENT_BY_NAME.get(rule.event)?.source === "daemon" ? " (noticed by the daemon, which samples the subflows: the kernel sends no such event)" : "";
    const trigger = `on ${rule.event}${rule.iface !== undefined ? ` of ${rule.iface}` : ""}${noticed}`;
    const condition = rule.condition ? `, if ${describeCondition(rule.condition)}` : "";
    lines.push(`${rule.at.file}:${rule.at.line}: ${trigger}${condition}:`);
    for (const action of rule.actions) lines.push(`  - ${describeAction(action)}${action.afterUs > 0 ? `, after ${formatDelay(action.afterUs)}` : ""}${describeRetries(action)}`);
  }
  lines.push(...explainSchedulers(model, plan.strategy, options));
  lines.push(...explainProgramSelection(model));
  return `${lines.join("\n")}\n`;
}

function describeAction(a: ActionModel): string {
  switch (a.op) {
    case "create": {
      const from = a.via !== undefined ? ` from ${a.via}` : a.from !== undefined ? ` from ${a.from.address}` : "";
      const to = typeof a.to === "object" ? a.to.address.address : a.to === "announced" ? "the announced address" : "the peer's address";
      return `open a ${a.backup ? "backup " : ""}subflow${from} to ${to}${a.port !== undefined ? ` port ${a.port}` : ""}`;
    }
    case "destroy":
      return a.via !== undefined ? `close the subflows on ${a.via}` : "close this subflow";
    case "announce":
      return `announce ${"iface" in a.target ? `the addresses of ${a.target.iface}` : a.target.address.address}${a.port !== undefined ? ` with port ${a.port}` : ""} to the peer`;
    case "withdraw":
      return `withdraw ${"iface" in a.target ? `the addresses of ${a.target.iface}` : a.target.address.address}`;
    case "set":
      return a.backup ? `make the subflows on ${a.iface} backups` : `make the subflows on ${a.iface} active (not backup)`;
    case "log":
      return `log "${a.message}"`;
  }
}

/** `retry N` in words, with the nominal waits of compiler/retries.ts. */
function describeRetries(a: ActionModel): string {
  if (a.op !== "create" || a.retry === undefined) return "";
  const delays = nominalRetryDelaysUs(a.afterUs, a.retry).map(formatDelay);
  const times = a.retry === 1 ? "once" : `up to ${a.retry} times`;
  const how = a.retry === 1 ? `at most ${formatDelay(RETRY_CAP_US)}, with jitter` : `doubling, at most ${formatDelay(RETRY_CAP_US)}, with jitter`;
  return `; if it fails to open, tried again ${times} after ${delays.join(", ")} (${how}) until it is established; the connection closing cancels it`;
}

function formatDelay(us: number): string {
  return us % 1_000_000 === 0 ? `${us / 1_000_000}s` : us % 1000 === 0 ? `${us / 1000}ms` : `${us}us`;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

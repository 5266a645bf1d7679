// Events written by hand or recorded by another tool may lack facts that rules test,
// `ifname` most of all. An unknown fact makes its predicate false (a rule never fires
// on a guess), so a rule on `iface` would then never fire, and nothing would say why.
// This finds, once for a run of events, which fields they lack and which rules
// therefore cannot match them. Pure: `simulate --events` and the playground share it.
import { EVENT_BY_NAME } from "../language/vocabulary.js";
import { ConnectionTable } from "./connections.js";
import { factsOf } from "./decide.js";
import type { Facts } from "./evaluate-condition.js";
import type { PolicyEvent } from "./events.js";
import { interfaceMatcher } from "./interfaces.js";
import type { ConditionModel, PolicyModel, RuleModel, SourceRef } from "./model.js";

/**
 * The facts whose absence means "not known". Others are answers when absent: no
 * `error` is a clean close, no `backup` an active subflow; side and subflow counts
 * come from the connection table.
 */
const FACTS = ["ifaces", "family", "local", "remote", "localPort", "remotePort"] as const;
type Fact = (typeof FACTS)[number];

/** The event field each fact is read from (the address of address events is `address`). */
function fieldOf(fact: Fact, event: string): string {
  switch (fact) {
    case "ifaces":
      return "ifname";
    case "family":
      return "family";
    case "local":
      return EVENT_BY_NAME.get(event)?.subject === "address" ? "address" : "saddr";
    case "remote":
      return "daddr";
    case "localPort":
      return "sport";
    case "remotePort":
      return "dport";
  }
}

const FIELD_ORDER = ["ifname", "family", "saddr", "address", "daddr", "sport", "dport"];

export interface UnmatchableRule {
  readonly at: SourceRef;
  readonly event: string;
  /** The event fields it tests that those events lack, such as "ifname". */
  readonly lacking: readonly string[];
  /** How many events of its kind it cannot match for want of them, of how many there are. */
  readonly events: number;
  readonly of: number;
}

export interface MissingFacts {
  /** Every field that some events lack and some rule needs, in a fixed order. */
  readonly lacking: readonly string[];
  /** In the policy's rule order. */
  readonly rules: readonly UnmatchableRule[];
}

/** Events of one kind that lack the same facts, counted together. */
interface EventGroup {
  readonly missing: ReadonlySet<Fact>;
  count: number;
}

/** Undefined when no rule is kept from matching any event by a missing fact. */
export function findMissingFacts(model: PolicyModel, events: readonly PolicyEvent[]): MissingFacts | undefined {
  const groups = groupByMissingFacts(model, events);
  const rules: UnmatchableRule[] = [];
  for (const rule of model.rules) {
    const kind = groups.get(rule.event);
    if (!kind) continue;
    let blocked = 0;
    let total = 0;
    const lacking = new Set<string>();
    for (const group of kind.values()) {
      total += group.count;
      if (!cannotMatch(rule, group.missing)) continue;
      blocked += group.count;
      for (const fact of factsRead(rule)) if (group.missing.has(fact)) lacking.add(fieldOf(fact, rule.event));
    }
    if (blocked > 0) rules.push({ at: rule.at, event: rule.event, lacking: inFieldOrder(lacking), events: blocked, of: total });
  }
  if (rules.length === 0) return undefined;
  return { lacking: inFieldOrder(new Set(rules.flatMap((r) => r.lacking))), rules };
}

/** Per event name, the events grouped by the facts they lack, after the connection table fills in what it knows. */
function groupByMissingFacts(model: PolicyModel, events: readonly PolicyEvent[]): Map<string, Map<string, EventGroup>> {
  const table = new ConnectionTable();
  const matcher = interfaceMatcher(model);
  const groups = new Map<string, Map<string, EventGroup>>();
  for (const event of events) {
    // As the simulator does: these two never reach the rules.
    if (event.event === "overflow" || event.event === "unknown") continue;
    const facts: Facts = factsOf(event, table.apply(event), matcher);
    const missing = FACTS.filter((fact) => facts[fact] === undefined);
    const key = missing.join(" ");
    let kind = groups.get(event.event);
    if (!kind) groups.set(event.event, (kind = new Map()));
    const group = kind.get(key);
    if (group) group.count += 1;
    else kind.set(key, { missing: new Set(missing), count: 1 });
  }
  return groups;
}

function cannotMatch(rule: RuleModel, missing: ReadonlySet<Fact>): boolean {
  if (rule.iface !== undefined && missing.has("ifaces")) return true;
  return rule.condition !== undefined && truth(rule.condition, missing) === false;
}

/**
 * The condition's value when the missing facts' predicates are false (as the
 * evaluator makes them) and every other predicate could go either way (undefined).
 */
function truth(condition: ConditionModel, missing: ReadonlySet<Fact>): boolean | undefined {
  switch (condition.op) {
    case "and":
    case "or": {
      const decisive = condition.op === "or";
      let all: boolean | undefined = !decisive;
      for (const operand of condition.operands) {
        const value = truth(operand, missing);
        if (value === decisive) return decisive;
        if (value === undefined) all = undefined;
      }
      return all;
    }
    case "not": {
      const value = truth(condition.operand, missing);
      return value === undefined ? undefined : !value;
    }
    default: {
      const fact = factOf(condition);
      return fact !== undefined && missing.has(fact) ? false : undefined;
    }
  }
}

/** The fact a predicate tests, if it is one of FACTS. */
function factOf(condition: ConditionModel): Fact | undefined {
  switch (condition.op) {
    case "iface":
      return "ifaces";
    case "family":
      return "family";
    case "address":
      return condition.side;
    case "port":
      return condition.side === "local" ? "localPort" : "remotePort";
    default:
      return undefined;
  }
}

function factsRead(rule: RuleModel): Set<Fact> {
  const read = new Set<Fact>(rule.iface !== undefined ? ["ifaces"] : []);
  const visit = (c: ConditionModel): void => {
    if (c.op === "and" || c.op === "or") c.operands.forEach(visit);
    else if (c.op === "not") visit(c.operand);
    else {
      const fact = factOf(c);
      if (fact) read.add(fact);
    }
  };
  if (rule.condition) visit(rule.condition);
  return read;
}

function inFieldOrder(fields: ReadonlySet<string>): string[] {
  return FIELD_ORDER.filter((f) => fields.has(f));
}

/** The one sentence that says it, for the CLI's text and the playground. */
export function describeMissingFacts(missing: MissingFacts): string {
  const count = missing.rules.length;
  return `the events lack ${listOf(missing.lacking)}, so ${count === 1 ? "1 rule" : `${count} rules`} cannot match them`;
}

/** Per rule: what it cannot match, for want of what ("2 of 3 subflow_closed events lack ifname"). */
export function describeUnmatchableRule(rule: UnmatchableRule): string {
  return `${rule.events} of ${rule.of} ${rule.event} event${rule.of === 1 ? "" : "s"} lack${rule.events === 1 ? "s" : ""} ${listOf(rule.lacking)}`;
}

/** The JSON line of `simulate --events --format json`, positions as "file:line". */
export function missingFactsJson(missing: MissingFacts): Record<string, unknown> {
  return {
    missing: missing.lacking,
    unmatchable_rules: missing.rules.map((r) => ({ rule: `${r.at.file}:${r.at.line}`, event: r.event, missing: r.lacking, events: r.events, of: r.of })),
  };
}

function listOf(fields: readonly string[]): string {
  return fields.length <= 1 ? (fields[0] ?? "") : `${fields.slice(0, -1).join(", ")} and ${fields[fields.length - 1] ?? ""}`;
}

// Evaluating a checked condition against what is known about one event, connection
// or subflow. A fact that is not known makes its predicate false: a rule never fires
// on a guess.
import ipaddr from "ipaddr.js";
import type { Comparison, MetricName } from "../language/vocabulary.js";
import type { ConditionModel, PrefixModel } from "./model.js";

export interface Facts {
  /** Policy interface names the subflow or interface belongs to. */
  readonly ifaces?: readonly string[];
  readonly local?: string;
  readonly remote?: string;
  readonly localPort?: number;
  readonly remotePort?: number;
  readonly family?: "ipv4" | "ipv6";
  readonly side?: "client" | "server";
  readonly backup?: boolean;
  readonly stale?: boolean;
  readonly error?: number;
  readonly subflows?: number;
  readonly metrics?: Partial<Record<MetricName, number>>;
}

export function evaluateCondition(condition: ConditionModel, facts: Facts): boolean {
  switch (condition.op) {
    case "and":
      return condition.operands.every((c) => evaluateCondition(c, facts));
    case "or":
      return condition.operands.some((c) => evaluateCondition(c, facts));
    case "not":
      return !evaluateCondition(condition.operand, facts);
    case "iface":
      return facts.ifaces !== undefined && condition.names.some((n) => facts.ifaces?.includes(n));
    case "address": {
      const address = condition.side === "local" ? facts.local : facts.remote;
      return address !== undefined && condition.prefixes.some((p) => inPrefix(address, p));
    }
    case "port": {
      const port = condition.side === "local" ? facts.localPort : facts.remotePort;
      return port !== undefined && compare(port, condition.cmp, condition.value);
    }
    case "family":
      return facts.family === condition.value;
    case "side":
      return facts.side === condition.value;
    case "backup":
      return facts.backup === true;
    case "active":
      return facts.backup === false;
    case "stale":
      return facts.stale === true;
    case "error":
      return facts.error === condition.errno;
    case "subflows":
      return facts.subflows !== undefined && compare(facts.subflows, condition.cmp, condition.value);
    case "metric": {
      const value = facts.metrics?.[condition.metric];
      return value !== undefined && compare(value, condition.cmp, condition.value);
    }
    case "program":
    case "unit":
    case "cgroup":
    case "user":
      // Facts of the process that created a socket: no event carries them (E704).
      return false;
  }
}

export function compare(left: number, cmp: Comparison, right: number): boolean {
  switch (cmp) {
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
    case "==":
      return left === right;
    case "!=":
      return left !== right;
  }
}

/** IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as the IPv4 address they carry. */
export function inPrefix(address: string, prefix: PrefixModel): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  if (parsed.kind() !== prefix.family) return false;
  return parsed.match(ipaddr.parse(prefix.address), prefix.prefixLength);
}

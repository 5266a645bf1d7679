// Policy conditions in plain words, for `explain` and the playground's simulator.
// Pure and browser-safe.
import type { ConditionModel } from "./model.js";

export function describeCondition(c: ConditionModel): string {
  switch (c.op) {
    case "and":
      return c.operands.map((o) => wrap(o, "or")).join(" and ");
    case "or":
      return c.operands.map((o) => wrap(o, "and")).join(" or ");
    case "not":
      return `not (${describeCondition(c.operand)})`;
    case "iface":
      return c.names.length === 1 ? `the interface is ${c.names[0]}` : `the interface is one of ${c.names.join(", ")}`;
    case "address":
      return `the ${c.side} address is in ${c.prefixes.map((p) => `${p.address}/${p.prefixLength}`).join(" or ")}`;
    case "port":
      return `the ${c.side} port ${words(c.cmp)} ${c.value}`;
    case "family":
      return `the family is ${c.value === "ipv4" ? "IPv4" : "IPv6"}`;
    case "side":
      return c.value === "server" ? "the peer opened the connection" : "this host opened the connection";
    case "backup":
      return "the subflow is a backup";
    case "active":
      return "the subflow is not a backup";
    case "stale":
      return "the subflow is stale";
    case "error":
      return `the subflow closed with ${c.name ?? "errno"} (${c.errno})`;
    case "subflows":
      return `the number of subflows ${words(c.cmp)} ${c.value}`;
    case "metric":
      return `${c.metric} ${words(c.cmp)} ${c.value}`;
    case "program":
      return /[*?[]/.test(c.pattern) ? `the program's name matches "${c.pattern}"` : `the program is "${c.pattern}"`;
    case "unit":
      return `the socket is created in systemd unit ${c.name} (its cgroup or below)`;
    case "cgroup":
      return `the socket is created in cgroup ${c.path} or below`;
    case "user":
      return `the user id is ${c.uid}`;
  }
}

function wrap(c: ConditionModel, lower: "and" | "or"): string {
  return c.op === lower ? `(${describeCondition(c)})` : describeCondition(c);
}

function words(cmp: string): string {
  return { "<": "is below", "<=": "is at most", ">": "is above", ">=": "is at least", "==": "is", "!=": "is not" }[cmp] ?? cmp;
}

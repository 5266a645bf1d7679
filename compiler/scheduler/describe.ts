// Scheduler steps and conditions back in the language's words, for comments in the
// generated C and for the fallback descriptions. Pure and browser-safe.
import type { MetricName } from "../../language/vocabulary.js";
import { METRIC_BY_NAME } from "../../language/vocabulary.js";
import type { ConditionModel, SchedulerModel, SourceRef, StepModel } from "../model.js";

export function describeStep(step: StepModel): string {
  const where = step.where ? ` where ${describeCondition(step.where)}` : "";
  switch (step.mode) {
    case "use_any":
      return "use any";
    case "use":
      return `use${where} by ${step.order?.direction ?? "lowest"} ${step.order?.metric ?? "rtt"}`;
    case "redundant":
      return `redundant${where}`;
    case "round_robin":
      return `round_robin${where}`;
  }
}

export function describeScheduler(scheduler: SchedulerModel): string {
  return `scheduler ${scheduler.name}${scheduler.selector ? ` for ${describeCondition(scheduler.selector)}` : ""}`;
}

export function describeCondition(c: ConditionModel): string {
  switch (c.op) {
    case "and":
    case "or":
      return c.operands.map((o) => (o.op === "and" || o.op === "or" ? `(${describeCondition(o)})` : describeCondition(o))).join(` ${c.op} `);
    case "not":
      return `not ${c.operand.op === "and" || c.operand.op === "or" ? `(${describeCondition(c.operand)})` : describeCondition(c.operand)}`;
    case "iface":
      return c.names.length === 1 ? `iface ${c.names[0]}` : `iface in (${c.names.join(", ")})`;
    case "address": {
      const prefixes = c.prefixes.map((p) => `${p.address}/${p.prefixLength}`);
      return `${c.side} in ${prefixes.length === 1 ? prefixes[0] : `(${prefixes.join(", ")})`}`;
    }
    case "port":
      return `${c.side} port ${c.cmp === "==" ? "" : `${c.cmp} `}${c.value}`;
    case "family":
      return `family ${c.value}`;
    case "side":
      return `side ${c.value}`;
    case "backup":
    case "active":
    case "stale":
      return c.op;
    case "error":
      return `error ${c.name ?? c.errno}`;
    case "subflows":
      return `subflows ${c.cmp} ${c.value}`;
    case "metric":
      return `${c.metric} ${c.cmp} ${describeQuantity(c.metric, c.value)}`;
    case "program":
      return `program ${JSON.stringify(c.pattern)}`;
    case "unit":
      return `unit ${JSON.stringify(c.name)}`;
    case "cgroup":
      return `cgroup ${JSON.stringify(c.path)}`;
    case "user":
      return `user ${c.uid}`;
  }
}

/** A base-unit value in the largest unit that keeps it whole. */
export function describeQuantity(metric: MetricName, value: number): string {
  switch (METRIC_BY_NAME.get(metric)?.dimension) {
    case "time":
      return value % 1_000_000 === 0 && value > 0 ? `${value / 1_000_000}s` : value % 1000 === 0 && value > 0 ? `${value / 1000}ms` : `${value}us`;
    case "bytes":
      return value % 1_048_576 === 0 && value > 0 ? `${value / 1_048_576}MB` : value % 1024 === 0 && value > 0 ? `${value / 1024}KB` : `${value}B`;
    case "rate": {
      const bits = value * 8;
      return bits % 1e9 === 0 && bits > 0
        ? `${bits / 1e9}gbit`
        : bits % 1e6 === 0 && bits > 0
          ? `${bits / 1e6}mbit`
          : bits % 1e3 === 0 && bits > 0
            ? `${bits / 1e3}kbit`
            : `${value} bytes/s`;
    }
    default:
      return String(value);
  }
}

/** `file:line` with the file's last path component, as comments in generated C show it. */
export function shortRef(at: SourceRef): string {
  return `${at.file.split(/[\\/]/).pop() ?? at.file}:${at.line}`;
}

// Lowering a checked syntax tree (no errors) to the policy model: names resolved,
// numbers in base units, addresses normalised, defaults made explicit.
import { baseValue, checkAddress } from "../language/checker/values.js";
import { positionAt, type Span } from "../language/source.js";
import type { Action, AddressLiteral, Condition, Name, PolicyFile, Step } from "../language/syntax-tree.js";
import { ERRNO_NAMES, type EndpointFlag, type MetricName } from "../language/vocabulary.js";
import type { ActionModel, AddressModel, ConditionModel, EndpointModel, InterfaceModel, LimitsModel, PolicyModel, RuleModel, SchedulerModel, SelectionModel, SourceRef, StepModel, ZoneModel } from "./model.js";

export function buildModel(files: readonly PolicyFile[]): PolicyModel {
  const interfaces: InterfaceModel[] = [];
  let limits: LimitsModel = {};
  const endpoints: EndpointModel[] = [];
  const rules: RuleModel[] = [];
  const schedulers: SchedulerModel[] = [];
  const selections: SelectionModel[] = [];
  const zones: ZoneModel[] = [];
  for (const file of files) {
    for (const s of file.statements) {
      switch (s.kind) {
        case "Interface":
          interfaces.push({ name: s.name.text, patterns: s.patterns.map((p) => p.value), at: ref(s.span) });
          break;
        case "Limits":
          for (const entry of s.entries) {
            limits = entry.name.text === "subflows" ? { ...limits, subflows: entry.value.value } : { ...limits, addAddrAccepted: entry.value.value };
          }
          limits = { ...limits, at: limits.at ?? ref(s.span) };
          break;
        case "Endpoint":
          endpoints.push({
            target: s.target.kind === "Name" ? { iface: s.target.text } : { address: address(s.target) },
            flags: s.flags.map((f) => f.text as EndpointFlag),
            ...(s.port ? { port: s.port.value } : {}),
            at: ref(s.span),
          });
          break;
        case "Rule":
          rules.push({
            index: rules.length,
            event: s.event.text,
            ...(s.iface ? { iface: s.iface.text } : {}),
            ...(s.condition ? { condition: condition(s.condition) } : {}),
            actions: s.actions.map(action),
            at: ref(s.span),
          });
          break;
        case "Scheduler":
          schedulers.push({
            name: s.name.text,
            ...(s.selector ? { selector: condition(s.selector) } : {}),
            steps: s.steps.map(step),
            at: ref(s.span),
          });
          break;
        case "Mptcp":
          selections.push({ condition: condition(s.condition), at: ref(s.span) });
          break;
        case "Isolate":
          zones.push({ interfaces: [...new Set(s.interfaces.map((n) => n.text))], at: ref(s.span) });
          break;
      }
    }
  }
  return { interfaces, limits, endpoints, rules, schedulers, ...(selections.length > 0 ? { selections } : {}), ...(zones.length > 0 ? { zones } : {}) };
}

export function ref(at: Span): SourceRef {
  const position = positionAt(at.file, at.start);
  return { file: at.file.name, line: position.line, column: position.column };
}

const ignore = () => undefined;

function address(literal: AddressLiteral): AddressModel {
  const parsed = checkAddress(literal, true, ignore);
  if (!parsed) throw new Error(`unchecked address ${literal.text}`);
  return { family: parsed.family, address: parsed.address };
}

function condition(c: Condition): ConditionModel {
  switch (c.kind) {
    case "And":
    case "Or":
      return { op: c.kind === "And" ? "and" : "or", operands: c.operands.map(condition) };
    case "Not":
      return { op: "not", operand: condition(c.operand) };
    case "Iface":
      return { op: "iface", names: c.names.map((n) => n.text) };
    case "AddressIn":
      return {
        op: "address",
        side: c.side,
        prefixes: c.prefixes.map((p) => {
          const parsed = checkAddress(p, true, ignore);
          if (!parsed) throw new Error(`unchecked prefix ${p.text}`);
          return parsed;
        }),
      };
    case "Port":
      return { op: "port", side: c.side, cmp: c.op, value: c.value.value };
    case "Family":
      return { op: "family", value: c.value.text as "ipv4" | "ipv6" };
    case "Side":
      return { op: "side", value: c.value.text as "client" | "server" };
    case "Flag":
      return { op: c.name.text as "backup" | "active" | "stale" };
    case "Error":
      return c.value.kind === "Name"
        ? { op: "error", errno: ERRNO_NAMES.get(c.value.text) ?? 0, name: c.value.text }
        : { op: "error", errno: c.value.value };
    case "Compare":
      return c.subject.text === "subflows"
        ? { op: "subflows", cmp: c.op, value: c.value.value }
        : { op: "metric", metric: c.subject.text as MetricName, cmp: c.op, value: baseValue(c.value) };
    case "Process":
      switch (c.test) {
        case "program":
          return { op: "program", pattern: c.value.kind === "String" ? c.value.value : "" };
        case "unit":
          return { op: "unit", name: c.value.kind === "String" ? c.value.value : "" };
        case "cgroup":
          return { op: "cgroup", path: c.value.kind === "String" ? c.value.value : "" };
        case "user":
          return { op: "user", uid: c.value.kind === "Number" ? c.value.value : -1 };
      }
  }
}

function target(t: Name | AddressLiteral): { iface: string } | { address: AddressModel } {
  return t.kind === "Name" ? { iface: t.text } : { address: address(t) };
}

function action(a: Action): ActionModel {
  const base = { afterUs: a.after ? baseValue(a.after) : 0, at: ref(a.span) };
  switch (a.kind) {
    case "Create":
      return {
        ...base,
        op: "create",
        ...(a.via ? { via: a.via.text } : {}),
        ...(a.from ? { from: address(a.from) } : {}),
        to: a.to === undefined ? "remote" : a.to.kind === "Address" ? { address: address(a.to) } : (a.to.text as "announced" | "remote"),
        ...(a.port ? { port: a.port.value } : {}),
        backup: a.backup,
        ...(a.retry ? { retry: a.retry.value } : {}),
      };
    case "Destroy":
      return { ...base, op: "destroy", ...(a.via ? { via: a.via.text } : {}) };
    case "Announce":
      return { ...base, op: "announce", target: target(a.target), ...(a.port ? { port: a.port.value } : {}) };
    case "Withdraw":
      return { ...base, op: "withdraw", target: target(a.target) };
    case "Set":
      return { ...base, op: "set", iface: a.iface.text, backup: a.value === "backup" };
    case "Log":
      return { ...base, op: "log", message: a.message.value };
  }
}

function step(s: Step): StepModel {
  const order = s.order ? { direction: s.order.direction, metric: s.order.metric.text as MetricName } : s.mode === "use" ? { direction: "lowest" as const, metric: "rtt" as const } : undefined;
  return { mode: s.mode, ...(s.where ? { where: condition(s.where) } : {}), ...(order ? { order } : {}), at: ref(s.span) };
}

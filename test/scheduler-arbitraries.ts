// Generators for the scheduler tests: random scheduler blocks as policy text (they go
// through the real front end), and snapshots whose values sit on and around the
// thresholds, prefixes, ports and interface patterns a policy tests, so that both
// sides of every comparison are exercised.
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import type { ConditionModel, PolicyModel } from "../compiler/model.js";
import type { Purpose } from "../compiler/scheduler/evaluate.js";
import { METRIC_MAX, type Snapshot, type SubflowSnapshot } from "../compiler/scheduler/snapshot.js";
import { METRICS, type MetricName } from "../language/vocabulary.js";

// ---- random scheduler blocks -------------------------------------------------------

export const RANDOM_INTERFACES = 'interface wifi = "wlan*"\ninterface lte = "wwan0", "usb?"\ninterface eth = "eth[01]"\n';
const IFACES = ["wifi", "lte", "eth"];
const CMPS = ["<", "<=", ">", ">=", "==", "!="];
const PREFIXES = ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.0/24", "0.0.0.0/0", "2001:db8::/32", "2001:db8:dc::/48", "fd00::/8", "::/0", "2001:db8::1/128"];
const METRIC_VALUES: Record<MetricName, string[]> = {
  rtt: ["0us", "1us", "150ms", "20ms", "1s", "4294967295us", "5000s"],
  rtt_var: ["0us", "4ms", "10ms"],
  cwnd: ["0", "1", "10", "4294967295"],
  inflight: ["0", "2", "100"],
  queued: ["0B", "1KB", "64KB", "1MB"],
  pacing: ["0kbit", "1kbit", "10mbit", "1gbit", "1.5kbit"],
  lost: ["0", "1", "10"],
  retrans: ["0", "2"],
};

const connectionAtom: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.constantFrom("local", "remote"), fc.subarray(PREFIXES, { minLength: 1, maxLength: 3 }))
    .map(([side, ps]) => `${side} in ${ps.length === 1 ? ps[0] : `(${ps.join(", ")})`}`),
  fc
    .tuple(fc.constantFrom("local", "remote"), fc.constantFrom("", ...CMPS.map((c) => `${c} `)), fc.constantFrom(1, 443, 1024, 5060, 65535))
    .map(([side, cmp, port]) => `${side} port ${cmp}${port}`),
  fc.constantFrom("family ipv4", "family ipv6", "side client", "side server"),
);

const subflowAtom: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(...METRICS.map((m) => m.name))
      .chain((m) => fc.tuple(fc.constantFrom(...CMPS), fc.constantFrom(...METRIC_VALUES[m])).map(([cmp, v]) => `${m} ${cmp} ${v}`)),
  },
  {
    weight: 2,
    arbitrary: fc.subarray(IFACES, { minLength: 1, maxLength: 2 }).map((ns) => (ns.length === 1 ? `iface ${ns[0]}` : `iface in (${ns.join(", ")})`)),
  },
  { weight: 2, arbitrary: fc.constantFrom("backup", "active", "stale") },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...CMPS), fc.integer({ min: 0, max: 9 })).map(([cmp, n]) => `subflows ${cmp} ${n}`) },
  { weight: 1, arbitrary: connectionAtom },
);

function conditionOf(atom: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const { cond } = fc.letrec<{ cond: string }>((tie) => ({
    cond: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      atom,
      tie("cond").map((c) => `not ${c}`),
      fc.tuple(tie("cond"), fc.constantFrom("and", "or"), tie("cond")).map(([a, op, b]) => `(${a} ${op} ${b})`),
    ),
  }));
  return cond;
}

const step: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.option(conditionOf(subflowAtom), { nil: undefined }),
        fc.option(fc.tuple(fc.constantFrom("lowest", "highest"), fc.constantFrom(...METRICS.map((m) => m.name))), { nil: undefined }),
      )
      .map(([w, by]) => `use${w ? ` where ${w}` : ""}${by ? ` by ${by[0]} ${by[1]}` : ""}`),
  },
  { weight: 1, arbitrary: fc.constant("use any") },
  { weight: 2, arbitrary: fc.option(conditionOf(subflowAtom), { nil: undefined }).map((w) => `redundant${w ? ` where ${w}` : ""}`) },
  { weight: 2, arbitrary: fc.option(conditionOf(subflowAtom), { nil: undefined }).map((w) => `round_robin${w ? ` where ${w}` : ""}`) },
);

/** A policy with 1 to 4 random schedulers (the last one may be the default). */
export const randomSchedulerPolicy: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.tuple(conditionOf(connectionAtom), fc.array(step, { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([blocks, lastIsDefault]) => {
    const text = blocks.map(([selector, steps], i) => {
      const isDefault = lastIsDefault && i === blocks.length - 1;
      return `scheduler s${i}${isDefault ? "" : ` for ${selector}`} {\n${steps.map((s) => `  ${s}\n`).join("")}}\n`;
    });
    return `${RANDOM_INTERFACES}${text.join("")}`;
  });

// ---- snapshots around a policy's values ---------------------------------------------

interface PolicyValues {
  readonly metrics: Map<MetricName, Set<number>>;
  readonly ports: Set<number>;
  readonly prefixes: { family: "ipv4" | "ipv6"; address: string; prefixLength: number }[];
  readonly subflows: Set<number>;
}

function collect(model: PolicyModel): PolicyValues {
  const values: PolicyValues = { metrics: new Map(), ports: new Set([443]), prefixes: [], subflows: new Set() };
  const visit = (c: ConditionModel | undefined): void => {
    if (!c) return;
    switch (c.op) {
      case "and":
      case "or":
        return c.operands.forEach(visit);
      case "not":
        return visit(c.operand);
      case "metric": {
        const set = values.metrics.get(c.metric) ?? new Set<number>();
        for (const v of [c.value - 1, c.value, c.value + 1]) if (v >= 0 && v <= METRIC_MAX[c.metric]) set.add(v);
        values.metrics.set(c.metric, set);
        return;
      }
      case "port":
        for (const v of [c.value - 1, c.value, c.value + 1]) if (v >= 0 && v <= 65535) values.ports.add(v);
        return;
      case "address":
        values.prefixes.push(...c.prefixes);
        return;
      case "subflows":
        values.subflows.add(c.value);
        return;
      default:
        return;
    }
  };
  for (const s of model.schedulers) {
    visit(s.selector);
    s.steps.forEach((st) => visit(st.where));
  }
  return values;
}

/** Interface names that match (and miss) the policy's patterns. */
function ifnames(model: PolicyModel): string[] {
  const names = new Set(["eth9", "lo", "tun0"]);
  for (const i of model.interfaces) {
    for (const p of i.patterns) {
      names.add(
        p
          .replace(/\[(.)[^\]]*\]/g, "$1")
          .replace(/\*/g, "0")
          .replace(/\?/g, "7"),
      );
      names.add(
        p
          .replace(/\[[^\]]*\]/g, "z")
          .replace(/\*/g, "")
          .replace(/\?/g, "x"),
      );
    }
  }
  return [...names].filter((n) => n.length > 0 && n.length <= 15);
}

/** Addresses inside, at the edges of, and just outside the policy's prefixes. */
function addresses(values: PolicyValues, family: "ipv4" | "ipv6"): string[] {
  const out =
    family === "ipv4"
      ? ["10.1.1.1", "192.0.2.7", "198.51.100.1", "0.0.0.0", "255.255.255.255"]
      : ["2001:db8::1", "fe80::1", "::1", "::ffff:10.1.1.1", "2001:db8:dc::7", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"];
  for (const p of values.prefixes) {
    if (p.family !== family) continue;
    const bytes = ipaddr.parse(p.address).toByteArray();
    out.push(p.address);
    const last = [...bytes];
    for (let bit = p.prefixLength; bit < bytes.length * 8; bit++) last[bit >> 3] = (last[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
    out.push(ipaddr.fromByteArray(last).toString());
    if (p.prefixLength > 0) {
      const outside = [...bytes];
      const bit = p.prefixLength - 1;
      outside[bit >> 3] = (outside[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
      out.push(ipaddr.fromByteArray(outside).toString());
    }
  }
  return out;
}

export interface GeneratedInput {
  readonly snapshot: Snapshot;
  readonly turn: number;
  /** New data, or a retransmission (get_retrans: idle subflows only, no turn taken). */
  readonly purpose: Purpose;
}

export function snapshotArbitrary(model: PolicyModel): fc.Arbitrary<GeneratedInput> {
  const values = collect(model);
  const names = ifnames(model);
  const metric = (m: MetricName): fc.Arbitrary<number> =>
    fc.oneof(fc.constantFrom(0, 1, METRIC_MAX[m], ...(values.metrics.get(m) ?? [])), fc.integer({ min: 0, max: Math.min(METRIC_MAX[m], 2_000_000) }));
  const subflow: fc.Arbitrary<SubflowSnapshot> = fc.record({
    ifname: fc.constantFrom(...names),
    metrics: fc.record(Object.fromEntries(METRICS.map((m) => [m.name, metric(m.name)])) as Record<MetricName, fc.Arbitrary<number>>),
    stale: fc.boolean(),
    backup: fc.boolean(),
    active: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    sndbufFull: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });
  const port = fc.oneof(fc.constantFrom(...values.ports), fc.integer({ min: 0, max: 65535 }));
  const connection = fc.constantFrom<"ipv4" | "ipv6">("ipv4", "ipv6").chain((family) =>
    fc.record({
      family: fc.constant(family),
      local: fc.constantFrom(...addresses(values, family)),
      remote: fc.constantFrom(...addresses(values, family)),
      localPort: port,
      remotePort: port,
      side: fc.constantFrom<"client" | "server">("client", "server"),
    }),
  );
  // Several subflows often share a metric value, so ties are exercised too.
  const subflows = fc
    .array(subflow, { minLength: 0, maxLength: 8 })
    .chain((list) =>
      fc
        .boolean()
        .map((tie) => (tie && list.length > 1 ? list.map((s, i) => (i % 2 === 1 ? { ...s, metrics: { ...(list[0] as SubflowSnapshot).metrics } } : s)) : list)),
    );
  return fc.record({
    snapshot: fc.record({ connection, subflows }),
    turn: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(0xffff_ffff, 0xffff_fffe), fc.integer({ min: 0, max: 0xffff_ffff })),
    purpose: fc.oneof({ weight: 3, arbitrary: fc.constant<Purpose>("send") }, { weight: 1, arbitrary: fc.constant<Purpose>("retrans") }),
  });
}

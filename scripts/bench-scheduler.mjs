// The generated decision core next to hand-written C of the same policy, both run in
// this kernel with BPF_PROG_TEST_RUN and `repeat`: nanoseconds per decision and the
// verifier-translated (xlated) instruction counts, as ratios to hand-written (target:
// at most 1.2x on both). Both sit in the same XDP harness (mptcp_policy_test.h) on the
// same snapshot; an empty harness gives the fixed cost, shown separately. The two are
// first checked to answer alike on random snapshots.
//
//   node scripts/bench-scheduler.mjs [--repeat N] [--rounds N]
//
// Needs root, clang-19 and the helper dist/mptcp-policy-bpf (npm run build).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HELPER = join(ROOT, "dist", "mptcp-policy-bpf");
const { values } = parseArgs({ options: { repeat: { type: "string", default: "1000000" }, rounds: { type: "string", default: "7" } } });
const REPEAT = Number(values.repeat);
const ROUNDS = Number(values.rounds);

// The compiler, bundled in memory (the script runs without a TypeScript loader).
const bundle = await build({
  stdin: {
    contents: [
      'export * from "./compiler/pipeline.ts";',
      'export * from "./compiler/scheduler/emit.ts";',
      'export * from "./compiler/scheduler/layout.ts";',
      'export { interfaceMatcher } from "./compiler/interfaces.ts";',
      'export { ifaceClasses, ifaceMask } from "./compiler/scheduler/c-core.ts";',
    ].join("\n"),
    resolveDir: ROOT,
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "node",
  write: false,
  logLevel: "error",
});
const compiler = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);

const HARNESS = `#include "mptcp_policy_types.h"
#include "mptcp_policy_test.h"
char _license[] SEC("license") = "GPL";

/* Timing: the kernel reports whole nanoseconds per run, so the bench programs make
 * DECISIONS decisions per run (a loop clang may not unroll or hoist: the compiler
 * barrier makes it read the snapshot again each time). */
#define DECISIONS 16
#define BENCH_PROGRAM(NAME, SELECT, RUN)                                  \\
	SEC("xdp")                                                        \\
	int NAME(struct xdp_md *ctx)                                      \\
	{                                                                 \\
		void *data = (void *)(long)ctx->data;                     \\
		void *end = (void *)(long)ctx->data_end;                  \\
		struct mpp_result *out = data;                            \\
		struct mpp_test_input *in;                                \\
		__u32 zero = 0, acc = 0;                                  \\
                                                                          \\
		if ((void *)(out + 1) > end)                              \\
			return XDP_ABORTED;                               \\
		in = bpf_map_lookup_elem(&mpp_input, &zero);              \\
		if (!in)                                                  \\
			return XDP_ABORTED;                               \\
		mpp_prepare(&in->snap); /* shared by both, not timed */   \\
		_Pragma("clang loop unroll(disable)")                     \\
		for (int k = 0; k < DECISIONS; k++) {                     \\
			struct mpp_result r = {};                         \\
			int index = SELECT(&in->snap.conn);               \\
			if (index >= 0)                                   \\
				RUN(index, &in->snap, &r);                \\
			acc += r.mask + r.step;                           \\
			asm volatile("" ::: "memory");                    \\
		}                                                         \\
		out->turn = acc;                                          \\
		return XDP_PASS;                                          \\
	}
`;
const DECISIONS = 16;

const CASES = [
  {
    name: 'min-RTT "first"',
    policy: "scheduler first {\n  use by lowest rtt\n}\n",
    // What a person writes for "the usable subflow with the lowest rtt" (usable as
    // mpp_prepare() marks it, once per decision, in the harness both share).
    hand: `static __always_inline int hand_select(const struct mpp_conn *c) { return 0; }
static __always_inline int hand_run(int index, const struct mpp_snapshot *snap, struct mpp_result *r)
{
	int best = -1;
	__u32 best_rtt = 0;

	r->sched = 1;
	for (int i = 0; i < MPP_MAX_SUBFLOWS; i++) {
		const struct mpp_subflow *s = &snap->sf[i];

		if (!(s->flags & MPP_F_USABLE))
			continue;
		if (best < 0 || s->rtt < best_rtt) {
			best = i;
			best_rtt = s->rtt;
		}
	}
	if (best < 0)
		return 0;
	r->step = 1;
	r->mask = 1u << best;
	return 1;
}`,
  },
  {
    name: "two-tier preference",
    policy: 'interface wifi = "wlan0"\nscheduler two_tier {\n  use where iface wifi and not stale by lowest rtt\n  use any\n}\n',
    // One pass: the fastest fresh Wi-Fi subflow, else the first usable one.
    hand: `static __always_inline int hand_select(const struct mpp_conn *c) { return 0; }
static __always_inline int hand_run(int index, const struct mpp_snapshot *snap, struct mpp_result *r)
{
	int best = -1, any = -1;
	__u32 best_rtt = 0;

	r->sched = 1;
	for (int i = 0; i < MPP_MAX_SUBFLOWS; i++) {
		const struct mpp_subflow *s = &snap->sf[i];

		if (!(s->flags & MPP_F_USABLE))
			continue;
		if (any < 0)
			any = i;
		if ((s->iface & 1) && !(s->flags & MPP_F_STALE) && (best < 0 || s->rtt < best_rtt)) {
			best = i;
			best_rtt = s->rtt;
		}
	}
	if (best >= 0) {
		r->step = 1;
		r->mask = 1u << best;
		return 1;
	}
	if (any < 0)
		return 0;
	r->step = 2;
	r->mask = 1u << any;
	return 1;
}`,
  },
];

const EMPTY = `static __always_inline int empty_select(const struct mpp_conn *c) { return -1; }
static __always_inline int empty_run(int index, const struct mpp_snapshot *snap, struct mpp_result *r) { return 0; }
MPP_TEST_PROGRAM(mpp_empty, empty_select, empty_run)
BENCH_PROGRAM(bench_empty, empty_select, empty_run)
`;

function helper(args, input) {
  const result = spawnSync(HELPER, args, { input, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`${HELPER} ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

function clang(dir, source) {
  const result = spawnSync("clang-19", ["-g", "-O2", "-target", "bpf", "-Wall", "-Werror", "-c", source, "-o", source.replace(/\.c$/, ".o")], {
    cwd: dir,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return join(dir, source.replace(/\.c$/, ".o"));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ns per decision (from the bench program) and xlated instructions (of the real one). */
function bench(object, program, benchProgram, input) {
  const runs = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(JSON.parse(helper(["bench", object, benchProgram, String(REPEAT)], input).toString()).ns / DECISIONS);
  const info = JSON.parse(helper(["bench", object, program, "1"], input).toString());
  return { ns: median(runs), xlated: info.xlated_insns };
}

function subflow(ifname, rtt, flags = {}) {
  return {
    ifname,
    metrics: { rtt, rtt_var: 2000, cwnd: 10, inflight: 3, queued: 1000, pacing: 1250000, lost: 0, retrans: 0 },
    stale: false,
    backup: false,
    active: true,
    ...flags,
  };
}
const connection = { family: "ipv4", local: "10.1.1.1", remote: "192.0.2.7", localPort: 40000, remotePort: 443, side: "client" };
const SNAPSHOTS = {
  "4 subflows, Wi-Fi up": {
    connection,
    subflows: [subflow("wwan0", 60000, { backup: true }), subflow("wlan0", 30000), subflow("eth0", 15000), subflow("wlan0", 25000)],
  },
  "8 subflows, no Wi-Fi": { connection, subflows: Array.from({ length: 8 }, (_, i) => subflow(`wwan${i}`, 90000 - i * 7000, { active: i !== 2 })) },
};

function random(seed) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-bench-"));
try {
  console.log(`BPF_PROG_TEST_RUN, repeat ${REPEAT}, median of ${ROUNDS} rounds; kernel ${spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim()}\n`);
  const rows = [];
  for (const c of CASES) {
    const { model } = compiler.compilePolicy([{ name: "bench.policy", text: c.policy }]);
    const caseDir = join(dir, c.name.replace(/\W+/g, "_"));
    spawnSync("mkdir", ["-p", caseDir]);
    for (const f of compiler.emitBpf(model)) writeFileSync(join(caseDir, f.name), f.text);
    writeFileSync(
      join(caseDir, "hand.bpf.c"),
      `${HARNESS}\n${c.hand}\nMPP_TEST_PROGRAM(mpp_hand, hand_select, hand_run)\nBENCH_PROGRAM(bench_hand, hand_select, hand_run)\n${EMPTY}`,
    );
    writeFileSync(
      join(caseDir, "generated.bpf.c"),
      `${HARNESS}\n#include "sched_core.h"\nMPP_TEST_PROGRAM(mpp_test, mpp_select, mpp_run)\nBENCH_PROGRAM(bench_test, mpp_select, mpp_run)\n`,
    );
    const generated = clang(caseDir, "generated.bpf.c");
    const hand = clang(caseDir, "hand.bpf.c");
    const classes = compiler.ifaceClasses(model);
    const match = compiler.interfaceMatcher(model);
    const encode = (s, turn = 0) =>
      Buffer.from(compiler.encodeTestInput(s, { ifaceMasks: s.subflows.map((x) => compiler.ifaceMask(classes, match(x.ifname))), turn }));

    // Same answers first: 2000 random snapshots through both programs.
    const rnd = random(7);
    const names = ["wlan0", "wwan0", "eth0"];
    const inputs = Array.from({ length: 2000 }, () =>
      encode({
        connection,
        subflows: Array.from({ length: Math.floor(rnd() * 9) }, () =>
          subflow(names[Math.floor(rnd() * 3)], Math.floor(rnd() * 4) * 10000, { active: rnd() > 0.2, stale: rnd() > 0.8, backup: rnd() > 0.7 }),
        ),
      }),
    );
    const a = helper(["run", generated, "mpp_test"], Buffer.concat(inputs));
    const b = helper(["run", hand, "mpp_hand"], Buffer.concat(inputs));
    if (!a.equals(b)) throw new Error(`${c.name}: the hand-written program answers differently from the generated one`);

    for (const [label, snapshot] of Object.entries(SNAPSHOTS)) {
      const input = encode(snapshot);
      const empty = bench(hand, "mpp_empty", "bench_empty", input);
      const gen = bench(generated, "mpp_test", "bench_test", input);
      const hw = bench(hand, "mpp_hand", "bench_hand", input);
      rows.push({ policy: c.name, snapshot: label, gen, hw, empty });
    }
  }
  const pad = (s, n) => String(s).padEnd(n);
  const num = (x) => x.toFixed(2);
  console.log(
    pad("policy", 22) +
      pad("snapshot", 23) +
      pad("ns gen", 8) +
      pad("ns hand", 9) +
      pad("ratio", 7) +
      pad("net ratio", 11) +
      pad("xlated gen", 12) +
      pad("xlated hand", 13) +
      pad("ratio", 7) +
      "core ratio",
  );
  for (const r of rows) {
    const net = (r.gen.ns - r.empty.ns) / Math.max(1, r.hw.ns - r.empty.ns);
    const core = (r.gen.xlated - r.empty.xlated) / Math.max(1, r.hw.xlated - r.empty.xlated);
    console.log(
      pad(r.policy, 22) +
        pad(r.snapshot, 23) +
        pad(r.gen.ns.toFixed(1), 8) +
        pad(r.hw.ns.toFixed(1), 9) +
        pad(num(r.gen.ns / r.hw.ns), 7) +
        pad(num(net), 11) +
        pad(r.gen.xlated, 12) +
        pad(r.hw.xlated, 13) +
        pad(num(r.gen.xlated / r.hw.xlated), 7) +
        num(core),
    );
  }
  const empty = rows[0]?.empty;
  console.log(
    `\nns: per decision, ${DECISIONS} decisions per test run. Empty harness: ${empty?.ns.toFixed(1)} ns per decision (loop only), ${empty?.xlated} xlated instructions`,
  );
  console.log('(map lookup, result write) in the single-decision program; "net" and "core" subtract them.');
  console.log("target: generated at most 1.2x hand-written, in time and in instructions.");
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// `simulate --engine bpf`: the generated decision core run in this kernel through
// BPF_PROG_TEST_RUN, answering the same question as the reference evaluator on the
// same input. The policy is compiled into a temporary directory once per engine.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import { ifaceClasses, ifaceMask } from "../../compiler/scheduler/c-core.js";
import type { Purpose, ScheduleDecision } from "../../compiler/scheduler/evaluate.js";
import { decodeResult, encodeTestInput } from "../../compiler/scheduler/layout.js";
import { connectionKey } from "../../compiler/scheduler/simulate.js";
import type { Snapshot } from "../../compiler/scheduler/snapshot.js";
import { testRun } from "./helper.js";
import { emitBpf, TEST_FILE } from "../../compiler/scheduler/emit.js";
import { compileBpf, writeFiles } from "./toolchain.js";

export interface EngineInput {
  readonly snapshot: Snapshot;
  /** The round_robin turn; undefined: kept per connection from earlier snapshots. */
  readonly turn?: number;
  /** Run this scheduler (index) alone instead of choosing by `for`. */
  readonly force?: number;
  /** New data (default) or a retransmission. */
  readonly purpose?: Purpose;
}

export class BpfEngine {
  readonly dir: string;
  readonly object: string;
  private readonly classes: readonly string[];
  private readonly match: (ifname: string) => string[];

  constructor(private readonly model: PolicyModel) {
    this.dir = mkdtempSync(join(tmpdir(), "mptcp-policy-bpf-"));
    writeFiles(this.dir, emitBpf(model));
    this.object = compileBpf(this.dir, TEST_FILE);
    this.classes = ifaceClasses(model);
    this.match = interfaceMatcher(model);
  }

  /** Decisions in input order; turns of inputs without one are tracked per connection. */
  run(inputs: readonly EngineInput[]): ScheduleDecision[] {
    const ids = new Map<string, number>();
    const records = inputs.map(({ snapshot, turn, force, purpose }) => {
      let tracked = 0;
      if (turn === undefined) {
        const key = connectionKey(snapshot);
        tracked = ids.get(key) ?? ids.size + 1;
        ids.set(key, tracked);
      }
      const ifaceMasks = snapshot.subflows.map((s) => ifaceMask(this.classes, this.match(s.ifname)));
      return encodeTestInput(snapshot, {
        ifaceMasks,
        turn: turn ?? 0,
        tracked,
        ...(purpose ? { purpose } : {}),
        ...(force === undefined ? {} : { force: force + 1 }),
      });
    });
    if (ids.size >= 65536) throw new Error("too many connections in one run (at most 65535)");
    return testRun(this.object, records).map((bytes) => {
      const r = decodeResult(bytes);
      const scheduled = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => (r.mask >> i) & 1);
      const scheduler = r.sched === 0 ? null : (this.model.schedulers[r.sched - 1]?.name ?? `#${r.sched}`);
      return { scheduler, step: r.step === 0 ? null : r.step, scheduled, turn: r.turn };
    });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

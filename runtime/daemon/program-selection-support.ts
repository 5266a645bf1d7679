// The policy's `mptcp for` statements at run time: the socket hook attached where the
// kernel takes it (runtime/bpf/program-selection.ts), swapped in place on reload,
// detached at stop, and one log line where the kernel cannot (no update_socket_protocol
// before Linux 6.6, or BPF trampolines refused): the rest of the policy runs anyway.
import type { PolicyModel, SelectionModel } from "../../compiler/model.js";
import { selectionsOf } from "../../compiler/model.js";
import type { CgroupRef } from "../../compiler/programs/layout.js";
import { planProgramSelection } from "../../compiler/programs/plan.js";
import { attachProgramSelection, detachProgramSelection, programPin, type CgroupResolution } from "../bpf/program-selection.js";
import type { KernelFeatures } from "../kernel/features.js";
import type { Logger } from "./logger.js";
import { programSelectionStatePath, removeProgramSelectionState, writeProgramSelectionState, type ProgramSelectionState } from "./program-selection-state.js";

export class ProgramSelectionSupport {
  private attached = false;
  private readonly statePath: string;

  constructor(
    private readonly logger: Logger,
    stateDir: string | undefined,
  ) {
    this.statePath = programSelectionStatePath(stateDir);
  }

  /** At start and on every reload: make the kernel select what this policy selects. */
  apply(model: PolicyModel, kernel: KernelFeatures, dryRun: boolean): void {
    const selections = selectionsOf(model);
    const plan = planProgramSelection(model);
    if (selections.length === 0 || !plan) {
      if (!dryRun) this.detach(this.attached ? "the policy has no 'mptcp for' any more" : "a previous run left it attached");
      return;
    }
    const lines = where(selections);
    const base = { hook: plan.hook, statements: plan.statements.map((s) => ({ at: `${s.at.file}:${s.at.line}`, condition: s.condition })), since: new Date().toISOString(), pid: process.pid };
    const hook = kernel.features.socket_protocol_hook;
    if (hook.available !== true) {
      const reason = hook.available === null ? `it could not be told whether this kernel takes the socket hook: ${hook.how}` : `this kernel cannot run the socket hook: ${hook.how}`;
      this.logger.warn({ at: lines, feature: "socket_protocol_hook", release: kernel.release }, `${lines}: programs are not made MPTCP: ${reason}; the rest of the policy is enforced`);
      this.record({ ...base, state: "unavailable", reason, cgroups: [] });
      return;
    }
    if (dryRun) {
      this.logger.info({ at: lines }, "dry run: the socket hook for 'mptcp for' is not attached");
      this.record({ ...base, state: "dry_run", cgroups: [] });
      return;
    }
    try {
      const result = attachProgramSelection(model);
      this.attached = true;
      for (const c of result.cgroups) {
        if (c.missing) this.logger.warn({ at: lines, test: testText(c.ref) }, `${testText(c.ref)}: ${c.missing}: it selects nothing until the policy is reloaded`);
      }
      this.logger.info({ at: lines, pin: result.pin, replaced: result.replaced, cgroups: result.cgroups.map(cgroupEntry) }, "programs made MPTCP: socket hook attached");
      this.record({ ...base, state: "attached", cgroups: result.cgroups.map(cgroupEntry) });
    } catch (error) {
      const stays = this.attached ? "; the previous selection stays" : "";
      this.logger.warn({ at: lines, err: error }, `${lines}: programs are not made MPTCP: ${(error as Error).message}${stays}`);
      if (!this.attached) this.record({ ...base, state: "failed", reason: (error as Error).message, cgroups: [] });
    }
  }

  /** At stop: detach, so no socket becomes MPTCP once the daemon is gone. */
  stop(): void {
    this.detach("the daemon stops");
  }

  private detach(why: string): void {
    try {
      if (detachProgramSelection()) this.logger.info({ reason: why, pin: programPin() }, "socket hook detached: programs' new sockets stay TCP");
    } catch (error) {
      this.logger.warn({ err: error }, "could not detach the socket hook");
    }
    this.attached = false;
    removeProgramSelectionState(this.statePath);
  }

  private record(state: ProgramSelectionState): void {
    try {
      writeProgramSelectionState(this.statePath, state);
    } catch (error) {
      this.logger.debug({ err: error, file: this.statePath }, "could not write the program selection's state");
    }
  }
}

function where(selections: readonly SelectionModel[]): string {
  const files = new Set(selections.map((s) => s.at.file));
  return selections.map((s, i) => (i === 0 || files.size > 1 ? `${s.at.file}:${s.at.line}` : String(s.at.line))).join(",");
}

function testText(ref: CgroupRef): string {
  return ref.kind === "unit" ? `unit "${ref.name}"` : `cgroup "${ref.path}"`;
}

function cgroupEntry(c: CgroupResolution): ProgramSelectionState["cgroups"][number] {
  return { test: testText(c.ref), ...(c.found ? { path: c.found.path, id: String(c.found.id) } : {}), ...(c.missing ? { missing: c.missing } : {}) };
}

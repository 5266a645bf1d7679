// The `status` entry for `mptcp for`: what the daemon of this namespace selects and
// whether the socket hook is attached, from its state file and the kernel's pin.
import { currentNetns, programPin } from "../bpf/program-selection.js";
import { existsSync, statSync } from "node:fs";
import { programSelectionStatePath, readProgramSelectionState, type ProgramSelectionState } from "../daemon/program-selection-state.js";

export interface ProgramSelectionStatus {
  /** none: no daemon of this namespace has a `mptcp for`; left_behind: a pin without a running daemon's record. */
  readonly state: ProgramSelectionState["state"] | "none" | "left_behind";
  /** The kernel holds this namespace's socket hook (its pin exists). */
  readonly pinned: boolean;
  readonly hook?: string;
  readonly reason?: string;
  readonly statements: ProgramSelectionState["statements"];
  readonly cgroups: ProgramSelectionState["cgroups"];
  readonly since?: string;
  readonly pid?: number;
}

/** The namespace's inode: this process's, or that of `ip netns` NAME. */
function netnsInode(netns: string | undefined): number {
  return netns === undefined ? currentNetns() : statSync(`/run/netns/${netns}`).ino;
}

export function readProgramSelectionStatus(options: { netns?: string | undefined; stateDir?: string | undefined }): ProgramSelectionStatus {
  const inode = netnsInode(options.netns);
  const pinned = existsSync(programPin(inode));
  const state = readProgramSelectionState(programSelectionStatePath(options.stateDir, inode));
  const alive = state !== undefined && processAlive(state.pid);
  if (!state || !alive) return { state: pinned ? "left_behind" : "none", pinned, statements: [], cgroups: [] };
  return { ...state, pinned };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function formatProgramSelection(s: ProgramSelectionStatus): string[] {
  const head = {
    attached: `attached (${s.hook ?? "socket hook"}${s.since ? `, since ${s.since}` : ""})`,
    unavailable: `not attached: ${s.reason ?? ""}`,
    failed: `not attached: ${s.reason ?? ""}`,
    dry_run: "not attached (dry run)",
    none: "none (no running daemon of this namespace has 'mptcp for')",
    left_behind: "a socket hook is attached but no daemon runs: the next 'run' replaces or removes it",
  }[s.state];
  const lines = [`programs made MPTCP: ${head}`];
  for (const statement of s.statements) lines.push(`  ${statement.at}: mptcp for ${statement.condition}`);
  for (const c of s.cgroups) lines.push(`  ${c.test}: ${c.path ? `cgroup ${c.path} (id ${c.id})` : (c.missing ?? "")}`);
  return lines;
}

// What the daemon did with the `mptcp for` statements, kept in a file per network
// namespace beside its saved state, so that `status` can list what is selected and
// whether the socket hook is attached (the kernel's pin says only that a program is).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { currentNetns } from "../bpf/program-selection.js";
import { DEFAULT_STATE_DIR } from "./saved-state.js";

export type ProgramSelectionStateName = "attached" | "unavailable" | "failed" | "dry_run";

export interface ProgramSelectionState {
  readonly state: ProgramSelectionStateName;
  readonly hook: string;
  /** Why it is not attached (unavailable, failed). */
  readonly reason?: string;
  readonly statements: readonly { readonly at: string; readonly condition: string }[];
  /** The cgroup and unit tests, and the cgroup each was found at. */
  readonly cgroups: readonly { readonly test: string; readonly path?: string; readonly id?: string; readonly missing?: string }[];
  readonly since: string;
  readonly pid: number;
}

export function programSelectionStatePath(dir: string = DEFAULT_STATE_DIR, netns = currentNetns()): string {
  return join(dir, `programs-netns-${netns}.json`);
}

export function writeProgramSelectionState(path: string, state: ProgramSelectionState): void {
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, JSON.stringify(state), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function readProgramSelectionState(path: string): ProgramSelectionState | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as ProgramSelectionState;
  } catch {
    return undefined;
  }
}

export function removeProgramSelectionState(path: string): void {
  rmSync(path, { force: true });
}

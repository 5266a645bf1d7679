// Attaching the `mptcp for` statements: build the socket hook's object (clang), find
// the cgroups its data names, and have the helper load it with that data and attach
// it (fmod_ret on update_socket_protocol). The link is pinned per network namespace,
// so a new policy replaces it in place (the old program runs until the new one does),
// and a daemon that died leaves a pin the next start replaces or removes.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PolicyModel } from "../../compiler/model.js";
import { emitProgramSelection, SOCKET_SOURCE_FILE } from "../../compiler/programs/emit.js";
import { encodeSelection, selectionSlots, type CgroupRef, type ResolvedCgroup } from "../../compiler/programs/layout.js";
import { POLICY_PIN_ROOT } from "./attach.js";
import { findCgroup, withCgroup2Root, type FoundCgroup } from "./cgroups.js";
import { compileBpf, findHelper, writeFiles } from "./toolchain.js";

/** Attaching failed; the message is one sentence for users, the log what libbpf said. */
export class ProgramSelectionError extends Error {
  override readonly name = "ProgramSelectionError";
  constructor(
    message: string,
    readonly log = "",
  ) {
    super(message);
  }
}

/** The network namespace's inode number: what the hook compares, and what names the pin. */
export function currentNetns(): number {
  return statSync("/proc/self/ns/net").ino;
}

export function programPin(netns = currentNetns()): string {
  return `${POLICY_PIN_ROOT}/programs-netns-${netns}`;
}

export interface CgroupResolution {
  readonly ref: CgroupRef;
  readonly found?: FoundCgroup;
  /** Why it matches nothing, when it was not found. */
  readonly missing?: string;
}

export interface ProgramAttachResult {
  readonly pin: string;
  /** A pin was there before: an earlier policy's program (or a dead run's) was replaced. */
  readonly replaced: boolean;
  readonly cgroups: readonly CgroupResolution[];
}

export function resolveCgroups(model: PolicyModel): CgroupResolution[] {
  const refs = selectionSlots(model).cgroups;
  if (refs.length === 0) return [];
  return withCgroup2Root((root) =>
    refs.map((ref) => {
      const lookup = findCgroup(ref, root);
      return "found" in lookup ? { ref, found: lookup.found } : { ref, missing: lookup.missing };
    }),
  );
}

export function attachProgramSelection(model: PolicyModel): ProgramAttachResult {
  const netns = currentNetns();
  const pin = programPin(netns);
  const replaced = existsSync(pin);
  const cgroups = resolveCgroups(model);
  const data = encodeSelection(selectionSlots(model), {
    netns,
    cgroups: cgroups.map((c): ResolvedCgroup | undefined => c.found && { id: c.found.id, level: c.found.level }),
  });
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-programs-"));
  try {
    writeFiles(dir, emitProgramSelection(model));
    const object = compileBpf(dir, SOCKET_SOURCE_FILE);
    const result = spawnSync(findHelper(), ["socket-attach", object, pin], { input: data });
    if (result.error) throw new ProgramSelectionError(`cannot run the BPF helper: ${result.error.message}`);
    if (result.status !== 0) {
      const stderr = result.stderr.toString("utf8");
      const line = stderr.split("\n").find((l) => l.startsWith("error: "))?.slice("error: ".length) ?? `status ${result.status}`;
      throw new ProgramSelectionError(`the kernel refused the socket hook (${line})`, stderr);
    }
    return { pin, replaced, cgroups };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Remove this namespace's program (unpinning the link detaches it); whether one was there. */
export function detachProgramSelection(netns = currentNetns()): boolean {
  const pin = programPin(netns);
  if (!existsSync(pin)) return false;
  rmSync(pin, { force: true });
  return true;
}

export function programSelectionAttached(netns = currentNetns()): boolean {
  return existsSync(programPin(netns));
}

// Attaching a policy's schedulers: check the kernel has the hook (BTF), build the
// struct_ops object, register its schedulers, fill the address → interface class map,
// and select the policy's scheduler for this network namespace (net.mptcp.scheduler).
// Detaching undoes it. The daemon (`run`) calls the same functions, at start, on reload
// and at stop. The kernel binds a scheduler to a socket when the socket is created
// (mptcp_init_sock), and a connection accepted from a listener takes the listener's
// (mptcp_sk_clone_init): selecting one changes nothing for sockets that exist.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { interfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import { ifaceClasses, ifaceMask } from "../../compiler/scheduler/c-core.js";
import { DISPATCHER_NAME, schedulerNameProblems, schedulerOfStructOps, selectedScheduler } from "../../compiler/scheduler/emit.js";
import { addressWords } from "../../compiler/scheduler/layout.js";
import { detectSchedulerHookIn } from "./hook.js";
import { VMLINUX_BTF } from "./btf.js";
import { attachObject, BpfLoadError, detachPinned } from "./helper.js";
import { conflictSentence, registeredNames, registrationConflicts } from "./registrations.js";
import { buildPolicy, findHelper } from "./toolchain.js";

export const POLICY_PIN_ROOT = "/sys/fs/bpf/mptcp-policy";
export const PIN_DIR = `${POLICY_PIN_ROOT}/schedulers`;
export const IFACE_MAP_PIN = `${POLICY_PIN_ROOT}/mpp_iface`;
export const SCHEDULER_SYSCTL = "/proc/sys/net/mptcp/scheduler";
const AVAILABLE_SYSCTL = "/proc/sys/net/mptcp/available_schedulers";

/** Attaching is impossible or failed; the message is one sentence for users. */
export class AttachError extends Error {
  override readonly name = "AttachError";
  constructor(
    message: string,
    readonly log = "",
  ) {
    super(message);
  }
}

export interface AttachResult {
  /** Kernel names registered now. */
  readonly registered: readonly string[];
  /** Kernel names an earlier attach had left registered (replaced). */
  readonly replaced: readonly string[];
  readonly selected: string;
}

/**
 * Attach all of the policy's schedulers or none, replacing what an earlier attach of
 * ours registered (after a crash those registrations survive). Everything that can fail
 * without the kernel (names, hook, build, name conflicts) is checked before anything
 * changes; a failure after that leaves no scheduler of ours registered and
 * net.mptcp.scheduler at 'default'.
 */
export function attachPolicy(model: PolicyModel, options: { btf?: string } = {}): AttachResult {
  const problems = schedulerNameProblems(model);
  if (problems.length > 0) throw new AttachError(problems.join("; "));
  const selected = selectedScheduler(model);
  if (!selected) throw new AttachError("the policy has no scheduler blocks, so there is nothing to attach");
  const hook = detectSchedulerHookIn(options.btf ?? VMLINUX_BTF);
  if (!hook.present) throw new AttachError(`cannot attach: ${hook.sentence}`);
  if (!existsSync(SCHEDULER_SYSCTL))
    throw new AttachError(`cannot attach: ${SCHEDULER_SYSCTL} is missing (is MPTCP enabled in this kernel and this network namespace?)`);
  const wanted = registeredNames(model);
  const before = pinnedSchedulers();
  const conflicts = registrationConflicts(wanted, availableSchedulers(), before);
  if (conflicts.length > 0) throw new AttachError(conflictSentence(conflicts));
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-attach-"));
  try {
    const built = buildPolicy(model, dir);
    let maps;
    try {
      maps = attachObject(built.structOps, PIN_DIR);
    } catch (cause) {
      // Pins still there: the object did not load, and what was attached before stays.
      const kept = pinnedSchedulers().length > 0;
      if (!kept) selectDefaultIf([...before, ...wanted]);
      removeEmptyPinDirs();
      const stays = kept ? "; the schedulers attached before stay" : "";
      if (cause instanceof BpfLoadError) throw new AttachError(`cannot attach: the kernel refused the schedulers (${cause.message})${stays}`, cause.log);
      throw cause;
    }
    try {
      fillInterfaceClasses(model);
      writeFileSync(SCHEDULER_SYSCTL, selected);
    } catch (cause) {
      detachPolicy();
      if (cause instanceof AttachError) throw cause;
      throw new AttachError(`cannot attach: selecting '${selected}' failed (${(cause as Error).message}); the schedulers were unregistered again`);
    }
    return { registered: schedulerNames(maps.registered), replaced: schedulerNames(maps.unregistered), selected };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DetachResult {
  /** Kernel names unregistered. */
  readonly unregistered: readonly string[];
  /** net.mptcp.scheduler named one of ours and is back to 'default'. */
  readonly restored: boolean;
}

/**
 * Undo attach completely: net.mptcp.scheduler back to 'default' when it names one of
 * ours (another choice is left alone), every registration we pinned unregistered, the
 * pins and the interface map removed. Connections opened meanwhile keep the scheduler
 * they bound to until they close: the kernel holds a reference.
 */
export function detachPolicy(): DetachResult {
  const restored = selectDefaultIf([...pinnedSchedulers(), DISPATCHER_NAME]);
  let unregistered: string[] = [];
  try {
    if (existsSync(PIN_DIR)) unregistered = schedulerNames(detachPinned(PIN_DIR));
  } catch (cause) {
    if (cause instanceof BpfLoadError) throw new AttachError(`cannot detach: ${cause.message}`, cause.log);
    throw cause;
  }
  rmSync(IFACE_MAP_PIN, { force: true });
  removeEmptyPinDirs();
  return { unregistered, restored };
}

/** Our pin directories, where nothing is left in them. */
function removeEmptyPinDirs(): void {
  for (const dir of [PIN_DIR, POLICY_PIN_ROOT]) {
    try {
      rmdirSync(dir);
    } catch {
      // not there, or not empty: leave it
    }
  }
}

/** The schedulers the kernel has registered (all network namespaces share them). */
function availableSchedulers(): string[] {
  try {
    return readFileSync(AVAILABLE_SYSCTL, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** Kernel names of what an earlier attach pinned (and so registered). */
function pinnedSchedulers(): string[] {
  try {
    return schedulerNames(readdirSync(PIN_DIR));
  } catch {
    return [];
  }
}

function schedulerNames(variables: readonly string[]): string[] {
  return variables.map((v) => schedulerOfStructOps(v) ?? v);
}

/** Put net.mptcp.scheduler back to 'default' if it names one of these (ours). */
function selectDefaultIf(ours: readonly string[]): boolean {
  if (!existsSync(SCHEDULER_SYSCTL)) return false;
  const current = readFileSync(SCHEDULER_SYSCTL, "utf8").trim();
  if (current === "default" || !ours.includes(current)) return false;
  writeFileSync(SCHEDULER_SYSCTL, "default");
  return true;
}

/** Records of the pinned address → class map for this host's current addresses. */
export function interfaceClassRecords(model: PolicyModel, interfaces = networkInterfaces()): Uint8Array[] {
  const classes = ifaceClasses(model);
  const match = interfaceMatcher(model);
  const records: Uint8Array[] = [];
  for (const [ifname, addresses] of Object.entries(interfaces)) {
    const mask = ifaceMask(classes, match(ifname));
    if (mask === 0n) continue;
    for (const a of addresses ?? []) {
      const { kind, words } = addressWords(a.address.replace(/%.*$/, ""));
      const record = new Uint8Array(28);
      const view = new DataView(record.buffer);
      view.setUint32(0, kind, true);
      words.forEach((w, i) => view.setUint32(4 + 4 * i, w, false));
      view.setBigUint64(20, mask, true);
      records.push(record);
    }
  }
  return records;
}

function fillInterfaceClasses(model: PolicyModel): void {
  const records = interfaceClassRecords(model);
  const result = spawnSync(findHelper(), ["set-iface", IFACE_MAP_PIN], { input: Buffer.concat(records) });
  if (result.status !== 0) throw new AttachError(`cannot fill the interface map: ${result.stderr.toString("utf8").trim()}`);
}

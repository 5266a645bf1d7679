// Attaching a policy's schedulers: check the kernel has the hook (BTF), build the
// struct_ops object, register its schedulers, fill the address → interface class map,
// and select the policy's scheduler for this network namespace (net.mptcp.scheduler).
// Detaching undoes it. The daemon (`run`) calls the same functions.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { interfaceMatcher } from "../../compiler/interfaces.js";
import type { PolicyModel } from "../../compiler/model.js";
import { ifaceClasses, ifaceMask } from "../../compiler/scheduler/c-core.js";
import { schedulerNameProblems, schedulerOfStructOps, selectedScheduler } from "../../compiler/scheduler/emit.js";
import { addressWords } from "../../compiler/scheduler/layout.js";
import { detectSchedulerHookIn } from "./hook.js";
import { VMLINUX_BTF } from "./btf.js";
import { attachObject, BpfLoadError, detachPinned } from "./helper.js";
import { buildPolicy, findHelper } from "./toolchain.js";

export const PIN_DIR = "/sys/fs/bpf/mptcp-policy/schedulers";
export const IFACE_MAP_PIN = "/sys/fs/bpf/mptcp-policy/mpp_iface";
export const SCHEDULER_SYSCTL = "/proc/sys/net/mptcp/scheduler";

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
  readonly registered: readonly string[];
  readonly selected: string;
}

export function attachPolicy(model: PolicyModel, options: { btf?: string } = {}): AttachResult {
  const problems = schedulerNameProblems(model);
  if (problems.length > 0) throw new AttachError(problems.join("; "));
  const selected = selectedScheduler(model);
  if (!selected) throw new AttachError("the policy has no scheduler blocks, so there is nothing to attach");
  const hook = detectSchedulerHookIn(options.btf ?? VMLINUX_BTF);
  if (!hook.present) throw new AttachError(`cannot attach: ${hook.sentence}`);
  if (!existsSync(SCHEDULER_SYSCTL))
    throw new AttachError(`cannot attach: ${SCHEDULER_SYSCTL} is missing (is MPTCP enabled in this kernel and this network namespace?)`);
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-attach-"));
  try {
    const built = buildPolicy(model, dir);
    try {
      attachObject(built.structOps, PIN_DIR);
    } catch (cause) {
      if (cause instanceof BpfLoadError) throw new AttachError(`cannot attach: the kernel refused the schedulers (${cause.message})`, cause.log);
      throw cause;
    }
    fillInterfaceClasses(model);
    writeFileSync(SCHEDULER_SYSCTL, selected);
    const registered = model.schedulers.map((s) => s.name);
    return { registered: registered.includes(selected) ? registered : [...registered, selected], selected };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Put the scheduler back to the kernel's default and unregister what attach registered. */
export function detachPolicy(): string[] {
  if (existsSync(SCHEDULER_SYSCTL) && readFileSync(SCHEDULER_SYSCTL, "utf8").trim() !== "default") writeFileSync(SCHEDULER_SYSCTL, "default");
  if (!existsSync(PIN_DIR)) return [];
  try {
    return detachPinned(PIN_DIR).map((variable) => schedulerOfStructOps(variable) ?? variable);
  } catch (cause) {
    if (cause instanceof BpfLoadError) throw new AttachError(`cannot detach: ${cause.message}`, cause.log);
    throw cause;
  }
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

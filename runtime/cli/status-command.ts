// `mptcp-policy status [--format text|json] [-n NETNS]`: the namespace's path
// manager, limits, endpoints, and live MPTCP connections with their subflows.
import { formatOption, type Command } from "./command.js";
import { FEATURE_DESCRIPTIONS, FEATURE_NAMES, probeKernelFeatures, type KernelFeatures } from "../kernel/features.js";
import { MptcpPathManager } from "../netlink/index.js";
import { readStatus, type MptcpStatus } from "../netlink/status.js";
import { UsageError } from "./errors.js";
import { netnsOption, reportFailure } from "./monitor-command.js";
import { writeOut } from "./output.js";
import { formatProgramSelection, readProgramSelectionStatus, type ProgramSelectionStatus } from "./program-selection-status.js";

const endpoint = (address: string, port: number, family: string): string => (family === "ipv6" ? `[${address}]:${port}` : `${address}:${port}`);

/** What `status` shows: the namespace's state and what its kernel can do. */
export interface StatusReport extends MptcpStatus {
  /** The sysctl that switches the path manager here (net.mptcp.path_manager or net.mptcp.pm_type). */
  readonly path_manager_sysctl: string | null;
  readonly kernel_features: { readonly release: string } & KernelFeatures["features"];
  /** `mptcp for`: what is selected and whether the socket hook is attached. */
  readonly program_selection?: ProgramSelectionStatus;
}

export function statusReport(status: MptcpStatus, kernel: KernelFeatures, programs?: ProgramSelectionStatus): StatusReport {
  const pmSwitch = kernel.features.path_manager_switch;
  return {
    ...status,
    ...(programs ? { program_selection: programs } : {}),
    path_manager_sysctl: pmSwitch.available ? `net.mptcp.${String(pmSwitch.value)}` : null,
    kernel_features: { release: kernel.release, ...kernel.features },
  };
}

/** One line per kernel feature: name, yes/no/unknown (value), how it was told. */
export function formatKernelFeatures(kernel: KernelFeatures): string[] {
  const width = Math.max(...FEATURE_NAMES.map((n) => FEATURE_DESCRIPTIONS[n].length));
  return FEATURE_NAMES.map((name) => {
    const f = kernel.features[name];
    const answer = f.available === null ? "unknown" : f.available ? "yes" : "no";
    const value = f.value !== undefined && f.value !== "" ? ` (${f.value})` : "";
    return `  ${FEATURE_DESCRIPTIONS[name].padEnd(width)}  ${answer}${value}: ${f.how}`;
  });
}

/** The status as text (like `ip mptcp endpoint` and `ss -M` lines) or as one JSON object. */
export function formatStatus(status: StatusReport, format: "text" | "json"): string {
  if (format === "json") return JSON.stringify(status, null, 2);
  const lines: string[] = [];
  const via = status.path_manager_sysctl ? ` (${status.path_manager_sysctl})` : "";
  lines.push(`path manager: ${status.path_manager}${via}${status.enabled ? "" : " (MPTCP disabled: net.mptcp.enabled=0)"}`);
  lines.push(`limits: subflows ${status.limits.subflows} add_addr_accepted ${status.limits.add_addr_accepted}`);
  lines.push(`endpoints:${status.endpoints.length === 0 ? " none" : ""}`);
  for (const e of status.endpoints) {
    const parts = [e.address];
    if (e.port) parts.push(`port ${e.port}`);
    parts.push(`id ${e.id}`, ...e.flags);
    if (e.unknownFlags) parts.push(`rawflags ${e.unknownFlags.toString(16).padStart(2, "0")}`);
    if (e.ifname ?? e.ifindex) parts.push(`dev ${e.ifname ?? e.ifindex}`);
    lines.push(`  ${parts.join(" ")}`);
  }
  lines.push(`connections:${status.connections.length === 0 ? " none" : ""}`);
  for (const c of status.connections) {
    const notes = [c.state, ...(c.fallback ? ["fallback"] : [])];
    lines.push(`  token ${c.token} ${endpoint(c.saddr, c.sport, c.family)} -> ${endpoint(c.daddr, c.dport, c.family)} ${notes.join(" ")}`);
    for (const f of c.subflows) {
      const parts = [`subflow ${endpoint(f.saddr, f.sport, f.family)} -> ${endpoint(f.daddr, f.dport, f.family)}`, `locid ${f.locid}`, `remid ${f.remid}`];
      if (f.ifname) parts.push(`dev ${f.ifname}`);
      parts.push(f.state);
      if (f.backup) parts.push("backup");
      if (f.remote_backup) parts.push("remote_backup");
      if (f.rtt_us !== undefined) parts.push(`rtt ${(f.rtt_us / 1000).toFixed(3)}ms`);
      lines.push(`    ${parts.join(" ")}`);
    }
  }
  lines.push(`listeners:${status.listeners.length === 0 ? " none" : ""}`);
  for (const l of status.listeners) lines.push(`  ${endpoint(l.saddr, l.sport, l.family)}`);
  if (status.program_selection) lines.push(...formatProgramSelection(status.program_selection));
  const { release, ...features } = status.kernel_features;
  lines.push(`kernel features (Linux ${release}):`, ...formatKernelFeatures({ release, features }));
  return lines.join("\n");
}

export async function runStatus(options: { format: "text" | "json"; netns: string | undefined; stateDir?: string | undefined }): Promise<number> {
  let report: StatusReport;
  try {
    const status = await readStatus({ netns: options.netns });
    const pm = await MptcpPathManager.open({ netns: options.netns });
    try {
      report = statusReport(status, await probeKernelFeatures({ netns: options.netns, pathManager: pm }), readProgramSelectionStatus(options));
    } finally {
      pm.close();
    }
  } catch (error) {
    return reportFailure(error);
  }
  writeOut(formatStatus(report, options.format));
  return 0;
}

export const statusCommand: Command = {
  name: "status",
  summary: "show the path manager, limits, endpoints and live MPTCP connections",
  usage: `Usage: mptcp-policy status [--format text|json] [-n NETNS]

Shows the network namespace's MPTCP path manager (kernel or userspace), its
limits and endpoints with their flags, and the live MPTCP connections with
their subflows (token, addresses, ports, ids, backup) and listeners, read from
the path manager and sock_diag (what 'ip mptcp' and 'ss -M' show), then the
kernel features mptcp-policy relies on, as probed on this kernel (BTF, sysctls,
and an endpoint of 192.0.2.1 with the laminar flag, written, read back and
removed; see docs/kernels.md).

Options:
  --format text|json   text (default) or one JSON object
  -n, --netns NAME     look at the named network namespace (like 'ip -n NAME')
  --state-dir DIR      where 'run --state-dir' keeps its state (default
                       /run/mptcp-policy): what 'mptcp for' selects is read there
  -h, --help           show this help

Exit status: 0 done, 1 kernel error, 2 usage error.`,
  options: { format: { type: "string", default: "text" }, netns: { type: "string", short: "n" }, "state-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
  run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`status takes no arguments (got '${positionals[0]}')`);
    const stateDir = values["state-dir"];
    return runStatus({ format: formatOption(values["format"]), netns: netnsOption(values["netns"]), stateDir: typeof stateDir === "string" ? stateDir : undefined });
  },
};

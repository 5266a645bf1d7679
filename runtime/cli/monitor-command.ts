// `mptcp-policy monitor [--format text|json] [-n NETNS]`: follow the kernel's MPTCP
// events and the interface changes of the network namespace, one line each, until
// SIGINT/SIGTERM (exit 0). The JSON lines are the event format the decision core
// reads (runtime/netlink/policy-event.ts).
import { formatOption, type Command } from "./command.js";
import { EventMonitor } from "../netlink/monitor.js";
import { NetlinkError, NetlinkSetupError } from "../netlink/errors.js";
import { EVENT_KEY_ORDER, type PolicyEvent } from "../netlink/policy-event.js";
import { UsageError } from "./errors.js";
import { writeErr } from "./output.js";

/** One event as one line: JSON with keys in a fixed order, or `name key=value ...` like `ip mptcp monitor`. */
export function formatEvent(event: PolicyEvent, format: "text" | "json"): string {
  const record = event as unknown as Record<string, unknown>;
  if (format === "json") {
    const ordered: Record<string, unknown> = {};
    for (const key of EVENT_KEY_ORDER) if (record[key] !== undefined) ordered[key] = record[key];
    for (const key of Object.keys(record)) if (!(key in ordered) && record[key] !== undefined) ordered[key] = record[key];
    return JSON.stringify(ordered);
  }
  const parts = [`[${event.event.padStart(19)}]`];
  for (const key of EVENT_KEY_ORDER) {
    const value = record[key];
    if (key === "event" || key === "time" || value === undefined) continue;
    if (key === "raw") {
      for (const [type, hex] of Object.entries(value as Record<string, string>)) parts.push(`attr${type}=${hex}`);
    } else if (typeof value === "boolean") parts.push(`${key}=${value ? 1 : 0}`);
    else if (key === "address" && event.prefixlen !== undefined) continue;
    else if (key === "prefixlen") parts.push(`address=${event.address}/${String(value)}`);
    else parts.push(`${key}=${String(value)}`);
  }
  return parts.join(" ");
}

export interface MonitorOptions {
  readonly format: "text" | "json";
  readonly netns: string | undefined;
  readonly interfaces: boolean;
}

export async function runMonitor(options: MonitorOptions): Promise<number> {
  let monitor: EventMonitor;
  try {
    monitor = await EventMonitor.start({ netns: options.netns, interfaces: options.interfaces });
  } catch (error) {
    return reportFailure(error);
  }
  return new Promise<number>((resolve) => {
    let done = false;
    const stop = (status: number): void => {
      if (done) return;
      done = true;
      monitor.close();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(status);
    };
    const onSignal = (): void => stop(0);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // A closed pipe (`monitor | head`) ends the monitor quietly.
    process.stdout.on("error", () => stop(0));
    monitor.onError((error) => {
      writeErr(`mptcp-policy: monitor: ${error.message}`);
      stop(1);
    });
    monitor.onEvent((event) => {
      if (!done) process.stdout.write(`${formatEvent(event, options.format)}\n`);
    });
    writeErr(
      `monitor: following MPTCP${options.interfaces ? " and interface" : ""} events${options.netns ? ` in namespace ${options.netns}` : ""} (Ctrl-C to stop)`,
    );
  });
}

/** A kernel error as one line and a hint; exit status 1. */
export function reportFailure(error: unknown): number {
  if (error instanceof NetlinkError) {
    writeErr(`mptcp-policy: ${error.message}`);
    if (error.hint) writeErr(`hint: ${error.hint}`);
    return 1;
  }
  if (error instanceof NetlinkSetupError) {
    writeErr(`mptcp-policy: ${error.message}`);
    return 1;
  }
  throw error;
}

export function netnsOption(value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "" || value.includes("/")) throw new UsageError(`--netns needs a namespace name (see 'ip netns list')`);
  return value;
}

export const monitorCommand: Command = {
  name: "monitor",
  summary: "follow MPTCP events and interface changes, like 'ip mptcp monitor'",
  usage: `Usage: mptcp-policy monitor [--format text|json] [-n NETNS] [--no-interfaces]

Prints the kernel's MPTCP path-manager events (created, established, closed,
announced, removed, subflow_established, subflow_closed, subflow_priority,
listener_created, listener_closed) and the namespace's interface changes
(iface_up, iface_down, address_added, address_removed), one line each, until
interrupted. An 'overflow' line means the kernel dropped events.

Options:
  --format text|json   text (default) or one JSON object per line, the event
                       format 'simulate --events' reads (see docs/netlink.md)
  -n, --netns NAME     watch the named network namespace (like 'ip -n NAME')
  --no-interfaces      MPTCP events only
  -h, --help           show this help

Exit status: 0 when stopped by SIGINT or SIGTERM, 1 kernel or socket error,
2 usage error.`,
  options: {
    format: { type: "string", default: "text" },
    netns: { type: "string", short: "n" },
    "no-interfaces": { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
  run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`monitor takes no arguments (got '${positionals[0]}')`);
    return runMonitor({ format: formatOption(values["format"]), netns: netnsOption(values["netns"]), interfaces: values["no-interfaces"] !== true });
  },
};

// Running the real daemon (`mptcp-policy run`) inside a lab namespace, and reading
// what the kernel says (not the daemon's log) about connections and endpoints.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { readStatus, type ConnectionStatus } from "../runtime/netlink/index.js";
import type { Lab, Side } from "./lab/topology.js";
import { CLI } from "./helpers.js";

/**
 * How long a wait for a log line lasts unless told. In a lab guest everything runs under
 * emulation beside another suite (two vitest workers): a daemon's start-up once took over
 * 10 s there (7, CI of 2026-12-07), so guests wait three times as long.
 */
const DEFAULT_WAIT_MS = process.env["MPTCP_POLICY_VM"] !== undefined ? 30_000 : 10_000;

export interface LogLine {
  readonly msg?: string;
  readonly level?: number;
  readonly [key: string]: unknown;
}

/** A policy directory as the daemon wants it: owned by root, not writable by others. */
export function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-run-"));
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
  return dir;
}

export class RunningDaemon {
  readonly lines: LogLine[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    });
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  /** The first log line (past or future) that matches. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line in ${timeoutMs} ms; log:\n${this.lines.map((l) => JSON.stringify(l)).join("\n")}\nstderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  waitForMessage(msg: string, timeoutMs?: number): Promise<LogLine> {
    return this.waitFor((l) => l.msg === msg, timeoutMs);
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }
}

/**
 * How a command enters a lab namespace. `ip netns exec` also gives it a mount namespace
 * of its own with a fresh /sys (no /sys/fs/bpf, no /sys/fs/cgroup), unlike a daemon
 * under systemd; "host" enters only the network namespace (nsenter), so pins in the
 * host's BPF file system are shared and outlive the process, as they do in production.
 */
export type Mounts = "ip-netns" | "host";

function enter(lab: Lab, side: Side, mounts: Mounts): string[] {
  return mounts === "host" ? ["nsenter", `--net=/run/netns/${lab.ns(side)}`] : ["ip", "netns", "exec", lab.ns(side)];
}

/** `wrapper` runs before node inside the namespace (`setpriv ...` to start it with fewer capabilities). */
export function startDaemon(lab: Lab, side: Side, args: string[], mounts: Mounts = "ip-netns", wrapper: readonly string[] = []): RunningDaemon {
  // The saved-state file is per lab namespace: a restart in the same test finds it,
  // and no other test (nor a namespace that reuses an inode number) ever does.
  const stateDir = lab.own(join(tmpdir(), `mptcp-policy-state-${lab.ns(side)}`));
  const [command, ...prefix] = enter(lab, side, mounts) as [string, ...string[]];
  const child = spawn(command, [...prefix, ...wrapper, process.execPath, CLI, "run", "--log-level", "debug", "--state-dir", stateDir, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new RunningDaemon(child);
}

/** Poll the kernel (sock_diag in the namespace) until `check` accepts a connection. */
export async function waitForConnection(lab: Lab, side: Side, check: (c: ConnectionStatus) => boolean, timeoutMs = 10_000): Promise<ConnectionStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: readonly ConnectionStatus[] = [];
  while (Date.now() < deadline) {
    last = (await readStatus({ netns: lab.ns(side) })).connections;
    const found = last.find(check);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no connection matched in ${timeoutMs} ms; the kernel reports: ${JSON.stringify(last, null, 1)}`);
}

/** A sysctl of a lab namespace, e.g. net.mptcp.path_manager. */
export function sysctl(lab: Lab, side: Side, key: string): string {
  return spawnSync("ip", ["netns", "exec", lab.ns(side), "sysctl", "-n", key], { encoding: "utf8" }).stdout.trim();
}

/** Connect a client and send data: an MPTCP connection is fully established only once the client has sent something. */
export async function connectAndSend(lab: Lab, options: { to: string; port: number; from?: string }): Promise<Awaited<ReturnType<Lab["connect"]>>> {
  const client = await lab.connect(options);
  client.command("send 1000");
  return client;
}

/** The subflows the kernel reports for one connection of a side (sock_diag), or [] when it is gone. */
export async function subflowsOf(lab: Lab, side: Side, token: string): Promise<ConnectionStatus["subflows"]> {
  return (await readStatus({ netns: lab.ns(side) })).connections.find((c) => c.token === token)?.subflows ?? [];
}

/**
 * Run the CLI in a lab namespace, optionally behind a wrapper such as
 * withoutCapabilities() (helpers.ts); returns its exit status and output.
 */
export function runCliIn(lab: Lab, side: Side, args: string[], wrapper: string[] = [], mounts: Mounts = "ip-netns"): { status: number | null; stdout: string; stderr: string } {
  const [command, ...prefix] = enter(lab, side, mounts) as [string, ...string[]];
  const result = spawnSync(command, [...prefix, ...wrapper, process.execPath, CLI, ...args], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

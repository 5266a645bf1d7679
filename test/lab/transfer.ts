/**
 * Traffic in a lab, shared by the failover and scheduler tests and benchmarks: the
 * paced transfer of scripts/bench-failover-peer.py (a reading server, a client writing
 * at a rate), slow links, and bytes acknowledged per link (tcp_info bytes_acked, as
 * `ss -ti` and the MPTCP selftests count them).
 *
 *   const procs = new LabProcesses();
 *   await startTransfer(lab, procs, 5001);
 *   await slowLink(lab, procs, "lte");
 *   const bytes = await bytesPerLink(lab, 2000);
 *   procs.killAll();
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { SockDiag } from "../../runtime/netlink/index.js";
import { Lab, LabError, type LinkName } from "./topology.js";

const PEER = fileURLToPath(new URL("../../scripts/bench-failover-peer.py", import.meta.url));
const CONGESTION_PORT = 5999;

/** The peers a test or benchmark started, ended by PID. */
export class LabProcesses {
  private readonly children: ChildProcess[] = [];
  private congestion: ChildProcess | undefined;
  /** Whether the competing flow's reading server runs (slowLink starts it once). */
  hasCongestionServer = false;

  /** Start a bench peer in a namespace and wait for its `ready` event line. */
  start(ns: string, args: readonly string[], ready: string): Promise<ChildProcess> {
    const child = spawn("ip", ["netns", "exec", ns, "python3", "-u", PEER, ...args], { stdio: ["pipe", "pipe", "inherit"] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.includes(`"event": "${ready}"`) || line.includes(`"event":"${ready}"`)) resolve(child);
        else if (line.includes('"error"')) reject(new LabError(line));
      });
      child.on("exit", (code) => reject(new LabError(`bench peer ${args[0]} exited with ${code}`)));
    });
  }

  /** Replace the competing flow (one at a time). */
  async congest(lab: Lab, link: LinkName): Promise<void> {
    this.congestion?.kill("SIGKILL");
    this.congestion = await this.start(lab.client, ["client", "--tcp", "--address", lab.address("server", link), "--port", String(CONGESTION_PORT), "--rate", "1000000"], "connected");
  }

  killAll(): void {
    for (const child of this.children.splice(0)) child.kill("SIGKILL");
    this.congestion = undefined;
    this.hasCongestionServer = false;
  }
}

/** A reading server on `port` and a client writing `rate` bytes a second to the server's Wi-Fi address. */
export async function startTransfer(lab: Lab, procs: LabProcesses, port: number, rate = 800_000): Promise<void> {
  await procs.start(lab.server, ["server", "--port", String(port)], "listening");
  await procs.start(lab.client, ["client", "--address", lab.address("server", "wifi"), "--port", String(port), "--rate", String(rate)], "connected");
}

/**
 * Make one link slow and the other fast. With netem: 75 ms each way against 5 ms (150 ms
 * and 10 ms round trips). Without it (this host): a 2 Mbit/s token bucket with a 300 ms
 * queue, which adds delay only under load; with `congest`, kept full by a competing
 * plain TCP flow, so the round trip is long even while our connection sends nothing
 * there (but then the kernel itself avoids the link: its send buffer stays full).
 */
export async function slowLink(lab: Lab, procs: LabProcesses, link: LinkName, options: { congest?: boolean } = {}): Promise<void> {
  const fast: LinkName = link === "wifi" ? "lte" : "wifi";
  if (Lab.netemAvailable()) {
    for (const side of ["client", "server"] as const) {
      lab.setNetem(side, link, { delayMs: 75 });
      lab.setNetem(side, fast, { delayMs: 5 });
    }
    return;
  }
  spawnSync("tc", ["-n", lab.client, "qdisc", "del", "dev", lab.ifname("client", fast), "root"], { stdio: "ignore" });
  spawnSync("tc", ["-n", lab.client, "qdisc", "replace", "dev", lab.ifname("client", link), "root", "tbf", "rate", "2mbit", "burst", "8kb", "latency", "300ms"]);
  if (!options.congest) return;
  if (!procs.hasCongestionServer) {
    await procs.start(lab.server, ["server", "--port", String(CONGESTION_PORT)], "listening");
    procs.hasCongestionServer = true;
  }
  await procs.congest(lab, link);
}

/** The two links transfers are measured on (a lab made with `vpn` too sends nothing over it here). */
export type LinkBytes = Record<"wifi" | "lte", number>;

/** Bytes acknowledged per link over `ms`, on the client's subflows to `port` (all when absent). */
export async function bytesPerLink(lab: Lab, ms: number, port?: number): Promise<LinkBytes> {
  const diag = new SockDiag({ netns: lab.client });
  try {
    const read = async () => {
      const out: LinkBytes = { wifi: 0, lte: 0 };
      for (const s of await diag.subflows({ established: true })) {
        if (port !== undefined && s.dport !== port) continue;
        out[s.saddr === lab.address("client", "wifi") ? "wifi" : "lte"] += s.tcp?.bytes_acked ?? 0;
      }
      return out;
    };
    const before = await read();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const after = await read();
    return { wifi: after.wifi - before.wifi, lte: after.lte - before.lte };
  } finally {
    diag.close();
  }
}

/** The share of the bytes one link carried. */
export function shareOf(bytes: LinkBytes, link: keyof LinkBytes): number {
  return bytes[link] / Math.max(1, bytes.wifi + bytes.lte);
}

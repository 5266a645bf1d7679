/**
 * The test lab: two network namespaces, `client` and `server`, joined by two veth
 * links named `wifi` and `lte` (the same names on both sides), each with IPv4 and
 * IPv6 addresses (LAB_ADDRESSES), a third one named `vpn` on request
 * (`Lab.create({ links: ALL_LINKS })`), and a small MPTCP server and client
 * (test/lab/mptcp_peer.py: python3 sockets with IPPROTO_MPTCP). Needs root.
 *
 *   const lab = await Lab.create();              // unique names: runs can overlap
 *   const server = await lab.startServer({ port: 5000 });
 *   const client = await lab.connect({ to: lab.address("server", "wifi"), port: 5000 });
 *   await lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "lte"), "dev", "lte", "subflow");
 *   ...
 *   await lab.destroy();                          // in afterAll/afterEach
 *
 * Everything a lab made is removed by destroy(), and also when the process exits
 * or gets SIGINT/SIGTERM; namespaces left by a process that was killed outright
 * are removed by the next Lab.create(). Namespaces are named
 * `mptl-<pid>-<n>-client` / `-server`, so a run only ever touches its own.
 * Traffic stays between the lab's namespaces.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export type Side = "client" | "server";
export type LinkName = "wifi" | "lte" | "vpn";
export type LabFamily = "ipv4" | "ipv6";

/** Addresses of each end of each link (/24 and /64 networks). */
export const LAB_ADDRESSES: Readonly<Record<LinkName, Readonly<Record<Side, Readonly<Record<LabFamily, string>>>>>> = {
  wifi: { client: { ipv4: "10.0.1.1", ipv6: "fd00:1::1" }, server: { ipv4: "10.0.1.2", ipv6: "fd00:1::2" } },
  lte: { client: { ipv4: "10.0.2.1", ipv6: "fd00:2::1" }, server: { ipv4: "10.0.2.2", ipv6: "fd00:2::2" } },
  vpn: { client: { ipv4: "10.0.3.1", ipv6: "fd00:3::1" }, server: { ipv4: "10.0.3.2", ipv6: "fd00:3::2" } },
};
/** The links a lab has unless asked for more: the two every test was written for. */
export const LINKS: readonly LinkName[] = ["wifi", "lte"];
/** With the `vpn` link (zones, `isolate`: test/isolate-lab.test.ts). */
export const ALL_LINKS: readonly LinkName[] = ["wifi", "lte", "vpn"];

/** netem settings for one direction of a link (the egress of one side). */
export interface Netem {
  readonly delayMs?: number;
  readonly jitterMs?: number;
  readonly lossPercent?: number;
}

export interface LabOptions {
  /** netem on the egress of both ends of a link. Throws LabError if the kernel has no netem. */
  readonly netem?: Partial<Record<LinkName, Netem>>;
  /** Kernel names of the client's ends of the links (default: the link's name), e.g. `{ wifi: "wlan0" }` to run an example's policy as is. */
  readonly clientNames?: Partial<Record<LinkName, string>>;
  /** The links to make (default LINKS: wifi and lte). */
  readonly links?: readonly LinkName[];
}

export class LabError extends Error {
  override readonly name = "LabError";
}

const PEER_SCRIPT = fileURLToPath(new URL("./mptcp_peer.py", import.meta.url));
/** The system python3 starts in a tenth of the time of a version-manager shim. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const PREFIX = "mptl";
const live = new Set<Lab>();
let counter = 0;
let hooked = false;

/** One line the peer printed. */
export interface PeerLine {
  readonly event: string;
  readonly [key: string]: unknown;
}

/** A running mptcp_peer.py: its JSON lines, commands to its stdin, and stop(). */
export class Peer {
  readonly lines: PeerLine[] = [];
  stderr = "";
  private waiters: { match: (line: PeerLine) => boolean; resolve: (line: PeerLine) => void; reject: (error: Error) => void }[] = [];
  private readonly exited: Promise<number | null>;

  constructor(
    readonly process: ChildProcess,
    readonly description: string,
  ) {
    const reader = createInterface({ input: process.stdout! });
    reader.on("line", (text) => {
      let line: PeerLine;
      try {
        line = JSON.parse(text) as PeerLine;
      } catch {
        return;
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    });
    process.stderr!.on("data", (data: Buffer) => (this.stderr += data.toString()));
    this.exited = new Promise((resolve) => process.on("exit", (code) => resolve(code)));
    // A peer that dies fails whoever waits for it, with what it said.
    reader.on("close", () => {
      for (const waiter of this.waiters) waiter.reject(new LabError(`${this.description} exited: ${this.stderr.trim() || "no output"}`));
      this.waiters = [];
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** The first line (already printed or still to come) with this event name and fields. */
  waitFor(event: string, timeoutMs = 10_000, match: (line: PeerLine) => boolean = () => true): Promise<PeerLine> {
    const found = this.lines.find((l) => l.event === event && match(l));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new LabError(`${this.description}: no '${event}' within ${timeoutMs} ms (got ${JSON.stringify(this.lines)})`)),
        timeoutMs,
      );
      this.waiters.push({
        match: (l) => l.event === event && match(l),
        resolve: (l) => (clearTimeout(timer), resolve(l)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  /** "send N", "close" or "quit". */
  command(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  /** End the peer (quit, then SIGKILL after a second) and wait for it. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.command("quit");
    this.process.stdin?.end();
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 1000);
    await this.exited;
    clearTimeout(timer);
  }
}

export class Lab {
  private readonly peers = new Set<Peer>();
  private readonly netems = new Map<string, Netem>();
  /** Files and directories made for this lab (daemons' state directories), removed with it. */
  private readonly owned = new Set<string>();
  private destroyed = false;

  private constructor(
    readonly name: string,
    private readonly clientNames: Partial<Record<LinkName, string>> = {},
  ) {}

  /** The kernel name of one side's end of a link. */
  ifname(side: Side, link: LinkName): string {
    return side === "client" ? (this.clientNames[link] ?? link) : link;
  }

  /** The namespace name of a side, for `ip netns exec` or the netlink client's `netns` option. */
  ns(side: Side): string {
    return `${this.name}-${side}`;
  }

  get client(): string {
    return this.ns("client");
  }

  get server(): string {
    return this.ns("server");
  }

  address(side: Side, link: LinkName, family: LabFamily = "ipv4"): string {
    return LAB_ADDRESSES[link][side][family];
  }

  static async create(options: LabOptions = {}): Promise<Lab> {
    hookExit();
    sweepStale();
    const lab = new Lab(`${PREFIX}-${process.pid}-${++counter}`, options.clientNames);
    live.add(lab);
    try {
      lab.build(options);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  private build(options: LabOptions): void {
    for (const side of ["client", "server"] as const) {
      run(["ip", "netns", "add", this.ns(side)]);
      run(["ip", "-n", this.ns(side), "link", "set", "lo", "up"]);
      // Quiet namespaces: no IPv6 router solicitations or DAD delays on the lab links.
      run(["ip", "netns", "exec", this.ns(side), "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]);
    }
    for (const link of options.links ?? LINKS) {
      run(["ip", "-n", this.client, "link", "add", this.ifname("client", link), "type", "veth", "peer", "name", link, "netns", this.server]);
      for (const side of ["client", "server"] as const) {
        const ns = this.ns(side);
        const dev = this.ifname(side, link);
        run(["ip", "-n", ns, "addr", "add", `${this.address(side, link, "ipv4")}/24`, "dev", dev]);
        run(["ip", "-n", ns, "addr", "add", `${this.address(side, link, "ipv6")}/64`, "dev", dev, "nodad"]);
        run(["ip", "-n", ns, "link", "set", dev, "up"]);
      }
      const netem = options.netem?.[link];
      if (netem) for (const side of ["client", "server"] as const) this.setNetem(side, link, netem);
    }
  }

  /** Replace the netem qdisc on one side's egress of a link. */
  setNetem(side: Side, link: LinkName, netem: Netem): void {
    const args = ["tc", "-n", this.ns(side), "qdisc", "replace", "dev", this.ifname(side, link), "root", "netem"];
    if (netem.delayMs !== undefined) args.push("delay", `${netem.delayMs}ms`, ...(netem.jitterMs !== undefined ? [`${netem.jitterMs}ms`] : []));
    if (netem.lossPercent !== undefined) args.push("loss", `${netem.lossPercent}%`);
    const result = spawnSync(args[0]!, args.slice(1), { encoding: "utf8" });
    if (result.status !== 0) {
      if (/unknown/i.test(result.stderr)) throw new LabError("netem is not available in this kernel (CONFIG_NET_SCH_NETEM)");
      throw new LabError(`${args.join(" ")}: ${result.stderr.trim()}`);
    }
    this.netems.set(`${side}/${link}`, netem);
  }

  /** The netem last set on one side's egress of a link by this lab, if any. */
  netemOf(side: Side, link: LinkName): Netem | undefined {
    return this.netems.get(`${side}/${link}`);
  }

  /** Remove one side's netem of a link (the link then has no delay or loss). */
  clearNetem(side: Side, link: LinkName): void {
    spawnSync("tc", ["-n", this.ns(side), "qdisc", "del", "dev", this.ifname(side, link), "root"], { stdio: "ignore" });
    this.netems.delete(`${side}/${link}`);
  }

  /** Whether this kernel has netem (tries it on a throwaway namespace's loopback). */
  static netemAvailable(): boolean {
    const ns = `${PREFIX}-${process.pid}-netem-probe`;
    spawnSync("ip", ["netns", "add", ns]);
    try {
      return spawnSync("tc", ["-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]).status === 0;
    } finally {
      spawnSync("ip", ["netns", "del", ns]);
    }
  }

  /** Run a command inside a side's namespace; rejects with its stderr when it fails. */
  exec(side: Side, command: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn("ip", ["netns", "exec", this.ns(side), ...command], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0 ? resolve({ stdout, stderr }) : reject(new LabError(`${command.join(" ")} in ${side}: exit ${code}: ${stderr.trim()}`)),
      );
    });
  }

  /** `ip -n NS ...` for a side, synchronously; returns stdout. */
  ip(side: Side, ...args: string[]): string {
    return run(["ip", "-n", this.ns(side), ...args]);
  }

  /** `sysctl -w key=value` in a side's namespace. */
  sysctl(side: Side, key: string, value: string | number): void {
    run(["ip", "netns", "exec", this.ns(side), "sysctl", "-qw", `${key}=${value}`]);
  }

  /** Select the path manager of a side: "kernel" or "userspace". */
  /** Select a side's path manager through the sysctl this kernel has (path_manager 6.15+, pm_type before). */
  pathManager(side: Side, pm: "kernel" | "userspace"): void {
    if (existsSync("/proc/sys/net/mptcp/path_manager")) this.sysctl(side, "net.mptcp.path_manager", pm);
    else this.sysctl(side, "net.mptcp.pm_type", pm === "kernel" ? "0" : "1");
  }

  /** A side's path manager, read through whichever sysctl this kernel has. */
  pathManagerOf(side: Side): "kernel" | "userspace" | "unknown" {
    const read = (key: string) => spawnSync("ip", ["netns", "exec", this.ns(side), "sysctl", "-n", key], { encoding: "utf8" }).stdout.trim();
    const value = existsSync("/proc/sys/net/mptcp/path_manager") ? read("net.mptcp.path_manager") : { "0": "kernel", "1": "userspace" }[read("net.mptcp.pm_type")];
    return value === "kernel" || value === "userspace" ? value : "unknown";
  }

  /** Start an MPTCP server (default: the server side, IPv4, any address) and wait until it listens. */
  async startServer(options: { side?: Side; port?: number; family?: LabFamily; address?: string } = {}): Promise<Peer & { port: number }> {
    const args = ["server", "--family", options.family === "ipv6" ? "6" : "4", "--port", String(options.port ?? 0)];
    if (options.address) args.push("--address", options.address);
    const peer = this.spawnPeer(options.side ?? "server", args, "server");
    const line = await peer.waitFor("listening");
    return Object.assign(peer, { port: Number(line["port"]) });
  }

  /** Connect an MPTCP client (default: from the client side) and wait until connected; `token` is the connection's. */
  async connect(options: { to: string; port: number; side?: Side; from?: string }): Promise<Peer & { token: string; sport: number }> {
    const args = ["client", "--family", options.to.includes(":") ? "6" : "4", "--address", options.to, "--port", String(options.port)];
    if (options.from) args.push("--bind", options.from);
    const peer = this.spawnPeer(options.side ?? "client", args, "client");
    const line = await Promise.race([
      peer.waitFor("connected"),
      peer.waitFor("error").then((l) => Promise.reject(new LabError(`connect failed: ${String(l["message"])}`))),
    ]);
    return Object.assign(peer, { token: String(line["token"]), sport: Number(line["sport"]) });
  }

  private spawnPeer(side: Side, args: string[], what: string): Peer {
    if (this.destroyed) throw new LabError("the lab was destroyed");
    const child = spawn("ip", ["netns", "exec", this.ns(side), PYTHON, "-u", PEER_SCRIPT, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const peer = new Peer(child, `${what} in ${this.ns(side)}`);
    this.peers.add(peer);
    child.on("exit", () => this.peers.delete(peer));
    return peer;
  }

  /** A path made for this lab, removed (recursively) by destroy(); returns it. */
  own(path: string): string {
    this.owned.add(path);
    return path;
  }

  /** Stop the peers and delete both namespaces (their links and addresses go with them). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.peers].map((p) => p.stop()));
    this.removeSync();
  }

  /** What destroy() does, synchronously, for exit handlers. */
  removeSync(): void {
    for (const peer of this.peers) if (peer.process.exitCode === null) peer.process.kill("SIGKILL");
    // netem qdiscs go first, with the packets they hold: Debian's 6.12 panicked in
    // ip_rcv (netem_dequeue on the stack) during a run that deleted namespaces whose
    // links still had netem queues full of a transfer's packets.
    for (const key of [...this.netems.keys()]) {
      const [side, link] = key.split("/") as [Side, LinkName];
      this.clearNetem(side, link);
    }
    for (const side of ["client", "server"] as const) spawnSync("ip", ["netns", "del", this.ns(side)], { stdio: "ignore" });
    for (const path of this.owned) rmSync(path, { recursive: true, force: true });
    live.delete(this);
  }
}

function run(args: readonly string[]): string {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: "utf8" });
  if (result.status !== 0) throw new LabError(`${args.join(" ")}: ${(result.stderr || result.error?.message || "").trim()}`);
  return result.stdout;
}

/** Remove namespaces of earlier runs whose process is gone (killed before it could clean up). */
function sweepStale(): void {
  const list = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  for (const line of list.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const match = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const cleanup = (): void => {
    for (const lab of [...live]) lab.removeSync();
  };
  process.on("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      cleanup();
      process.kill(process.pid, signal);
    });
  }
}

// `mptcp for` on real kernels (the lab's 6.12 and 7 have update_socket_protocol and
// take BPF trampolines; 6.1 and this host do not): Debian's own curl and wget, unmodified,
// connect from the lab's client namespace, where the daemon runs, to a server in the
// server namespace that listens with MPTCP and reports whether each accepted socket is
// MPTCP (a client that used plain TCP makes the kernel fall back: the accepted socket
// is TCP). Every verdict is the kernel's: the accepted socket's SO_PROTOCOL and `ss -M`.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cgroup2Mount } from "../runtime/bpf/cgroups.js";
import { Lab, Peer } from "./lab/topology.js";
import { policyDir, runCliIn, startDaemon, type Mounts, type RunningDaemon } from "./daemon-support.js";
import { buildCli } from "./helpers.js";
import { itNeeds, kernel, recordUnsupported } from "./kernel-support.js";

const SERVER_SCRIPT = fileURLToPath(new URL("./lab/http_once.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const IPPROTO_MPTCP = 262;
const IPPROTO_TCP = 6;
const RULE = 'on established then log "an MPTCP connection is established"\n';
const HOOK_TIMEOUT = 240_000;

let lab: Lab | undefined;
let daemon: RunningDaemon | undefined;
let server: (Peer & { port: number }) | undefined;
const cleanups: (() => void)[] = [];

beforeAll(() => buildCli());

afterEach(async () => {
  await server?.stop();
  server = undefined;
  await daemon?.stop();
  daemon = undefined;
  await lab?.destroy();
  lab = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/**
 * The daemon as under systemd: only the network namespace is the lab's, so its pin is in
 * the host's BPF file system, where `status` sees it and where it outlives a killed
 * daemon. "ip-netns" runs it under `ip netns exec` instead, which has no cgroup v2 mount.
 */
async function setUp(policy: string, mounts: Mounts = "host"): Promise<{ lab: Lab; daemon: RunningDaemon; dir: string }> {
  lab = await Lab.create();
  const dir = policyDir({ "policy.policy": policy });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  daemon = startDaemon(lab, "client", ["--config", dir], mounts);
  await daemon.waitForMessage("running", 60_000);
  server = await startHttpServer(lab);
  return { lab, daemon, dir };
}

async function startHttpServer(lab: Lab): Promise<Peer & { port: number }> {
  const child = spawn("ip", ["netns", "exec", lab.ns("server"), PYTHON, "-u", SERVER_SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
  const peer = new Peer(child, "http server");
  const line = await peer.waitFor("listening", 20_000);
  return Object.assign(peer, { port: Number(line["port"]) });
}

interface Fetch {
  readonly done: Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/** Run a Debian program in the client namespace (optionally from a cgroup) against the server. */
function fetch(lab: Lab, program: "curl" | "wget", port: number, cgroupProcs?: string): Fetch {
  const url = `http://${lab.address("server", "wifi")}:${port}/`;
  const argv = program === "curl" ? ["curl", "-sS", "--max-time", "60", url] : ["wget", "-q", "-T", "60", "-O", "-", url];
  const command = ["ip", "netns", "exec", lab.ns("client"), ...argv];
  // The shell moves itself into the cgroup, then becomes the program (exec): the
  // program's sockets are created there.
  const child = cgroupProcs
    ? spawn("sh", ["-c", 'echo $$ > "$0" && exec "$@"', cgroupProcs, ...command], { stdio: ["ignore", "pipe", "pipe"] })
    : spawn(command[0] as string, command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.on("exit", (status) => resolve({ status, stdout, stderr }))) };
}

/** One request: the protocol of the socket the server accepted, ss -M's view while it is open, the program's answer. */
async function request(lab: Lab, program: "curl" | "wget", cgroupProcs?: string): Promise<{ protocol: number; listedBySsM: boolean }> {
  const peer = server as Peer & { port: number };
  const before = peer.lines.filter((l) => l.event === "accepted").length;
  const run = fetch(lab, program, peer.port, cgroupProcs);
  const accepted = await peer.waitFor("accepted", 60_000, () => peer.lines.filter((l) => l.event === "accepted").length > before);
  const [address, port] = accepted["peer"] as [string, number];
  const ss = spawnSync("ip", ["netns", "exec", lab.ns("server"), "ss", "-MHn", "state", "established"], { encoding: "utf8" }).stdout;
  peer.command("go");
  const result = await run.done;
  expect(result, `${program}: ${result.stderr}`).toMatchObject({ status: 0, stdout: "ok\n" });
  return { protocol: Number(accepted["protocol"]), listedBySsM: ss.includes(`${address}:${port}`) };
}

function status(lab: Lab): { program_selection: { state: string; pinned: boolean; statements: { condition: string }[]; reason?: string } } {
  const stateDir = join(tmpdir(), `mptcp-policy-state-${lab.ns("client")}`);
  const result = runCliIn(lab, "client", ["status", "--format", "json", "--state-dir", stateDir], [], "host");
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

const established = (d: RunningDaemon) => d.lines.filter((l) => l.msg === "an MPTCP connection is established").length;

describe("mptcp for on the kernel's socket() hook", () => {
  itNeeds(
    ["socket_protocol_hook"],
    "makes Debian's curl MPTCP (the server accepts an MPTCP socket, ss -M lists it, the daemon's rule fires on it) and leaves wget TCP; status lists it; SIGTERM detaches",
    async () => {
      const { lab, daemon } = await setUp(`mptcp for program "curl"\n${RULE}`);
      await daemon.waitForMessage("programs made MPTCP: socket hook attached");
      expect(await request(lab, "curl")).toEqual({ protocol: IPPROTO_MPTCP, listedBySsM: true });
      await daemon.waitForMessage("an MPTCP connection is established", 30_000);
      expect(await request(lab, "wget")).toEqual({ protocol: IPPROTO_TCP, listedBySsM: false });
      expect(established(daemon)).toBe(1);
      expect(status(lab).program_selection).toMatchObject({ state: "attached", pinned: true, statements: [{ condition: 'program "curl"' }] });
      expect(await daemon.stop()).toBe(0);
      expect(status(lab).program_selection).toMatchObject({ state: "none", pinned: false });
      // Detached: curl is TCP again.
      expect(await request(lab, "curl")).toEqual({ protocol: IPPROTO_TCP, listedBySsM: false });
    },
    HOOK_TIMEOUT,
  );

  itNeeds(
    ["socket_protocol_hook"],
    "converts a program in a selected cgroup, and the same program outside it not, from a daemon under ip netns exec (no cgroup v2 mounted there: it mounts one privately to look the cgroup up)",
    async () => {
      const root = cgroup2Mount() as string;
      const cgroup = `/mpp-lab-${process.pid}`;
      mkdirSync(`${root}${cgroup}/selected`, { recursive: true });
      cleanups.push(() => {
        rmdirSync(`${root}${cgroup}/selected`);
        rmdirSync(`${root}${cgroup}`);
      });
      const { lab, daemon } = await setUp(`mptcp for cgroup "${cgroup}"\n`, "ip-netns");
      await daemon.waitForMessage("programs made MPTCP: socket hook attached");
      expect(daemon.lines.filter((l) => typeof l.msg === "string" && l.msg.includes("selects nothing"))).toEqual([]);
      expect((await request(lab, "wget", `${root}${cgroup}/selected/cgroup.procs`)).protocol).toBe(IPPROTO_MPTCP);
      expect((await request(lab, "wget")).protocol).toBe(IPPROTO_TCP);
      expect(status(lab).program_selection).toMatchObject({ state: "attached" });
    },
    HOOK_TIMEOUT,
  );

  itNeeds(
    ["socket_protocol_hook"],
    "changes the selection on reload without a restart, and replaces the hook a killed daemon left",
    async () => {
      const { lab, daemon, dir } = await setUp(`mptcp for program "curl"\n`);
      await daemon.waitForMessage("programs made MPTCP: socket hook attached");
      expect((await request(lab, "curl")).protocol).toBe(IPPROTO_MPTCP);
      writeFileSync(join(dir, "policy.policy"), `mptcp for program "wget"\n`);
      daemon.signal("SIGHUP");
      await daemon.waitFor((l) => l.msg === "programs made MPTCP: socket hook attached" && l["replaced"] === true, 60_000);
      await daemon.waitForMessage("policy reloaded");
      expect((await request(lab, "curl")).protocol).toBe(IPPROTO_TCP);
      expect((await request(lab, "wget")).protocol).toBe(IPPROTO_MPTCP);
      // A daemon killed outright leaves its hook pinned; the next start replaces it.
      daemon.signal("SIGKILL");
      await daemon.exited;
      expect(status(lab).program_selection).toMatchObject({ state: "left_behind", pinned: true });
      expect((await request(lab, "wget")).protocol).toBe(IPPROTO_MPTCP);
      writeFileSync(join(dir, "policy.policy"), `mptcp for program "curl"\n`);
      const next = startDaemon(lab, "client", ["--config", dir], "host");
      await next.waitFor((l) => l.msg === "programs made MPTCP: socket hook attached" && l["replaced"] === true, 60_000);
      try {
        expect((await request(lab, "wget")).protocol).toBe(IPPROTO_TCP);
        expect((await request(lab, "curl")).protocol).toBe(IPPROTO_MPTCP);
      } finally {
        expect(await next.stop()).toBe(0);
      }
    },
    HOOK_TIMEOUT,
  );

  const refusalTitle = "where the kernel cannot run the socket hook, says why in one log line and in status, and enforces the rest of the policy";
  const hasHook = kernel.features.socket_protocol_hook.available === true;
  if (hasHook) recordUnsupported(refusalTitle, "this kernel runs the socket hook: there is no refusal to see");
  it.skipIf(hasHook)(
    refusalTitle,
    async () => {
      const { lab, daemon } = await setUp(`mptcp for program "curl"\nendpoint 10.0.2.1 subflow\n`);
      const refusals = daemon.lines.filter((l) => typeof l.msg === "string" && l.msg.includes("programs are not made MPTCP"));
      expect(refusals).toHaveLength(1);
      expect(refusals[0]?.msg).toMatch(/policy\.policy:1: programs are not made MPTCP: .*update_socket_protocol/);
      expect(lab.ip("client", "mptcp", "endpoint", "show")).toContain("10.0.2.1");
      expect(status(lab).program_selection).toMatchObject({ state: "unavailable", pinned: false });
      expect(status(lab).program_selection.reason).toContain("update_socket_protocol");
      expect((await request(lab, "curl")).protocol).toBe(IPPROTO_TCP);
    },
    HOOK_TIMEOUT,
  );
});

// `mptcp-policy doctor` on a lab made healthy on purpose (source routing to a peer
// network that only the server has, the daemon running), then with each fault made
// on purpose, one per test: the findings are exactly the fault's, nothing else.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Lab } from "./lab/topology.js";
import { policyDir, runCliIn, startDaemon, waitForConnection, type RunningDaemon } from "./daemon-support.js";
import { buildCli } from "./helpers.js";
import { hasFeature } from "./kernel-support.js";

/** An address on the server's loopback: the peer's network, reached only through a router (the server). */
const PEER = "192.168.50.1";
const DECLS = 'interface wifi = "wifi"\ninterface lte = "lte"\n';
const HEALTHY = `${DECLS}limits subflows 4 add_addr_accepted 2\non established if iface wifi then create via lte to ${PEER}\n`;

interface Finding {
  readonly code: string;
  readonly severity: string;
  readonly subject: string;
  readonly message: string;
  readonly fix: string;
}

let lab: Lab | undefined;
let daemon: RunningDaemon | undefined;
let other: ChildProcess | undefined;
const dirs: string[] = [];

beforeAll(() => buildCli());

afterEach(async () => {
  if (other?.pid !== undefined && other.exitCode === null) other.kill("SIGTERM");
  other = undefined;
  await daemon?.stop();
  daemon = undefined;
  await lab?.destroy();
  lab = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The lab with routes as a multihomed host needs them: the peer network through both links, each from its own address. */
async function healthyLab(): Promise<Lab> {
  lab = await Lab.create();
  lab.ip("server", "address", "add", `${PEER}/32`, "dev", "lo");
  lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
  lab.ip("client", "route", "add", "192.168.50.0/24", "via", lab.address("server", "wifi"), "dev", "wifi");
  lab.ip("client", "route", "add", "192.168.50.0/24", "via", lab.address("server", "lte"), "dev", "lte", "table", "100");
  lab.ip("client", "rule", "add", "from", lab.address("client", "lte"), "table", "100");
  // As the daemon leaves it for this policy; the daemon itself runs only in the clean test.
  lab.pathManager("client", "userspace");
  return lab;
}

function doctor(policy: string, format: "json" | "text" = "json"): { status: number | null; stdout: string; stderr: string; findings: Finding[] } {
  const dir = policyDir({ "policy.policy": policy });
  dirs.push(dir);
  const result = runCliIn(lab!, "client", ["doctor", dir, "--format", format]);
  return { ...result, findings: format === "json" && result.stdout ? (JSON.parse(result.stdout) as Finding[]) : [] };
}

function codes(findings: readonly Finding[]): string[] {
  return findings.map((f) => f.code);
}

describe("mptcp-policy doctor", () => {
  it("finds nothing on a healthy lab with the daemon running and a live connection to the peer network", async () => {
    const lab = await healthyLab();
    lab.pathManager("client", "kernel");
    const dir = policyDir({ "policy.policy": HEALTHY });
    dirs.push(dir);
    daemon = startDaemon(lab, "client", ["--config", dir]);
    await daemon.waitForMessage("running");
    const server = await lab.startServer({ port: 5000, address: PEER });
    const client = await lab.connect({ to: PEER, port: server.port });
    client.command("send 1000");
    // The subflow from lte reaches the peer network: the routes are right.
    await waitForConnection(lab, "client", (c) => c.subflows.some((s) => s.saddr === lab.address("client", "lte")));
    const json = doctor(HEALTHY);
    expect(json.findings).toEqual([]);
    expect(json.status).toBe(0);
    const text = doctor(HEALTHY, "text");
    expect(text).toMatchObject({ status: 0, stdout: "no problem found\n" });
  }, 30_000);

  it("MPTCP disabled", async () => {
    const lab = await healthyLab();
    lab.sysctl("client", "net.mptcp.enabled", 0);
    const { status, findings } = doctor(HEALTHY);
    expect(status).toBe(1);
    expect(findings).toEqual([
      {
        code: "mptcp-disabled",
        severity: "error",
        subject: "net.mptcp.enabled",
        message: expect.stringContaining("fall back to plain TCP"),
        fix: "sysctl -w net.mptcp.enabled=1",
      },
    ]);
  });

  it("a pattern that matches no interface, in text", async () => {
    await healthyLab();
    const { status, stdout } = doctor(HEALTHY.replace('"lte"', '"wwan*"'), "text");
    expect(status).toBe(1);
    expect(stdout).toMatch(
      /^warning\[interface-not-found\] interface lte: \S+policy\.policy:2: "wwan\*" matches no interface of this host \(it has [^)]*lte[^)]*\): the rules, endpoints and actions on lte do nothing until one appears\n  fix: \S+policy\.policy:2: interface lte = "\w+" \(the kernel's name, or a pattern that matches it\)\n$/,
    );
  });

  it("an interface without a usable address, and one that is down", async () => {
    const lab = await healthyLab();
    lab.ip("client", "address", "flush", "dev", "lte", "scope", "global");
    expect(doctor(HEALTHY).findings).toEqual([
      expect.objectContaining({
        code: "interface-no-address",
        subject: "interface lte (lte)",
        fix: "ip address add ADDRESS/PREFIX dev lte (or start its DHCP or SLAAC client)",
      }),
    ]);
    lab.ip("client", "link", "set", "wifi", "down");
    expect(doctor(HEALTHY).findings).toEqual([
      expect.objectContaining({ code: "interface-no-address", subject: "interface wifi (wifi)", fix: "ip link set wifi up" }),
      expect.objectContaining({ code: "interface-no-address", subject: "interface lte (lte)" }),
    ]);
  });

  it("limits that make the rules useless: subflows 0 with a create, add_addr_accepted 0 with 'to announced'", async () => {
    await healthyLab();
    const zero = doctor(HEALTHY.replace("limits subflows 4", "limits subflows 0"));
    expect(zero.findings).toEqual([
      expect.objectContaining({ code: "limit-subflows-zero", severity: "error", fix: expect.stringMatching(/policy\.policy:3: limits subflows 2$/) }),
    ]);
    const announced = doctor(`${DECLS}limits subflows 4 add_addr_accepted 0\non announced then create via lte to announced\n`);
    expect(announced.findings).toEqual([
      expect.objectContaining({
        code: "limit-add-addr-zero",
        message: expect.stringMatching(/add_addr_accepted 0, yet \S+policy\.policy:4 sends subflows to announced addresses/),
      }),
    ]);
  });

  it("the kernel's own add_addr_accepted 0 under the in-kernel path manager while the peer announces addresses", async () => {
    const lab = await healthyLab();
    lab.pathManager("client", "kernel");
    lab.ip("client", "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "0");
    lab.ip("server", "mptcp", "endpoint", "add", lab.address("server", "lte"), "dev", "lte", "signal");
    const policy = `${DECLS}endpoint lte subflow\n`;
    expect(doctor(policy).findings).toEqual([]);
    const server = await lab.startServer({ port: 5000, address: PEER });
    const client = await lab.connect({ to: PEER, port: server.port });
    client.command("send 1000");
    await waitForConnection(lab, "client", (c) => c.info?.add_addr_accepted !== undefined);
    await new Promise((r) => setTimeout(r, 500));
    const result = doctor(policy);
    expect(result.stderr).toBe("");
    const findings = result.findings;
    expect(findings).toEqual([
      {
        code: "limit-add-addr-zero",
        severity: "error",
        subject: "limits add_addr_accepted",
        message: expect.stringMatching(/^the kernel has add_addr_accepted 0, yet peers announced \d+ addresses \(nstat MPTcpExtAddAddr\)/),
        fix: "limits add_addr_accepted 2 (in the policy), or: ip mptcp limits set add_addr_accepted 2",
      },
    ]);
  });

  it("a second interface whose traffic to the peer network has no route of its own (no source routing)", async () => {
    const lab = await healthyLab();
    lab.ip("client", "rule", "del", "from", lab.address("client", "lte"), "table", "100");
    const { findings } = doctor(HEALTHY);
    expect(findings).toEqual([
      {
        code: "no-source-route",
        severity: "warning",
        subject: `interface lte (lte) to ${PEER}`,
        message: `no route to ${PEER} goes through lte for source ${lab.address("client", "lte")}: a subflow from it is sent as if ${PEER} were on lte's link, and fails unless something there answers for it; unbound, its packets would leave through wifi`,
        fix: `ip route add default via GATEWAY dev lte table 100 && ip rule add from ${lab.address("client", "lte")} table 100 (GATEWAY: lte's router)`,
      },
    ]);
  });

  it("strict rp_filter on an interface that carries subflows", async () => {
    const lab = await healthyLab();
    lab.sysctl("client", "net.ipv4.conf.lte.rp_filter", 1);
    expect(doctor(HEALTHY).findings).toEqual([
      expect.objectContaining({ code: "rp-filter-strict", subject: "interface lte (lte)", fix: "sysctl -w net.ipv4.conf.lte.rp_filter=2" }),
    ]);
  });

  it("endpoints the policy does not declare while mptcpd runs in the namespace", async () => {
    const lab = await healthyLab();
    lab.pathManager("client", "kernel");
    lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "lte"), "dev", "lte", "subflow");
    const policy = `${DECLS}endpoint wifi signal\n`;
    // Without another manager, the daemon's sync would remove it: nothing to say.
    expect(doctor(policy).findings).toEqual([]);
    const mptcpd = spawnSync("sh", ["-c", "command -v mptcpd || ls /usr/libexec/mptcpd /usr/lib/mptcpd/mptcpd 2>/dev/null"], { encoding: "utf8" })
      .stdout.trim()
      .split("\n")[0];
    expect(mptcpd, "mptcpd is installed by scripts/setup.sh").toBeTruthy();
    other = spawn("ip", ["netns", "exec", lab.client, mptcpd!], { stdio: "ignore" });
    let findings: Finding[] = [];
    for (let i = 0; i < 50 && findings.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      findings = doctor(policy).findings;
    }
    expect(findings).toEqual([
      expect.objectContaining({
        code: "foreign-endpoints",
        subject: expect.stringMatching(/^mptcpd \(pid \d+\)$/),
        message: expect.stringContaining(`${lab.address("client", "lte")} (id `),
        fix: "systemctl disable --now mptcpd (mptcp-policy replaces it)",
      }),
    ]);
  });

  it("the path manager is not the one the plan needs and no daemon runs", async () => {
    const lab = await healthyLab();
    lab.pathManager("client", "kernel");
    expect(doctor(HEALTHY).findings).toEqual([
      expect.objectContaining({
        code: "path-manager-mismatch",
        subject: "net.mptcp.path_manager",
        message: expect.stringContaining("needs the userspace path manager"),
      }),
    ]);
  });

  it("a scheduler where the kernel has no BPF scheduler hook: what the fallback does", async () => {
    await healthyLab();
    const { findings } = doctor(`${HEALTHY}scheduler fast {\n  use where active by lowest rtt\n  use any\n}\n`);
    if (hasFeature("bpf_scheduler_hook")) expect(findings).toEqual([]);
    else
      expect(findings).toEqual([
        expect.objectContaining({
          code: "scheduler-hook-missing",
          subject: "scheduler fast",
          message: expect.stringMatching(/scheduler fast cannot be attached; instead it is approximated by backup flags/),
        }),
      ]);
  });

  it("policy files others can write, and a usage error", async () => {
    await healthyLab();
    const dir = policyDir({ "policy.policy": HEALTHY });
    dirs.push(dir);
    spawnSync("chmod", ["o+w", `${dir}/policy.policy`]);
    const result = runCliIn(lab!, "client", ["doctor", dir, "--format", "json"]);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ code: "policy-permissions", subject: `${dir}/policy.policy`, fix: `chmod go-w ${dir}/policy.policy` }),
    ]);
    expect(runCliIn(lab!, "client", ["doctor", dir, "--format", "yaml"])).toMatchObject({
      status: 2,
      stderr: "mptcp-policy: --format must be 'text' or 'json', not 'yaml'\n",
    });
  });
});

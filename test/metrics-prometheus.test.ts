// `run --metrics`: Debian's real Prometheus scrapes the daemon in a lab namespace and
// answers queries through its HTTP API; the figures are set against what the kernel
// says about the same traffic (ss per subflow, ss -M per connection, nstat).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, LAB_ADDRESSES } from "./lab/topology.js";
import { policyDir, runCliIn, startDaemon, waitForConnection, type RunningDaemon } from "./daemon-support.js";
import { buildCli, ROOT } from "./helpers.js";

const METRICS_PORT = 9101;
const PROMETHEUS_PORT = 9090;
const POLICY = 'interface wifi = "wifi"\ninterface lte = "lte"\non established if iface wifi then create via lte backup\n';
const hasPrometheus = spawnSync("prometheus", ["--version"]).status === 0;

let lab: Lab;
let daemon: RunningDaemon;
let prometheus: ChildProcess | undefined;
const temps: string[] = [];

/** GET a URL from inside the client's namespace (both servers listen on its loopback). */
function getIn(url: string): { status: number; body: string } {
  const script =
    "fetch(process.argv[1]).then(async (r) => { process.stdout.write(String(r.status) + '\\n' + (await r.text())); }, (e) => { process.stdout.write('0\\n' + e.message); })";
  const result = spawnSync("ip", ["netns", "exec", lab.client, process.execPath, "-e", script, url], { encoding: "utf8", timeout: 10_000 });
  const [status, ...body] = result.stdout.split("\n");
  return { status: Number(status), body: body.join("\n") };
}

/** An instant query through Prometheus' HTTP API: label set -> value. */
function query(promql: string): Map<string, number> {
  const { status, body } = getIn(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(promql)}`);
  if (status !== 200) return new Map();
  const data = JSON.parse(body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return new Map(
    data.data.result.map((r) => [
      Object.entries(r.metric)
        .filter(([k]) => k !== "__name__" && k !== "job" && k !== "instance")
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(","),
      Number(r.value[1]),
    ]),
  );
}

function one(promql: string, labels = ""): number | undefined {
  return query(promql).get(labels);
}

/** Per interface of the client, bytes_acked and bytes_received of its live subflows (ss -ti). */
function ssBytes(): Record<string, { acked: number; received: number; subflows: number }> {
  const out = spawnSync("ip", ["netns", "exec", lab.client, "ss", "-tinH", "state", "established"], { encoding: "utf8" }).stdout;
  const totals: Record<string, { acked: number; received: number; subflows: number }> = {};
  let iface: string | undefined;
  for (const line of out.split("\n")) {
    // A subflow bound to its device shows as ADDR%DEV:PORT.
    const socket = /^\s*\d+\s+\d+\s+([^\s%]+?)(?:%\S+)?:\d+\s+\S+/.exec(line);
    if (socket) {
      const address = socket[1];
      iface = (["wifi", "lte"] as const).find((l) => LAB_ADDRESSES[l].client.ipv4 === address);
      continue;
    }
    if (!iface) continue;
    const entry = (totals[iface] ??= { acked: 0, received: 0, subflows: 0 });
    entry.subflows++;
    entry.acked += Number(/bytes_acked:(\d+)/.exec(line)?.[1] ?? 0);
    entry.received += Number(/bytes_received:(\d+)/.exec(line)?.[1] ?? 0);
    iface = undefined;
  }
  return totals;
}

/**
 * The client's connection at the MPTCP level (ss -M): the data sequence numbers it has
 * had acknowledged and received. Their differences between two moments are bytes
 * (iproute2 6.1 prints no byte counts for MPTCP sockets).
 */
function ssMptcp(): { sndUna: bigint; rcvNxt: bigint } {
  const out = spawnSync("ip", ["netns", "exec", lab.client, "ss", "-MiH", "state", "established"], { encoding: "utf8" }).stdout;
  const hex = (name: string) => BigInt(`0x${new RegExp(`${name}:([0-9a-f]+)`).exec(out)?.[1] ?? "0"}`);
  return { sndUna: hex("snd_una"), rcvNxt: hex("rcv_nxt") };
}

function nstat(counter: string): number {
  const out = spawnSync("ip", ["netns", "exec", lab.client, "nstat", "-asz", counter], { encoding: "utf8" }).stdout;
  return Number(new RegExp(`^${counter}\\s+(\\d+)`, "m").exec(out)?.[1] ?? NaN);
}

/** What the last probe saw, for the message of a timeout. */
let lastSeen = "";

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  lastSeen = "";
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = probe();
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${lastSeen ? `; last seen: ${lastSeen}` : ""}`);
}

describe.skipIf(!hasPrometheus)("run --metrics scraped by Prometheus", () => {
  beforeAll(async () => {
    buildCli();
    lab = await Lab.create();
    lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
    const dir = policyDir({ "policy.policy": POLICY });
    temps.push(dir);
    daemon = startDaemon(lab, "client", ["--config", dir, "--metrics", `127.0.0.1:${METRICS_PORT}`]);
    await daemon.waitForMessage("running");
    const data = mkdtempSync(join(tmpdir(), "mptcp-policy-prometheus-"));
    temps.push(data);
    writeFileSync(
      join(data, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: mptcp-policy\n    static_configs:\n      - targets: ["127.0.0.1:${METRICS_PORT}"]\n`,
    );
    prometheus = spawn(
      "ip",
      [
        "netns",
        "exec",
        lab.client,
        "prometheus",
        `--config.file=${join(data, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(data, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
      ],
      { stdio: "ignore" },
    );
    await until("Prometheus to scrape the daemon", () => (one("up") === 1 ? true : undefined), 60_000);
  }, 90_000);

  afterAll(async () => {
    if (prometheus?.pid !== undefined) prometheus.kill("SIGTERM");
    await daemon?.stop();
    await lab?.destroy();
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  it("serves only /metrics, and refuses a malformed address with a usage error", () => {
    expect(getIn(`http://127.0.0.1:${METRICS_PORT}/metrics`).body).toContain("# TYPE mptcp_policy_bytes_sent_total counter");
    expect(getIn(`http://127.0.0.1:${METRICS_PORT}/`).status).toBe(404);
    const bad = runCliIn(lab, "client", ["run", "--metrics", "localhost"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("mptcp-policy: --metrics must be ADDR:PORT, such as 127.0.0.1:9101 or [::1]:9101 (got 'localhost')\n");
    const inUse = runCliIn(lab, "client", [
      "run",
      "--config",
      temps[0]!,
      "--metrics",
      `127.0.0.1:${METRICS_PORT}`,
      "--state-dir",
      lab.own(join(tmpdir(), `mptcp-policy-state-inuse-${lab.client}`)),
    ]);
    expect(inUse.status).toBe(1);
    expect(inUse.stderr).toBe(`mptcp-policy: --metrics 127.0.0.1:${METRICS_PORT}: cannot listen (EADDRINUSE)\n`);
  });

  it("counts bytes per interface as ss does, keeps those of a closed subflow, and times the failover to the backup", async () => {
    expect(one("mptcp_policy_policy_loaded")).toBeUndefined(); // labelled: the empty label set is not it
    expect([...query("mptcp_policy_policy_loaded").keys()][0]).toMatch(/^sha256=[0-9a-f]{64},strategy=userspace$/);
    const server = await lab.startServer({ port: 5000 });
    const client = await lab.connect({ to: lab.address("server", "wifi"), port: server.port });
    client.command("send 2000000");
    await waitForConnection(lab, "client", (c) => c.subflows.length === 2);
    server.command("send 500000");
    // Both sides settle: Prometheus' figures per interface equal ss's, read at the same moment.
    const settled = await until("Prometheus to agree with ss", () => {
      const ss = ssBytes();
      const sent = query("mptcp_policy_bytes_sent_total");
      const received = query("mptcp_policy_bytes_received_total");
      lastSeen = JSON.stringify({ ss, sent: [...sent], received: [...received] });
      const agree = (["wifi", "lte"] as const).every(
        (l) => (sent.get(`iface=${l}`) ?? 0) === (ss[l]?.acked ?? 0) && (received.get(`iface=${l}`) ?? 0) === (ss[l]?.received ?? 0),
      );
      return agree && (ss["wifi"]?.acked ?? 0) >= 2_000_000 && (ss["wifi"]?.received ?? 0) >= 500_000 ? { ss, sent, received } : undefined;
    });
    // The backup carried nothing.
    expect(settled.sent.get("iface=lte") ?? 0).toBeLessThan(10_000);
    const mskBefore = ssMptcp();
    expect(query("mptcp_policy_subflows")).toEqual(
      new Map([
        ["iface=wifi", 1],
        ["iface=lte", 1],
      ]),
    );
    expect(one("mptcp_policy_connections")).toBe(1);
    expect(one(`mptcp_policy_events_total{event="subflow_established"}`, "event=subflow_established")).toBe(nstat("MPTcpExtMPJoinSynAckRx"));
    expect([...query("mptcp_policy_rule_fires_total")]).toEqual([[expect.stringMatching(/^rule=\S*policy\.policy:3$/), 1]]);
    expect(one(`mptcp_policy_actions_total`, "op=create,result=ok")).toBe(1);
    expect(one("mptcp_policy_event_to_action_seconds_count")).toBe(1);
    const wifiBefore = settled.sent.get("iface=wifi")!;

    // The server resets the Wi-Fi subflow: it closes with ECONNRESET, data moves to the backup.
    const reset = `add table inet metrics\nadd chain inet metrics in { type filter hook input priority -300; policy accept; }\nadd rule inet metrics in iifname "wifi" tcp dport ${server.port} reject with tcp reset\n`;
    const nft = spawnSync("ip", ["netns", "exec", lab.server, "nft", "-f", "-"], { input: reset, encoding: "utf8" });
    expect(nft.status, nft.stderr).toBe(0);
    client.command("send 300000");
    await until("the failover to be counted", () => (one("mptcp_policy_failovers_total", "from=wifi,to=lte") === 1 ? true : undefined));
    expect(one("mptcp_policy_subflow_closes_total", "iface=wifi,reason=ECONNRESET")).toBe(1);
    expect(one("mptcp_policy_failover_seconds_count")).toBe(1);
    const failoverSeconds = one("mptcp_policy_failover_seconds_sum")!;
    expect(failoverSeconds).toBeGreaterThan(0);
    expect(failoverSeconds).toBeLessThan(10);
    const after = await until("the lte bytes to match ss", () => {
      const ss = ssBytes();
      const sent = query("mptcp_policy_bytes_sent_total");
      lastSeen = JSON.stringify({ ss, sent: [...sent] });
      return ss["wifi"] === undefined && (ss["lte"]?.acked ?? 0) >= 300_000 && sent.get("iface=lte") === ss["lte"]?.acked ? sent : undefined;
    });
    // What the subflows moved since the reset is what the connection had acknowledged (ss -M).
    const mskAcked = Number(ssMptcp().sndUna - mskBefore.sndUna);
    const subflowsAcked = after.get("iface=wifi")! + after.get("iface=lte")! - wifiBefore - settled.sent.get("iface=lte")!;
    expect(mskAcked).toBe(300_000);
    expect(subflowsAcked).toBeGreaterThanOrEqual(mskAcked);
    expect(subflowsAcked).toBeLessThan(mskAcked * 1.01);
    // The closed subflow's bytes stay counted, and no counter ever went backwards.
    expect(after.get("iface=wifi")).toBeGreaterThanOrEqual(wifiBefore);
    expect(query("resets(mptcp_policy_bytes_sent_total[5m])")).toEqual(
      new Map([
        ["iface=wifi", 0],
        ["iface=lte", 0],
      ]),
    );
    expect(query("resets(mptcp_policy_bytes_received_total[5m])")).toEqual(new Map([["iface=wifi", 0]]));
    expect(query("mptcp_policy_subflows")).toEqual(new Map([["iface=lte", 1]]));
    process.stdout.write(
      `metrics: failover wifi -> lte in ${(failoverSeconds * 1000).toFixed(0)} ms; bytes sent wifi ${after.get("iface=wifi")} (ss before the reset ${settled.ss["wifi"]!.acked}), lte ${after.get("iface=lte")}\n`,
    );
  }, 60_000);

  it("counts a rejected reload", async () => {
    const dir = temps[0]!;
    writeFileSync(join(dir, "policy.policy"), "on established then frobnicate\n");
    await daemon.waitForMessage("the new policy was rejected; the running policy stays in force");
    await until("the reload failure to be scraped", () => (one("mptcp_policy_reload_failures_total") === 1 ? true : undefined));
    writeFileSync(join(dir, "policy.policy"), POLICY);
  }, 30_000);

  it("the Grafana dashboard's queries are accepted by Prometheus and name only metrics the daemon serves", () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, "examples/grafana-mptcp-policy.json"), "utf8")) as { panels: { targets: { expr: string }[] }[] };
    const served = getIn(`http://127.0.0.1:${METRICS_PORT}/metrics`).body;
    for (const { expr } of dashboard.panels.flatMap((p) => p.targets)) {
      const promql = expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*");
      const { status, body } = getIn(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(promql)}`);
      expect(status, `${promql}: ${body}`).toBe(200);
      for (const name of promql.match(/mptcp_policy_\w+/g) ?? []) expect(served, name).toContain(`# TYPE ${name.replace(/_bucket$/, "")} `);
    }
  });
});

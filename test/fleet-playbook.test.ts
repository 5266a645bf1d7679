// The fleet playbook (examples/ansible/site.yml, docs/fleet.md) run with Debian's
// ansible-playbook -c local in the kernel lab's systemd guest, as a host of the fleet
// would run it: it installs the package from the .deb, templates the policy (checked on
// the host by `validate: mptcp-policy check %s`), enables the unit, reloads through its
// handler, serves metrics and collects doctor's report. Then a policy with errors never
// reaches the host, and a second run with the same policy changes nothing.
//
//   bash scripts/build-deb.sh
//   bash scripts/vm.sh run 7 --systemd --timeout 3600 -- npx vitest run test/fleet-playbook.test.ts
//
// Not in the kernel matrix: every ansible task is a new Python process, which emulation
// makes slow (the file takes about 4 minutes in a quiet guest, docs/fleet.md).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab } from "./lab/topology.js";
import { ROOT } from "./helpers.js";
import { DEB, DROP_IN, POLICY, WATCHED, inSystemdGuest, journal, ok, run, tree } from "./package-support.js";

const REPORTS = "/tmp/mptcp-policy-ansible-reports";
/** One ansible-playbook run: minutes under emulation. */
const PLAYBOOK_TIMEOUT_MS = 1_200_000;

describe.skipIf(!inSystemdGuest)("the fleet playbook (examples/ansible/site.yml) with ansible-playbook -c local", { timeout: PLAYBOOK_TIMEOUT_MS }, () => {
  let lab: Lab | undefined;
  let before: string[] = [];

  beforeAll(async () => {
    if (!existsSync(DEB)) ok("bash", [join(ROOT, "scripts/build-deb.sh")]);
    before = tree(WATCHED);
    // The daemon the playbook starts runs in the lab's client namespace (a drop-in of
    // ours, as an administrator's would be): the metrics are read there.
    lab = await Lab.create();
    mkdirSync(DROP_IN, { recursive: true });
    writeFileSync(join(DROP_IN, "lab.conf"), `[Service]\nNetworkNamespacePath=/run/netns/${lab.ns("client")}\n`);
  }, 900_000);

  afterAll(async () => {
    run("systemctl", ["stop", "mptcp-policy"]);
    rmSync(DROP_IN, { recursive: true, force: true });
    run("dpkg", ["--purge", "mptcp-policy"]);
    await lab?.destroy();
    rmSync(REPORTS, { recursive: true, force: true });
  });

  const playbook = (rules: readonly string[]) => {
    const vars = {
      mptcp_policy_deb: DEB,
      mptcp_policy_interfaces: [
        { name: "wifi", patterns: ["wifi"] },
        { name: "lte", patterns: ["lte"] },
      ],
      mptcp_policy_rules: rules,
      mptcp_policy_metrics: "127.0.0.1:9101",
      mptcp_policy_reports: REPORTS,
    };
    return run("ansible-playbook", ["-i", "localhost,", "-c", "local", join(ROOT, "examples/ansible/site.yml"), "-e", JSON.stringify(vars)], {
      env: { ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0", HOME: "/root" },
      timeoutMs: PLAYBOOK_TIMEOUT_MS,
    });
  };
  const GOOD = ["on established if iface wifi then create via lte backup"];

  it("installs the package, templates the policy, starts and reloads the unit, serves metrics, collects doctor", async () => {
    const result = playbook(GOOD);
    expect(result.status, result.output).toBe(0);
    expect(readFileSync(POLICY, "utf8")).toContain("Ansible managed");
    expect(readFileSync(POLICY, "utf8")).toContain(GOOD[0]);
    expect(result.stdout).toMatch(/RUNNING HANDLER \[Restart mptcp-policy\]|RUNNING HANDLER \[Reload mptcp-policy\]/);
    await expect.poll(() => journal(), { timeout: 60_000, interval: 500 }).toMatch(/"msg":"running"|"msg":"policy reloaded"/);
    const metrics = () =>
      run("ip", [
        "netns",
        "exec",
        lab!.ns("client"),
        "/usr/bin/python3",
        "-c",
        "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9101/metrics').read().decode())",
      ]).stdout;
    await expect.poll(metrics, { timeout: 60_000, interval: 1000 }).toContain("mptcp_policy_policy_loaded{");
    expect(JSON.parse(readFileSync(join(REPORTS, "localhost.json"), "utf8"))).toBeInstanceOf(Array);
  });

  it("never lets a policy with errors reach the host: the play fails on the checker's error, the policy in force stays", () => {
    const policyBefore = readFileSync(POLICY, "utf8");
    const result = playbook(["on established then create via wfi"]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("error[E100]: interface 'wfi' is not declared");
    expect(readFileSync(POLICY, "utf8")).toBe(policyBefore);
    expect(run("systemctl", ["is-active", "mptcp-policy"]).stdout.trim()).toBe("active");
  });

  it("changes nothing when run again with the same policy", () => {
    const result = playbook(GOOD);
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(/localhost\s*: ok=\d+\s+changed=0 /);
  });

  it("leaves nothing behind after a purge", () => {
    run("systemctl", ["stop", "mptcp-policy"]);
    rmSync(DROP_IN, { recursive: true, force: true });
    ok("systemctl", ["daemon-reload"]);
    ok("dpkg", ["--purge", "mptcp-policy"]);
    rmSync("/var/cache/apt/archives/" + DEB.split("/").pop(), { force: true });
    expect(tree(WATCHED)).toEqual(before);
  });
});

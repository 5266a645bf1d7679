// The Debian package as an administrator meets it, in the kernel lab's systemd guest
// (systemd is PID 1; the root is an overlay, so dpkg changes nothing on the host):
//
//   bash scripts/build-deb.sh
//   bash scripts/vm.sh run 7 --systemd --timeout 1200 -- npx vitest run test/package-install.test.ts
//
// Install, check the starter policy, edit it, enable the unit, a connection in a lab
// namespace gets the rule's subflow, reload, man pages, completion, the toolchain
// messages, then purge, which must leave nothing behind. The steps run in order and
// each needs the one before. Anywhere but such a guest, it is skipped. The kernel
// matrix runs it (its "7 systemd" boot); the fleet playbook is test/fleet-playbook.test.ts.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab } from "./lab/topology.js";
import { waitForConnection } from "./daemon-support.js";
import { ROOT } from "./helpers.js";
import { DEB, DROP_IN, POLICY, VERSION, WATCHED, inSystemdGuest, journal, ok, run, tree } from "./package-support.js";

describe.skipIf(!inSystemdGuest)("the Debian package, installed in a systemd guest", { timeout: 600_000 }, () => {
  let lab: Lab | undefined;
  let before: string[] = [];
  let installed: string[] = [];

  beforeAll(() => {
    // Built on the host just before the boot (as the command above does): under emulation
    // a build takes minutes. Without one, the guest builds it (in its overlay).
    if (!existsSync(DEB)) ok("bash", [join(ROOT, "scripts/build-deb.sh")]);
    // man-db's trigger rebuilds the whole manual index on every install (a minute and more
    // under emulation); Debian's switch turns it off. `man` finds pages without the index.
    rmSync("/var/lib/man-db/auto-update", { force: true });
    // This machine's image is a container's: its /usr/sbin/policy-rc.d (exit 101) forbids
    // maintainer scripts to start or stop any service, so prerm's stop was refused and the
    // daemon kept the path manager through a purge. A Debian host has none; the guest's
    // root is a throwaway overlay, so it goes there and the host keeps its own.
    rmSync("/usr/sbin/policy-rc.d", { force: true });
    before = tree(WATCHED);
  }, 900_000);

  afterAll(async () => {
    await lab?.destroy();
    rmSync(DROP_IN, { recursive: true, force: true });
  });

  it("installs with dpkg -i: the unit installed and not enabled, the starter policy a conffile", () => {
    ok("dpkg", ["-i", DEB]);
    installed = ok("dpkg", ["-L", "mptcp-policy"])
      .split("\n")
      .filter((p) => p !== "" && !statSync(p).isDirectory());
    expect(installed).toEqual(
      expect.arrayContaining(["/usr/bin/mptcp-policy", "/usr/lib/systemd/system/mptcp-policy.service", POLICY, "/usr/share/man/man8/mptcp-policy.8.gz"]),
    );
    expect(ok("dpkg-query", ["-W", "-f=${Conffiles}", "mptcp-policy"])).toContain(POLICY);
    expect(run("systemctl", ["is-enabled", "mptcp-policy"]).stdout.trim()).toBe("disabled");
    expect(run("systemctl", ["is-active", "mptcp-policy"]).stdout.trim()).toBe("inactive");
    expect(ok("mptcp-policy", ["--version"]).trim()).toBe(`mptcp-policy ${VERSION}`);
    const verify = run("systemd-analyze", ["verify", "/usr/lib/systemd/system/mptcp-policy.service"]);
    expect(verify.status, verify.output).toBe(0);
    expect(verify.output).not.toContain("mptcp-policy.service:");
  });

  it("checks the starter policy clean: it declares nothing", () => {
    const result = run("mptcp-policy", ["check", "/etc/mptcp-policy"]);
    expect(result).toMatchObject({ status: 0, stdout: "", stderr: "" });
    expect(ok("mptcp-policy", ["compile", "--emit", "model", "/etc/mptcp-policy"])).toMatch(/"rules": \[\]/);
  });

  it("checks from the start-up snapshot the postinst built, and the nodejs trigger builds it again", () => {
    const launcher = ["-x", "/usr/bin/mptcp-policy", "check", "/etc/mptcp-policy"];
    const snapshot = "--snapshot-blob /usr/lib/mptcp-policy/bin/../dist/mptcp-policy-check.blob";
    const fast = run("sh", launcher);
    expect(fast.status, fast.stderr).toBe(0);
    expect(fast.stderr).toContain(snapshot);
    // As if another node had built it: the launcher falls back to the bundle.
    const stamp = "/usr/lib/mptcp-policy/dist/mptcp-policy-check.stamp";
    writeFileSync(stamp, "1 2 3\n");
    const plain = run("sh", launcher);
    expect(plain.status).toBe(0);
    expect(plain.stderr).not.toContain("--snapshot-blob");
    // What an upgrade of nodejs does: the trigger on /usr/bin/node runs the postinst.
    ok("dpkg-trigger", ["--no-await", "/usr/bin/node"]);
    ok("dpkg", ["--triggers-only", "--pending"]);
    expect(run("sh", launcher).stderr).toContain(snapshot);
  });

  it("runs the edited policy as the enabled unit: a connection in the lab gets the rule's subflow", async () => {
    lab = await Lab.create();
    lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
    const starter = readFileSync(POLICY, "utf8");
    writeFileSync(POLICY, `${starter}\ninterface wifi = "wifi"\ninterface lte = "lte"\non established if iface wifi then create via lte backup\n`);
    ok("mptcp-policy", ["check", "/etc/mptcp-policy"]);
    // The daemon enforces the policy on the network namespace it runs in: the lab's client.
    mkdirSync(DROP_IN, { recursive: true });
    writeFileSync(join(DROP_IN, "lab.conf"), `[Service]\nNetworkNamespacePath=/run/netns/${lab.ns("client")}\n`);
    ok("systemctl", ["daemon-reload"]);
    ok("systemctl", ["enable", "--now", "mptcp-policy"]);
    expect(run("systemctl", ["is-enabled", "mptcp-policy"]).stdout.trim()).toBe("enabled");
    await expect.poll(() => journal(), { timeout: 60_000, interval: 500 }).toMatch(/"msg":"running"/);
    expect(lab.pathManagerOf("client")).toBe("userspace");
    const server = await lab.startServer({ port: 5000 });
    const client = await lab.connect({ to: lab.address("server", "wifi"), port: server.port });
    client.command("send 1000");
    const connection = await waitForConnection(lab, "client", (c) => c.subflows.length === 2, 60_000);
    expect(connection.subflows.find((s) => s.saddr === lab!.address("client", "lte"))).toMatchObject({ daddr: lab.address("server", "wifi"), backup: true });
    // The installed CLI reads the same from the kernel.
    const status = JSON.parse(ok("ip", ["netns", "exec", lab.ns("client"), "mptcp-policy", "status", "--format", "json"])) as {
      connections: { subflows: unknown[] }[];
    };
    expect(status.connections.some((c) => c.subflows.length === 2)).toBe(true);
  });

  it("reloads with systemctl reload: an edited policy is applied, a broken one rejected and the unit stays up", async () => {
    writeFileSync(POLICY, `${readFileSync(POLICY, "utf8")}on closed then log "closed, after the reload"\n`);
    ok("systemctl", ["reload", "mptcp-policy"]);
    await expect.poll(() => journal(), { timeout: 60_000, interval: 500 }).toMatch(/"reason":"SIGHUP".*"msg":"policy reloaded"/);
    const good = readFileSync(POLICY, "utf8");
    const seen = journal().length;
    writeFileSync(POLICY, `${good}on established then create via wfi\n`);
    ok("systemctl", ["reload", "mptcp-policy"]);
    await expect.poll(() => journal().slice(seen), { timeout: 60_000, interval: 500 }).toMatch(/wfi/);
    expect(run("systemctl", ["is-active", "mptcp-policy"]).stdout.trim()).toBe("active");
    writeFileSync(POLICY, good);
    ok("systemctl", ["reload", "mptcp-policy"]);
  });

  it("has man pages that man finds and renders", () => {
    expect(ok("man", ["-w", "mptcp-policy"]).trim()).toBe("/usr/share/man/man8/mptcp-policy.8.gz");
    const env = { MANWIDTH: "80", PAGER: "cat", MANPAGER: "cat" };
    const page8 = ok("man", ["8", "mptcp-policy"], { env });
    for (const text of ["COMMANDS", "EXIT STATUS", "SIGNALS", "mptcp-policy check [--format text|json] PATH..."]) expect(page8).toContain(text);
    const page5 = ok("man", ["5", "mptcp-policy.policy"], { env });
    for (const text of ["STATEMENTS", "EVENTS", "SCHEDULERS", "DIAGNOSTICS"]) expect(page5).toContain(text);
  });

  it("completes in an interactive bash through bash-completion's loader", () => {
    const script = [
      ". /usr/share/bash-completion/bash_completion",
      "__load_completion mptcp-policy",
      "complete -p mptcp-policy",
      'COMP_WORDS=(mptcp-policy st); COMP_CWORD=1; _mptcp_policy; echo "commands: ${COMPREPLY[*]}"',
      'COMP_WORDS=(mptcp-policy check --format ""); COMP_CWORD=3; _mptcp_policy; echo "formats: ${COMPREPLY[*]}"',
      'cd /etc/mptcp-policy; COMP_WORDS=(mptcp-policy check ""); COMP_CWORD=2; _mptcp_policy; echo "paths: ${COMPREPLY[*]}"',
    ].join("\n");
    const out = run("bash", ["-i", "-c", script], { env: { HOME: "/root", TERM: "dumb" } }).stdout.split("\n");
    expect(out).toEqual(expect.arrayContaining(["complete -F _mptcp_policy mptcp-policy", "commands: status", "formats: text json", "paths: main.policy"]));
  });

  it("says which package is missing when build has no clang or no libbpf headers", () => {
    const example = "/usr/share/doc/mptcp-policy/examples/voip-redundancy";
    const noClang = run("mptcp-policy", ["build", "--no-verify", "-o", "/tmp/mptcp-policy-build", example], { env: { MPTCP_POLICY_CLANG: "clang-missing" } });
    expect(noClang.status).toBe(2);
    expect(noClang.stderr).toContain("install clang-19");
    const header = "/usr/include/bpf/bpf_helpers.h";
    renameSync(header, `${header}.away`);
    try {
      const noHeaders = run("mptcp-policy", ["build", "--no-verify", "-o", "/tmp/mptcp-policy-build", example]);
      expect(noHeaders.status).toBe(2);
      expect(noHeaders.stderr).toContain("install libbpf-dev");
    } finally {
      renameSync(`${header}.away`, header);
    }
  });

  it("purges: the daemon stopped and the kernel's state restored, no file, unit link or directory left", () => {
    rmSync(DROP_IN, { recursive: true, force: true });
    ok("systemctl", ["daemon-reload"]);
    ok("dpkg", ["--purge", "mptcp-policy"]);
    expect(lab!.pathManagerOf("client")).toBe("kernel");
    expect(installed.filter((p) => existsSync(p))).toEqual([]);
    expect(existsSync("/etc/mptcp-policy")).toBe(false);
    expect(existsSync("/run/mptcp-policy")).toBe(false);
    expect(run("systemctl", ["cat", "mptcp-policy"]).status).not.toBe(0);
    expect(tree(WATCHED)).toEqual(before);
  });
});

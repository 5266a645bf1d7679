// `mptcp-policy doctor [PATH] [--format text|json]`: the live system checked against
// the policy, one finding per problem with what is wrong, why it matters and the fix.
// Exit 0 clean, 1 problems found, 2 usage or a policy that cannot be read or checked.
import { dirname } from "node:path";
import { DEFAULT_CONFIG, loadPolicy } from "../daemon/policy-source.js";
import { permissionProblems } from "../daemon/preflight.js";
import type { Finding } from "../doctor/checks.js";
import { formatOption, type Command } from "./command.js";
import { InputError, UsageError } from "./errors.js";
import { writeOut } from "./output.js";

export const doctorCommand: Command = {
  name: "doctor",
  summary: "check this host against a policy: why nothing happens, and the fix",
  usage: `Usage: mptcp-policy doctor [PATH] [--format text|json]

Checks the live system (this network namespace) against the policy in PATH (default
${DEFAULT_CONFIG}): MPTCP enabled, interfaces the policy names and their addresses,
limits that make endpoints or rules useless, routes from each interface to the peers
(live connections' and the policy's), strict rp_filter, endpoints managed by
NetworkManager or mptcpd as well, the path manager with no daemon running, the BPF
scheduler hook. Each finding says what is wrong, why it matters, and the command or
policy line that fixes it. It only reads; nothing is changed.

Options:
  --format text|json   text (default) or a JSON array of
                       {"code", "severity", "subject", "message", "fix"}
  -h, --help           show this help

Exit status: 0 no problem found, 1 problems found, 2 usage error or a policy that
cannot be read or has errors.`,
  options: { format: { type: "string", default: "text" }, help: { type: "boolean", short: "h" } },
  async run(values, positionals) {
    const format = formatOption(values["format"]);
    if (positionals.length > 1) throw new UsageError("doctor takes one PATH (a policy file or directory)");
    const config = positionals[0] ?? DEFAULT_CONFIG;
    // Permissions are a finding here, not a refusal: the daemon would refuse them.
    const loaded = loadPolicy(config, { insecurePermissions: true });
    if (!loaded.ok) throw new InputError(`${loaded.problems.join("\n")}\n(the policy must check cleanly first: mptcp-policy check ${config})`);
    const { gatherFacts } = await import("../doctor/facts.js");
    const { diagnose } = await import("../doctor/checks.js");
    const findings = [...permissionFindings(loaded.files), ...diagnose(loaded.model, await gatherFacts(loaded.model))];
    writeOut(format === "json" ? JSON.stringify(findings, null, 2) : renderFindings(findings));
    return findings.length > 0 ? 1 : 0;
  },
};

function permissionFindings(files: readonly string[]): Finding[] {
  return permissionProblems([...new Set([...files.map((f) => dirname(f)), ...files])]).map((problem) => {
    const [message, fix] = problem.split(". Try ");
    return {
      code: "policy-permissions",
      severity: "error",
      subject: problem.split(" ")[0] ?? "",
      message: `${message}: the daemon refuses to start with it (anyone who can write it controls the host's MPTCP)`,
      fix: (fix ?? "").replace(/^'|', or start with --insecure-permissions\.$/g, ""),
    };
  });
}

function renderFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return "no problem found";
  return findings.map((f) => `${f.severity}[${f.code}] ${f.subject}: ${f.message}\n  fix: ${f.fix}`).join("\n\n");
}

// The checks of `mptcp-policy doctor`: pure functions from the policy and the facts
// read from the live system (facts.ts) to findings. Each finding says what is wrong
// and why it matters (`message`), and the command or policy line that fixes it
// (`fix`). Codes are stable: docs/operations.md lists them.
import ipaddr from "ipaddr.js";
import type { PolicyModel, SourceRef } from "../../compiler/model.js";
import { explainSchedulers } from "../../compiler/explain-schedulers.js";
import { planPolicy } from "../../compiler/plan.js";
import type { DoctorFacts, RouteCheck } from "./facts.js";

export type Severity = "error" | "warning";

export interface Finding {
  readonly code: string;
  readonly severity: Severity;
  readonly subject: string;
  readonly message: string;
  readonly fix: string;
}

type Check = (model: PolicyModel, facts: DoctorFacts) => Finding[];

const at = (ref: SourceRef | undefined) => (ref ? `${ref.file}:${ref.line}` : "the policy");

const mptcpDisabled: Check = (_model, facts) => {
  if (facts.mptcp === "enabled") return [];
  if (facts.mptcp === "missing")
    return [
      {
        code: "mptcp-missing",
        severity: "error",
        subject: "net.mptcp",
        message: "this kernel has no MPTCP (no /proc/sys/net/mptcp): every socket stays plain TCP",
        fix: "a kernel built with CONFIG_MPTCP=y (every Debian kernel has it)",
      },
    ];
  return [
    {
      code: "mptcp-disabled",
      severity: "error",
      subject: "net.mptcp.enabled",
      message: "MPTCP is disabled in this network namespace: new sockets fall back to plain TCP, and no rule or endpoint has any effect",
      fix: "sysctl -w net.mptcp.enabled=1",
    },
  ];
};

const interfacesWithoutLinks: Check = (model, facts) => {
  const names = facts.links.map((l) => l.ifname).filter((n) => n !== "lo");
  return model.interfaces.flatMap((iface) =>
    (facts.matched.get(iface.name) ?? []).length > 0
      ? []
      : [
          {
            code: "interface-not-found",
            severity: "warning" as const,
            subject: `interface ${iface.name}`,
            message: `${at(iface.at)}: ${iface.patterns.map((p) => `"${p}"`).join(", ")} matches no interface of this host (it has ${names.join(", ") || "none but lo"}): the rules, endpoints and actions on ${iface.name} do nothing until one appears`,
            fix: `${at(iface.at)}: interface ${iface.name} = ${names.length > 0 ? `"${names[0]}"` : '"NAME"'} (the kernel's name, or a pattern that matches it)`,
          },
        ],
  );
};

const interfacesWithoutAddress: Check = (model, facts) =>
  model.interfaces.flatMap((iface) => {
    const links = facts.matched.get(iface.name) ?? [];
    if (links.length === 0 || (facts.usable.get(iface.name) ?? []).length > 0) return [];
    return links.map((link) => ({
      code: "interface-no-address",
      severity: "warning" as const,
      subject: `interface ${iface.name} (${link.ifname})`,
      message: link.up
        ? `${link.ifname} has no usable address (none global and not tentative): no subflow can start from it, no endpoint or announcement is made for it`
        : `${link.ifname} is down: no subflow can start from it until it is up and has an address`,
      fix: link.up ? `ip address add ADDRESS/PREFIX dev ${link.ifname} (or start its DHCP or SLAAC client)` : `ip link set ${link.ifname} up`,
    }));
  });

/** Does the policy ask for subflows beyond the first: `create` actions, or endpoints with `subflow`/`fullmesh`. */
function wantsSubflows(model: PolicyModel): boolean {
  return (
    model.rules.some((r) => r.actions.some((a) => a.op === "create")) ||
    model.endpoints.some((e) => e.flags.includes("subflow") || e.flags.includes("fullmesh"))
  );
}

function wantsAnnounced(model: PolicyModel): SourceRef | undefined {
  for (const rule of model.rules) {
    const create = rule.actions.find((a) => a.op === "create" && a.to === "announced");
    if (create) return create.at;
    if (rule.event === "announced" && rule.actions.some((a) => a.op === "create")) return rule.at;
  }
  return undefined;
}

const uselessLimits: Check = (model, facts) => {
  const strategy = planPolicy(model).strategy;
  // The daemon applies the policy's limits; under the in-kernel path manager the kernel's own count where the policy sets none.
  const subflows = model.limits.subflows ?? (strategy === "kernel" ? facts.limits?.subflows : undefined);
  const accepted = model.limits.addAddrAccepted ?? (strategy === "kernel" ? facts.limits?.add_addr_accepted : undefined);
  const where = model.limits.at;
  const findings: Finding[] = [];
  if (subflows === 0 && wantsSubflows(model)) {
    findings.push({
      code: "limit-subflows-zero",
      severity: "error",
      subject: "limits subflows",
      message: `${model.limits.subflows !== undefined ? `${at(where)}: the policy sets` : "the kernel has"} subflows 0: no connection may have a second subflow, so every create and every subflow endpoint is refused`,
      fix: model.limits.subflows !== undefined ? `${at(where)}: limits subflows 2` : "limits subflows 2 (in the policy), or: ip mptcp limits set subflows 2",
    });
  }
  const announced = wantsAnnounced(model);
  // A signalling peer: under the in-kernel path manager, announcements arrived and were ignored.
  const signalled = strategy === "kernel" && model.limits.addAddrAccepted === undefined && (facts.addAddrReceived ?? 0) > 0;
  if (accepted === 0 && (announced || signalled)) {
    const why = announced
      ? `${at(announced)} sends subflows to announced addresses: every address a peer announces is ignored, and that rule never has one`
      : `peers announced ${facts.addAddrReceived} addresses (nstat MPTcpExtAddAddr) and the in-kernel path manager opened no subflow to any of them`;
    findings.push({
      code: "limit-add-addr-zero",
      severity: "error",
      subject: "limits add_addr_accepted",
      message: `${model.limits.addAddrAccepted !== undefined ? `${at(where)}: the policy sets` : "the kernel has"} add_addr_accepted 0, yet ${why}`,
      fix:
        model.limits.addAddrAccepted !== undefined
          ? `${at(where)}: limits add_addr_accepted 2`
          : "limits add_addr_accepted 2 (in the policy), or: ip mptcp limits set add_addr_accepted 2",
    });
  }
  return findings;
};

function onLink(check: RouteCheck): boolean {
  const peer = ipaddr.parse(check.peer);
  return check.link.addresses.some((a) => {
    const own = ipaddr.parse(a.address);
    return own.kind() === peer.kind() && peer.match(own, a.prefixlen);
  });
}

const noSourceRoute: Check = (_model, facts) =>
  facts.routes.flatMap((check) => {
    if (onLink(check)) return [];
    if (check.bound.ok && check.bound.route.gateway !== undefined && check.bound.route.oif === check.link.ifindex) return [];
    const unboundOif = check.unbound.ok ? check.unbound.route.oif : undefined;
    const other = facts.links.find((l) => l.ifindex === unboundOif)?.ifname;
    const unbound = other && other !== check.link.ifname ? `; unbound, its packets would leave through ${other}` : "";
    return [
      {
        code: "no-source-route",
        severity: "warning" as const,
        subject: `interface ${check.iface} (${check.link.ifname}) to ${check.peer}`,
        message: check.bound.ok
          ? `no route to ${check.peer} goes through ${check.link.ifname} for source ${check.source}: a subflow from it is sent as if ${check.peer} were on ${check.link.ifname}'s link, and fails unless something there answers for it${unbound}`
          : `the kernel finds no route to ${check.peer} through ${check.link.ifname} from ${check.source} (${check.bound.errno}): subflows from it cannot start`,
        fix: `ip route add default via GATEWAY dev ${check.link.ifname} table 100 && ip rule add from ${check.source} table 100 (GATEWAY: ${check.link.ifname}'s router)`,
      },
    ];
  });

const strictRpFilter: Check = (model, facts) => {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const iface of model.interfaces) {
    for (const link of facts.matched.get(iface.name) ?? []) {
      if (seen.has(link.ifname) || facts.rpFilter.get(link.ifname) !== 1 || !link.addresses.some((a) => a.family === "ipv4")) continue;
      seen.add(link.ifname);
      findings.push({
        code: "rp-filter-strict",
        severity: "warning",
        subject: `interface ${iface.name} (${link.ifname})`,
        message: `strict reverse path filtering (rp_filter 1) on ${link.ifname}: a packet arriving there from a peer the main routes reach through another interface is dropped, so subflows over ${link.ifname} to such peers never complete`,
        fix: `sysctl -w net.ipv4.conf.${link.ifname}.rp_filter=2`,
      });
    }
  }
  return findings;
};

const foreignManagers: Check = (model, facts) => {
  const declared = new Set([
    ...model.endpoints.flatMap((e) => ("address" in e.target ? [e.target.address.address] : (facts.usable.get(e.target.iface) ?? []).map((a) => a.address))),
  ]);
  const foreign = facts.endpoints.filter((e) => !declared.has(e.address));
  if (foreign.length === 0) return [];
  const list = foreign.map((e) => `${e.address} (id ${e.id})`).join(", ");
  const managers = [
    ...new Map(
      facts.managers.filter((m) => m.kind === "mptcpd" || (m.kind === "NetworkManager" && facts.networkManagerMptcp)).map((m) => [m.kind, m]),
    ).values(),
  ];
  return managers.map((m) => ({
    code: "foreign-endpoints",
    severity: "warning" as const,
    subject: `${m.kind} (pid ${m.pid})`,
    message: `the kernel has endpoints the policy does not declare (${list}) and ${m.kind} runs in this namespace, which manages MPTCP endpoints too: the two undo each other's endpoints`,
    fix:
      m.kind === "mptcpd"
        ? "systemctl disable --now mptcpd (mptcp-policy replaces it)"
        : "printf '[connection]\\nconnection.mptcp-flags=0x1\\n' > /etc/NetworkManager/conf.d/90-mptcp-policy.conf && systemctl reload NetworkManager",
  }));
};

const pathManagerMismatch: Check = (model, facts) => {
  const plan = planPolicy(model);
  if (facts.pathManager === undefined || facts.pathManager === plan.strategy || facts.managers.some((m) => m.kind === "mptcp-policy")) return [];
  return [
    {
      code: "path-manager-mismatch",
      severity: "warning",
      subject: "net.mptcp.path_manager",
      message: `the policy needs the ${plan.strategy} path manager (${plan.reasons[0] ?? "its rules"}), the kernel uses the ${facts.pathManager} one, and no 'mptcp-policy run' runs in this namespace: nothing enforces the policy`,
      fix: "systemctl enable --now mptcp-policy (or: mptcp-policy run --config PATH)",
    },
  ];
};

const schedulerHookMissing: Check = (model, facts) => {
  const hook = facts.kernel.features.bpf_scheduler_hook;
  if (model.schedulers.length === 0 || hook.available === true) return [];
  const lines = explainSchedulers(model, planPolicy(model).strategy, { kernel: { bpfSchedulerHook: false, detail: hook.how } });
  return model.schedulers.map((scheduler) => {
    const header = lines.findIndex((l) => l.startsWith(`${at(scheduler.at)}: scheduler ${scheduler.name} `));
    const fallback = (lines[header + 1] ?? "").replace(/^\s*- on this kernel: /, "");
    return {
      code: "scheduler-hook-missing",
      severity: "warning" as const,
      subject: `scheduler ${scheduler.name}`,
      message: `${at(scheduler.at)}: this kernel has no BPF scheduler hook (${hook.how}), so scheduler ${scheduler.name} cannot be attached; instead it is ${fallback.replace(/^[A-Z]/, (c) => c.toLowerCase())}`,
      fix: "nothing for the approximation ('run --scheduler-fallback approximate', the default); for the exact scheduler, a kernel with MPTCP's BPF scheduler hook (docs/scheduler.md)",
    };
  });
};

/** In the order a reader fixes them: MPTCP itself, the interfaces, limits, routing, other managers, the daemon, schedulers. */
const CHECKS: readonly Check[] = [
  mptcpDisabled,
  interfacesWithoutLinks,
  interfacesWithoutAddress,
  uselessLimits,
  noSourceRoute,
  strictRpFilter,
  foreignManagers,
  pathManagerMismatch,
  schedulerHookMissing,
];

export function diagnose(model: PolicyModel, facts: DoctorFacts): Finding[] {
  return CHECKS.flatMap((check) => check(model, facts));
}

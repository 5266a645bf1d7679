/**
 * Faults on one link of a lab, as users meet them, and their recovery:
 *
 * - `link_down`: the carrier is lost (`ip link set down`); recovery brings it up and
 *   gives back the IPv6 address the kernel dropped, as a DHCP or SLAAC client would.
 * - `blackhole`: the link stays up and every packet on it vanishes in both
 *   directions (Wi-Fi out of range): nftables drops them as they arrive at each end.
 * - `degraded`: delay and loss rising in steps (netem on both ends where the kernel
 *   has it; where it has not, as on this host, loss alone through nftables).
 * - `flapping`: down and up again every `flapMs` until recovered.
 *
 *   const fault = await injectFault(lab, "wifi", "blackhole");
 *   ...
 *   await fault.recover();
 *
 * Times are CLOCK_MONOTONIC milliseconds (monotonicMs), the clock the lab's Python
 * peers timestamp with, so a benchmark can set deliveries against the fault.
 */
import { spawnSync } from "node:child_process";
import { Lab, LabError, type LinkName, type Netem, type Side } from "./topology.js";

export const FAULT_KINDS = ["link_down", "blackhole", "degraded", "flapping"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultOptions {
  /** Whose end of the link fails (default: the client's). Degradation applies to both ends. */
  readonly side?: Side;
  /** flapping: how long each down and each up lasts (default 1500 ms). */
  readonly flapMs?: number;
  /** degraded: how long each step lasts before the next, worse one (default 1000 ms). */
  readonly stepMs?: number;
}

export interface ActiveFault {
  readonly kind: FaultKind;
  readonly link: LinkName;
  /** When the fault began (monotonicMs). */
  readonly startedAt: number;
  /** Undo the fault; resolves with when the link was back (monotonicMs). */
  recover(): Promise<number>;
}

/** The degradation's steps: what netem adds to each direction (or the loss alone). */
export const DEGRADATION_STEPS: readonly Netem[] = [
  { delayMs: 50, lossPercent: 2 },
  { delayMs: 150, lossPercent: 10 },
  { delayMs: 400, lossPercent: 25 },
];

/** CLOCK_MONOTONIC in milliseconds (Node's hrtime is CLOCK_MONOTONIC on Linux). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function injectFault(lab: Lab, link: LinkName, kind: FaultKind, options: FaultOptions = {}): Promise<ActiveFault> {
  const side = options.side ?? "client";
  switch (kind) {
    case "link_down":
      return linkDown(lab, side, link);
    case "blackhole":
      return blackhole(lab, link);
    case "degraded":
      return degrade(lab, link, options.stepMs ?? 1000);
    case "flapping":
      return flap(lab, side, link, options.flapMs ?? 1500);
  }
}

function linkDown(lab: Lab, side: Side, link: LinkName): ActiveFault {
  setLink(lab, side, link, "down");
  return { kind: "link_down", link, startedAt: monotonicMs(), recover: async () => (setLink(lab, side, link, "up"), monotonicMs()) };
}

function blackhole(lab: Lab, link: LinkName): ActiveFault {
  dropOnArrival(lab, link, undefined);
  return { kind: "blackhole", link, startedAt: monotonicMs(), recover: async () => (undoDrops(lab, link), monotonicMs()) };
}

function degrade(lab: Lab, link: LinkName, stepMs: number): ActiveFault {
  const sides = ["client", "server"] as const;
  const base = new Map(sides.map((s) => [s, lab.netemOf(s, link)]));
  const withNetem = hasNetem();
  let step = 0;
  const apply = (): void => {
    const worse = DEGRADATION_STEPS[step]!;
    for (const s of sides) {
      if (withNetem) {
        const before = base.get(s);
        lab.setNetem(s, link, { delayMs: (before?.delayMs ?? 0) + (worse.delayMs ?? 0), lossPercent: (before?.lossPercent ?? 0) + (worse.lossPercent ?? 0) });
      }
    }
    if (!withNetem) {
      // No netem: loss alone, on arrival at each end.
      if (step > 0) undoDrops(lab, link);
      dropOnArrival(lab, link, worse.lossPercent ?? 0);
    }
  };
  apply();
  const startedAt = monotonicMs();
  const timer = setInterval(() => {
    if (step + 1 >= DEGRADATION_STEPS.length) return;
    step++;
    apply();
  }, stepMs);
  return {
    kind: "degraded",
    link,
    startedAt,
    recover: async () => {
      clearInterval(timer);
      if (!withNetem) undoDrops(lab, link);
      else
        for (const s of sides) {
          const before = base.get(s);
          if (before) lab.setNetem(s, link, before);
          else lab.clearNetem(s, link);
        }
      return monotonicMs();
    },
  };
}

function flap(lab: Lab, side: Side, link: LinkName, flapMs: number): ActiveFault {
  let down = true;
  setLink(lab, side, link, "down");
  const startedAt = monotonicMs();
  const timer = setInterval(() => {
    down = !down;
    setLink(lab, side, link, down ? "down" : "up");
  }, flapMs);
  return {
    kind: "flapping",
    link,
    startedAt,
    recover: async () => {
      clearInterval(timer);
      if (down) setLink(lab, side, link, "up");
      else restoreAddresses(lab, side, link);
      return monotonicMs();
    },
  };
}

function setLink(lab: Lab, side: Side, link: LinkName, state: "up" | "down"): void {
  lab.ip(side, "link", "set", "dev", lab.ifname(side, link), state);
  if (state === "up") restoreAddresses(lab, side, link);
}

/** Down drops the IPv6 address (keep_addr_on_down is 0): give it back, as a DHCP or SLAAC client would. */
function restoreAddresses(lab: Lab, side: Side, link: LinkName): void {
  const dev = lab.ifname(side, link);
  if (!lab.ip(side, "-6", "addr", "show", "dev", dev).includes(lab.address(side, link, "ipv6"))) {
    lab.ip(side, "addr", "replace", `${lab.address(side, link, "ipv6")}/64`, "dev", dev, "nodad");
  }
}

/**
 * Drop what arrives over the link at both ends (all of it, or `lossPercent` at random):
 * packets leave the sender and vanish on the way, as on a real path. A drop in the
 * sender's own output hook would not do: the sender's stack sees the local error and
 * keeps the data queued instead of in flight.
 */
function dropOnArrival(lab: Lab, link: LinkName, lossPercent: number | undefined): void {
  const table = tableName(link);
  const match = lossPercent === undefined ? "drop" : `numgen random mod 100 < ${Math.round(lossPercent)} drop`;
  for (const side of ["client", "server"] as const) {
    const rules = [
      `add table inet ${table}`,
      `add chain inet ${table} in { type filter hook prerouting priority -300; policy accept; }`,
      `add rule inet ${table} in iifname "${lab.ifname(side, link)}" ${match}`,
      "",
    ];
    nft(lab, side, rules.join("\n"));
  }
}

function undoDrops(lab: Lab, link: LinkName): void {
  for (const side of ["client", "server"] as const) nft(lab, side, `delete table inet ${tableName(link)}\n`);
}

function tableName(link: LinkName): string {
  return `mptl_fault_${link}`;
}

function nft(lab: Lab, side: Side, script: string): void {
  const result = spawnSync("ip", ["netns", "exec", lab.ns(side), "nft", "-f", "-"], { input: script, encoding: "utf8" });
  if (result.error || result.status !== 0) {
    throw new LabError(`nft in ${lab.ns(side)}: ${(result.stderr || result.error?.message || "").trim()} (is the nftables package installed?)`);
  }
}

let netemKnown: boolean | undefined;
function hasNetem(): boolean {
  netemKnown ??= Lab.netemAvailable();
  return netemKnown;
}

// A lab with the daemon running a scheduler policy and a transfer under way, for the
// live scheduler tier tests (test/live-tiers-lab.test.ts, test/live-tiers-preference.test.ts).
import { rmSync } from "node:fs";
import { Lab } from "./lab/topology.js";
import { LabProcesses, slowLink, startTransfer } from "./lab/transfer.js";
import { policyDir, startDaemon, waitForConnection, type RunningDaemon } from "./daemon-support.js";

export const TIERS_POLICY = `interface wifi = "wifi"
interface lte = "lte"
on established if iface wifi then create via lte
scheduler fast {
  use where rtt < 100ms by lowest rtt
  use any
}
`;
export const INTERVAL_MS = 250;

export interface TieredLab {
  readonly lab: Lab;
  readonly daemon: RunningDaemon;
  readonly procs: LabProcesses;
  stop(): Promise<void>;
}

/** LTE slow (test/lab/transfer.ts slowLink), the daemon on the client with `policy`, a 400 KB/s transfer over Wi-Fi with its LTE subflow. */
export async function startTieredDaemon(policy: string, fallback: "approximate" | "off", port: number, options: { congest?: boolean } = {}): Promise<TieredLab> {
  const lab = await Lab.create();
  const procs = new LabProcesses();
  const dir = policyDir({ "policy.policy": policy });
  let daemon: RunningDaemon | undefined;
  const stop = async () => {
    procs.killAll();
    await daemon?.stop();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    lab.ip("server", "mptcp", "limits", "set", "subflows", "8", "add_addr_accepted", "8");
    await slowLink(lab, procs, "lte", options);
    daemon = startDaemon(lab, "client", ["--config", dir, "--scheduler-interval", `${INTERVAL_MS}ms`, "--scheduler-fallback", fallback]);
    await daemon.waitForMessage("running");
    await startTransfer(lab, procs, port, 400_000);
    await waitForConnection(lab, "client", (c) => c.subflows.length === 2);
    return { lab, daemon, procs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

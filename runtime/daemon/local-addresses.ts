// Local addresses for a policy interface name, and the ids the userspace path
// manager needs for them: one stable id per (connection, address), never 0 (the
// initial subflow's) and never one the connection already uses.
import type { InterfaceModel } from "../../compiler/model.js";
import type { ConnectionState } from "../../compiler/connections.js";
import type { AddressInfo, Family, InterfaceTracker } from "../netlink/index.js";

/** Addresses of the kernel interfaces a policy interface names, link-local ones aside. */
export function addressesOf(tracker: InterfaceTracker, iface: InterfaceModel | undefined, family?: Family): AddressInfo[] {
  if (!iface) return [];
  const seen = new Set<string>();
  return iface.patterns
    .flatMap((pattern) => tracker.addresses(pattern, family))
    .filter((a) => !(a.family === "ipv6" && a.address.toLowerCase().startsWith("fe80:")) && !seen.has(a.address) && seen.add(a.address));
}

export class LocalIds {
  private readonly byConnection = new Map<string, Map<string, number>>();

  /** The id for `address` on this connection, allocated on first use. */
  idFor(connection: ConnectionState, address: string): number {
    let ids = this.byConnection.get(connection.token);
    if (!ids) {
      ids = new Map();
      this.byConnection.set(connection.token, ids);
    }
    const known = ids.get(address) ?? connection.subflows.find((s) => s.saddr === address && s.locid !== undefined && s.locid !== 0)?.locid;
    if (known !== undefined) {
      ids.set(address, known);
      return known;
    }
    const used = new Set<number>([0, ...ids.values(), ...connection.subflows.map((s) => s.locid ?? 0)]);
    let id = 1;
    while (used.has(id)) id += 1;
    ids.set(address, id);
    return id;
  }

  /** The id given to `address`, if any. */
  existing(token: string, address: string): number | undefined {
    return this.byConnection.get(token)?.get(address);
  }

  forget(token: string): void {
    this.byConnection.delete(token);
  }
}

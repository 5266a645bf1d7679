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
  /**
   * Per connection, [address, id, address, id, ...]: most connections have one or two
   * ids, and a Map per open connection cost several times their memory.
   */
  private readonly byConnection = new Map<string, (string | number)[]>();

  /** The id for `address` on this connection, allocated on first use. */
  idFor(connection: ConnectionState, address: string): number {
    const ids = this.byConnection.get(connection.token);
    const given = ids === undefined ? undefined : idIn(ids, address);
    if (given !== undefined) return given;
    const known = connection.subflows.find((s) => s.saddr === address && s.locid !== undefined && s.locid !== 0)?.locid;
    if (known !== undefined) return this.remember(connection.token, ids, address, known);
    const used = new Set<number>([0, ...connection.subflows.map((s) => s.locid ?? 0)]);
    if (ids) for (let i = 1; i < ids.length; i += 2) used.add(ids[i] as number);
    let id = 1;
    while (used.has(id)) id += 1;
    return this.remember(connection.token, ids, address, id);
  }

  /**
   * A connection's first id goes in an array of exactly two: an empty array grown by
   * push keeps room for 17 (150 bytes on every open connection of a busy server).
   */
  private remember(token: string, ids: (string | number)[] | undefined, address: string, id: number): number {
    if (ids) ids.push(address, id);
    else this.byConnection.set(token, [address, id]);
    return id;
  }

  /** The id given to `address`, if any. */
  existing(token: string, address: string): number | undefined {
    const ids = this.byConnection.get(token);
    return ids === undefined ? undefined : idIn(ids, address);
  }

  forget(token: string): void {
    this.byConnection.delete(token);
  }
}

function idIn(ids: readonly (string | number)[], address: string): number | undefined {
  for (let i = 0; i < ids.length; i += 2) if (ids[i] === address) return ids[i + 1] as number;
  return undefined;
}

// Per-connection state built from events, shared by the daemon and the simulator:
// addresses, side, subflows and the addresses the peer announced. Dropped on `closed`.
import type { PolicyEvent } from "./events.js";

export interface SubflowState {
  readonly family?: "ipv4" | "ipv6";
  readonly saddr?: string;
  readonly daddr?: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly locid?: number;
  readonly remid?: number;
  readonly ifindex?: number;
  readonly ifname?: string;
  backup: boolean;
}

export interface AnnouncedAddress {
  readonly remid: number;
  readonly address?: string;
  readonly port?: number;
}

export interface ConnectionState {
  readonly token: string;
  family?: "ipv4" | "ipv6";
  saddr?: string;
  daddr?: string;
  sport?: number;
  dport?: number;
  serverSide: boolean;
  established: boolean;
  /** The interface of the first subflow, as its event named it: the connection's zone (`isolate`) is this one's. */
  ifname?: string;
  /**
   * Open subflows, the initial one included. Replaced, not grown, when a subflow comes
   * or goes: an array grown by push keeps room for 16, and a busy server keeps one per
   * open connection. Read it again after an event; do not hold on to it.
   */
  subflows: SubflowState[];
  /** Shared and empty (NO_ANNOUNCEMENTS) until the peer announces an address: a busy server's connections mostly have none. */
  announced: AnnouncedAddress[];
  /** Only on the state handed back for a `removed` event: the address the peer withdrew. */
  readonly withdrawn?: AnnouncedAddress;
}

/** The subflows of a connection that has none yet: shared and frozen (the list is replaced, never grown). */
const NO_SUBFLOWS: SubflowState[] = Object.freeze([]) as unknown as SubflowState[];
/** The announced list of connections that have none: frozen, so it is replaced before any push. */
const NO_ANNOUNCEMENTS: AnnouncedAddress[] = Object.freeze([]) as unknown as AnnouncedAddress[];

export class ConnectionTable {
  readonly connections = new Map<string, ConnectionState>();

  /**
   * Update the table with one event and return the connection as the rules should
   * see it: after the event, or as it was just before a `closed`.
   */
  apply(event: PolicyEvent): ConnectionState | undefined {
    const token = event.token;
    if (token === undefined) return undefined;
    let connection = this.connections.get(token);
    if (event.event === "closed") {
      this.connections.delete(token);
      return connection;
    }
    if (!connection) {
      // Every field in the literal (see subflowOf): filled in place by the events that follow.
      connection = {
        token,
        family: undefined,
        saddr: undefined,
        daddr: undefined,
        sport: undefined,
        dport: undefined,
        serverSide: false,
        established: false,
        ifname: undefined,
        subflows: NO_SUBFLOWS,
        announced: NO_ANNOUNCEMENTS,
      };
      this.connections.set(token, connection);
    }
    switch (event.event) {
      case "created":
      case "established":
        fillConnection(connection, event);
        if (event.event === "established") connection.established = true;
        if (event.saddr !== undefined && !findSubflow(connection, event)) addSubflow(connection, subflowOf(event));
        break;
      case "subflow_established":
        if (!findSubflow(connection, event)) addSubflow(connection, subflowOf(event));
        break;
      case "subflow_closed": {
        const index = connection.subflows.findIndex((s) => sameSubflow(s, event));
        if (index >= 0) connection.subflows = connection.subflows.slice(0, index).concat(connection.subflows.slice(index + 1));
        break;
      }
      case "subflow_priority": {
        const subflow = findSubflow(connection, event);
        if (subflow) subflow.backup = event.backup === true;
        break;
      }
      case "announced":
        if (event.remid !== undefined) {
          removeAnnounced(connection, event.remid);
          if (connection.announced === NO_ANNOUNCEMENTS) connection.announced = [];
          connection.announced.push({ remid: event.remid, ...(event.daddr !== undefined ? { address: event.daddr } : {}), ...(event.dport !== undefined ? { port: event.dport } : {}) });
        }
        break;
      case "removed":
        if (event.remid !== undefined) {
          const announced = connection.announced.find((a) => a.remid === event.remid);
          removeAnnounced(connection, event.remid);
          // The rules of `removed` test the withdrawn address; hand it back beside the
          // connection's own remote address, which actions such as `create` still go to.
          return announced ? { ...connection, withdrawn: announced } : connection;
        }
        break;
    }
    return connection;
  }
}

function fillConnection(connection: ConnectionState, event: PolicyEvent): void {
  connection.family = event.family ?? connection.family;
  connection.saddr = event.saddr ?? connection.saddr;
  connection.daddr = event.daddr ?? connection.daddr;
  connection.sport = event.sport ?? connection.sport;
  connection.dport = event.dport ?? connection.dport;
  if (event.server_side !== undefined) connection.serverSide = event.server_side;
  if (connection.ifname === undefined && event.ifname !== undefined) connection.ifname = event.ifname;
}

/**
 * A subflow's state, every field in one object literal in one fixed order (absent ones
 * undefined): the object is allocated once with its fields inside. Added one by one,
 * the fields went to a separate property array grown three at a time, which cost a
 * third more on every subflow of every open connection.
 */
function subflowOf(event: PolicyEvent): SubflowState {
  return {
    family: event.family,
    saddr: event.saddr,
    daddr: event.daddr,
    sport: event.sport,
    dport: event.dport,
    locid: event.locid,
    remid: event.remid,
    ifindex: event.ifindex,
    ifname: event.ifname,
    backup: event.backup === true,
  };
}

/** A new array of exactly the subflows (see ConnectionState.subflows). */
function addSubflow(connection: ConnectionState, subflow: SubflowState): void {
  connection.subflows = connection.subflows.length === 0 ? [subflow] : connection.subflows.concat(subflow);
}

function sameSubflow(subflow: SubflowState, event: PolicyEvent): boolean {
  return subflow.saddr === event.saddr && subflow.daddr === event.daddr && subflow.sport === event.sport && subflow.dport === event.dport;
}

function findSubflow(connection: ConnectionState, event: PolicyEvent): SubflowState | undefined {
  return connection.subflows.find((s) => sameSubflow(s, event));
}

function removeAnnounced(connection: ConnectionState, remid: number): void {
  const index = connection.announced.findIndex((a) => a.remid === remid);
  if (index >= 0) connection.announced.splice(index, 1);
  if (connection.announced.length === 0) connection.announced = NO_ANNOUNCEMENTS;
}

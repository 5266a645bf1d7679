// The MPTCP path manager through the mptcp_pm generic netlink family, behind two
// small interfaces as in mptcpd: the in-kernel path manager (endpoints and limits
// of a network namespace) and the userspace path manager (per-connection
// commands by token). One client implements both; which one a namespace uses is
// net.mptcp.path_manager (see status.ts).
import { NETLINK_GENERIC } from "./constants.js";
import { NetlinkError } from "./errors.js";
import { resolveFamily, type GenlFamily } from "./genl.js";
import { decodeEndpointReply, decodeLimits, encode, pmAttrName, tokenNumber, type AddressSpec, type Endpoint, type Limits } from "./mptcp-codec.js";
import { NetlinkSocket, type NetlinkSocketOptions } from "./socket.js";

export type Token = string | number;

/** The in-kernel path manager (MPTCP_PM_CMD_* on endpoints and limits). */
export interface KernelPathManager {
  /** ADD_ADDR: `address` and flags (signal, subflow, backup, fullmesh, laminar), optional id, port, ifindex. */
  addEndpoint(endpoint: AddressSpec): Promise<void>;
  /** DEL_ADDR by id (id 0 needs the address too). */
  deleteEndpoint(id: number, address?: string): Promise<void>;
  /** GET_ADDR of one id. */
  getEndpoint(id: number): Promise<Endpoint>;
  /** GET_ADDR dump. */
  listEndpoints(): Promise<Endpoint[]>;
  /** FLUSH_ADDRS. */
  flushEndpoints(): Promise<void>;
  /** SET_LIMITS: either or both. */
  setLimits(limits: Partial<Limits>): Promise<void>;
  /** GET_LIMITS. */
  getLimits(): Promise<Limits>;
  /** SET_FLAGS on an endpoint chosen by id or address: only backup and fullmesh can change. */
  setEndpointFlags(endpoint: { id?: number; address?: string; port?: number }, flags: { backup?: boolean; fullmesh?: boolean }): Promise<void>;
}

/** The userspace path manager (net.mptcp.path_manager=userspace): commands for one connection. */
export interface UserspacePathManager {
  /** ANNOUNCE: send ADD_ADDR for a local address with a non-zero id. */
  announce(token: Token, local: { id: number; address: string; port?: number; ifindex?: number }): Promise<void>;
  /** REMOVE: send RM_ADDR for a local address id (closing its subflows). */
  remove(token: Token, localId: number): Promise<void>;
  /** SUBFLOW_CREATE from a local address (with an id) to a remote address and port. */
  createSubflow(
    token: Token,
    local: { id: number; address: string; ifindex?: number; backup?: boolean },
    remote: { address: string; port: number },
  ): Promise<void>;
  /** SUBFLOW_DESTROY: the subflow with exactly these addresses and ports. */
  destroySubflow(token: Token, local: { address: string; port: number }, remote: { address: string; port: number }): Promise<void>;
  /** SET_FLAGS by token: send MP_PRIO to make a subflow (not) a backup. */
  setSubflowBackup(token: Token, local: { address: string; port?: number }, remote: { address: string; port: number }, backup: boolean): Promise<void>;
  /** GET_ADDR dump by token: the local addresses the userspace PM knows for a connection (kernel 6.14+). */
  listConnectionAddresses(token: Token): Promise<Endpoint[]>;
}

export interface PathManagerOptions extends NetlinkSocketOptions {}

/** 4 MiB: thousands of acknowledgements in flight fit. */
export const REQUEST_RECEIVE_BUFFER = 4 << 20;

/** A client of the mptcp_pm family; close() it when done. */
export class MptcpPathManager implements KernelPathManager, UserspacePathManager {
  private constructor(
    private readonly socket: NetlinkSocket,
    readonly family: GenlFamily,
  ) {}

  static async open(options: PathManagerOptions = {}): Promise<MptcpPathManager> {
    // A burst of requests (a connection storm under the daemon) must not overflow the
    // acknowledgements: the default 208 KiB buffer did, and every pending request failed.
    const socket = new NetlinkSocket(NETLINK_GENERIC, { receiveBuffer: REQUEST_RECEIVE_BUFFER, ...options });
    try {
      return new MptcpPathManager(socket, await resolveFamily(socket, "mptcp_pm"));
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  close(): void {
    this.socket.close();
  }

  private async call(name: string, payload: Buffer, kind: "ack" | "reply" | "dump" = "ack"): Promise<Buffer[]> {
    const replies = await this.socket.request(this.family.id, payload, {
      describe: `mptcp_pm ${name}`,
      dump: kind === "dump",
      expectReply: kind === "reply",
      headerLength: 4,
      attrName: pmAttrName,
    });
    return replies.filter((r) => r.type === this.family.id).map((r) => r.payload);
  }

  async addEndpoint(endpoint: AddressSpec): Promise<void> {
    if (endpoint.address === undefined) throw new Error("an endpoint needs an address");
    await this.call("ADD_ADDR", encode.addAddr(endpoint));
  }

  async deleteEndpoint(id: number, address?: string): Promise<void> {
    await this.call("DEL_ADDR", encode.delAddr(address === undefined ? { id } : { id, address }));
  }

  async getEndpoint(id: number): Promise<Endpoint> {
    const [reply] = await this.call("GET_ADDR", encode.getAddr(id), "reply");
    const endpoint = reply ? decodeEndpointReply(reply) : undefined;
    if (!endpoint) throw new NetlinkError({ errno: 74, request: "mptcp_pm GET_ADDR", extack: "the reply had no address" });
    return endpoint;
  }

  async listEndpoints(): Promise<Endpoint[]> {
    const replies = await this.call("GET_ADDR dump", encode.dumpAddrs(), "dump");
    return replies.map(decodeEndpointReply).filter((e): e is Endpoint => e !== undefined);
  }

  async flushEndpoints(): Promise<void> {
    await this.call("FLUSH_ADDRS", encode.flushAddrs());
  }

  async setLimits(limits: Partial<Limits>): Promise<void> {
    await this.call("SET_LIMITS", encode.setLimits(limits));
  }

  async getLimits(): Promise<Limits> {
    const [reply] = await this.call("GET_LIMITS", encode.getLimits(), "reply");
    if (!reply) throw new NetlinkError({ errno: 74, request: "mptcp_pm GET_LIMITS", extack: "no reply" });
    return decodeLimits(reply);
  }

  async setEndpointFlags(endpoint: { id?: number; address?: string; port?: number }, flags: { backup?: boolean; fullmesh?: boolean }): Promise<void> {
    const bits = (flags.backup ? 4 : 0) | (flags.fullmesh ? 8 : 0);
    await this.call("SET_FLAGS", encode.setFlags({ ...endpoint, flags: bits }));
  }

  async announce(token: Token, local: { id: number; address: string; port?: number; ifindex?: number }): Promise<void> {
    await this.call("ANNOUNCE", encode.announce(tokenNumber(token), { ...local, flags: ["signal"] }));
  }

  async remove(token: Token, localId: number): Promise<void> {
    await this.call("REMOVE", encode.remove(tokenNumber(token), localId));
  }

  async createSubflow(
    token: Token,
    local: { id: number; address: string; ifindex?: number; backup?: boolean },
    remote: { address: string; port: number },
  ): Promise<void> {
    const { backup, ...address } = local;
    await this.call("SUBFLOW_CREATE", encode.subflowCreate(tokenNumber(token), { ...address, ...(backup ? { flags: ["backup"] } : {}) }, remote));
  }

  async destroySubflow(token: Token, local: { address: string; port: number }, remote: { address: string; port: number }): Promise<void> {
    await this.call("SUBFLOW_DESTROY", encode.subflowDestroy(tokenNumber(token), local, remote));
  }

  async setSubflowBackup(token: Token, local: { address: string; port?: number }, remote: { address: string; port: number }, backup: boolean): Promise<void> {
    await this.call("SET_FLAGS", encode.setFlags({ ...local, flags: backup ? ["backup"] : 0 }, tokenNumber(token), remote));
  }

  async listConnectionAddresses(token: Token): Promise<Endpoint[]> {
    const replies = await this.call("GET_ADDR dump", encode.dumpAddrsOf(tokenNumber(token)), "dump");
    return replies.map(decodeEndpointReply).filter((e): e is Endpoint => e !== undefined);
  }
}

// Live MPTCP sockets through sock_diag, as `ss -M` and `ss -tiM` read them:
// inet_diag dumps of IPPROTO_MPTCP sockets (the connections, with struct
// mptcp_info) and of TCP sockets whose ULP is "mptcp" (the subflows, with
// their MPTCP_SUBFLOW_ATTR_* info and tcp_info). The decoders are pure.
import { familyName, formatIpv4, formatIpv6, parseAddress, type Family } from "./addresses.js";
import { AttrWriter, forEachAttr, NetlinkDecodeError, type NlMessage } from "./codec.js";
import {
  AF_INET,
  AF_INET6,
  INET_DIAG_INFO,
  INET_DIAG_REQ_PROTOCOL,
  INET_DIAG_ULP_INFO,
  INET_ULP_INFO_MPTCP,
  INET_ULP_INFO_NAME,
  IPPROTO_MPTCP,
  IPPROTO_TCP,
  MPTCP_INFO_FLAG_FALLBACK,
  MPTCP_SUBFLOW_ATTR,
  MPTCP_SUBFLOW_FLAG,
  NETLINK_SOCK_DIAG,
  SOCK_DESTROY,
  SOCK_DIAG_BY_FAMILY,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  TCP_STATES,
} from "./constants.js";
import { tokenText } from "./mptcp-codec.js";
import { NetlinkSocket, type NetlinkSocketOptions } from "./socket.js";

/** What every inet_diag message says about a socket. */
export interface SocketId {
  readonly family: Family;
  readonly state: string;
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  /** The socket's bound device (0: none). */
  readonly ifindex: number;
  readonly inode: number;
}

/** struct mptcp_info, as far as status needs it. */
export interface MptcpInfo {
  readonly token: string;
  /** Extra subflows (mptcpi_subflows). */
  readonly subflows: number;
  readonly add_addr_signal: number;
  readonly add_addr_accepted: number;
  readonly subflows_max: number;
  readonly add_addr_signal_max: number;
  readonly add_addr_accepted_max: number;
  readonly flags: number;
  readonly fallback: boolean;
  readonly local_addr_used: number;
  readonly local_addr_max: number;
  readonly csum_enabled: boolean;
  /** Kernel 6.10+: every subflow, the initial one included. */
  readonly subflows_total?: number;
  readonly bytes_sent?: number;
  readonly bytes_received?: number;
  readonly bytes_acked?: number;
  readonly bytes_retrans?: number;
  readonly retransmits?: number;
}

export interface MptcpSocket extends SocketId {
  readonly info?: MptcpInfo;
}

/** A TCP subflow's MPTCP ULP info (MPTCP_SUBFLOW_ATTR_*) and a few tcp_info fields. */
export interface SubflowSocket extends SocketId {
  /** The connection's local token (the `token` of its events). */
  readonly token: string;
  readonly remote_token: string;
  readonly locid: number;
  readonly remid: number;
  /** MPTCP_SUBFLOW_FLAG_* bits. */
  readonly flags: number;
  /** This side asked for backup (MP_PRIO / MP_JOIN backup bit sent). */
  readonly backup: boolean;
  /** The peer marked the subflow backup. */
  readonly remote_backup: boolean;
  readonly fully_established: boolean;
  /** tcp_info: smoothed RTT and its variation (µs), congestion window (packets). */
  readonly rtt_us?: number;
  readonly rttvar_us?: number;
  readonly cwnd?: number;
  /** The rest of tcp_info that progress and the scheduler metrics read (absent when the kernel sent none). */
  readonly tcp?: TcpProgress;
}

/** struct tcp_info fields (linux/tcp.h) for progress and the language's metrics. */
export interface TcpProgress {
  /** Packets sent and not yet acknowledged (tcpi_unacked). */
  readonly unacked: number;
  readonly sacked: number;
  readonly lost: number;
  /** Retransmitted packets not yet acknowledged (tcpi_retrans). */
  readonly retrans: number;
  /** RTO backoffs in a row without an acknowledgement (tcpi_backoff). */
  readonly backoff: number;
  readonly rto_us: number;
  /** Milliseconds since the last acknowledgement arrived (tcpi_last_ack_recv). */
  readonly last_ack_recv_ms: number;
  /** Milliseconds since data was last sent (tcpi_last_data_sent). */
  readonly last_data_sent_ms: number;
  readonly pacing_rate: number;
  readonly bytes_acked: number;
  readonly bytes_received: number;
  /** Bytes written and not yet sent (tcpi_notsent_bytes, 4.6+). */
  readonly notsent_bytes: number;
  /** Bytes sent, retransmissions included (tcpi_bytes_sent, 4.19+; 0 when older). */
  readonly bytes_sent: number;
  readonly bytes_retrans: number;
}

/** Decode struct tcp_info as far as the kernel filled it. */
export function decodeTcpProgress(info: Buffer): TcpProgress | undefined {
  if (info.length < 152) return undefined;
  const u64 = (offset: number): number => (offset + 8 <= info.length ? Number(info.readBigUInt64LE(offset)) : 0);
  return {
    backoff: info[4] ?? 0,
    rto_us: info.readUInt32LE(8),
    unacked: info.readUInt32LE(24),
    sacked: info.readUInt32LE(28),
    lost: info.readUInt32LE(32),
    retrans: info.readUInt32LE(36),
    last_data_sent_ms: info.readUInt32LE(44),
    last_ack_recv_ms: info.readUInt32LE(56),
    pacing_rate: u64(104),
    bytes_acked: u64(120),
    bytes_received: u64(128),
    notsent_bytes: info.readUInt32LE(144),
    bytes_sent: u64(200),
    bytes_retrans: u64(208),
  };
}

/** inet_diag_req_v2 for a dump of `protocol` sockets of one family; MPTCP's number needs INET_DIAG_REQ_PROTOCOL. */
export function encodeInetDiagRequest(family: number, protocol: number, states = 0xffffffff, extensions = 1 << (INET_DIAG_INFO - 1)): Buffer {
  const request = Buffer.alloc(56);
  request[0] = family;
  request[1] = protocol & 0xff;
  request[2] = extensions;
  request.writeUInt32LE(states >>> 0, 4);
  request.fill(0xff, 48, 56); // idiag_cookie: INET_DIAG_NOCOOKIE
  if (protocol <= 0xff) return request;
  return Buffer.concat([request, new AttrWriter().u32(INET_DIAG_REQ_PROTOCOL, protocol).finish()]);
}

/** inet_diag_req_v2 naming one TCP socket by its local and remote address and port, for SOCK_DESTROY. */
export function encodeSocketDestroy(local: { address: string; port: number }, remote: { address: string; port: number }, ifindex = 0): Buffer {
  const source = parseAddress(local.address);
  const destination = parseAddress(remote.address);
  const request = Buffer.alloc(56);
  request[0] = source.family === "ipv4" ? AF_INET : AF_INET6;
  request[1] = IPPROTO_TCP;
  request.writeUInt32LE(0xffffffff, 4);
  request.writeUInt16BE(local.port, 8);
  request.writeUInt16BE(remote.port, 10);
  source.bytes.copy(request, 12);
  destination.bytes.copy(request, 28);
  // A socket bound to a device is found only with that device (an unbound one with any).
  request.writeUInt32LE(ifindex, 44);
  request.fill(0xff, 48, 56); // INET_DIAG_NOCOOKIE: found by the addresses
  return request;
}

export function decodeSocketId(payload: Buffer): SocketId {
  const family = familyName(payload[0] ?? 0) ?? "ipv4";
  const address = (offset: number): string => (family === "ipv4" ? formatIpv4(payload, offset) : formatIpv6(payload, offset));
  return {
    family,
    state: TCP_STATES[payload[1] ?? 0] ?? String(payload[1]),
    sport: payload.readUInt16BE(4),
    dport: payload.readUInt16BE(6),
    saddr: address(8),
    daddr: address(24),
    ifindex: payload.readUInt32LE(40),
    inode: payload.readUInt32LE(68),
  };
}

const INET_DIAG_MSG_LENGTH = 72;

export function decodeMptcpInfo(data: Buffer): MptcpInfo {
  const u8 = (offset: number): number => (offset < data.length ? (data[offset] ?? 0) : 0);
  const u32 = (offset: number): number | undefined => (offset + 4 <= data.length ? data.readUInt32LE(offset) : undefined);
  const u64 = (offset: number): number | undefined => (offset + 8 <= data.length ? Number(data.readBigUInt64LE(offset)) : undefined);
  const flags = u32(8) ?? 0;
  const info: { -readonly [K in keyof MptcpInfo]: MptcpInfo[K] } = {
    token: tokenText(u32(12) ?? 0),
    subflows: u8(0),
    add_addr_signal: u8(1),
    add_addr_accepted: u8(2),
    subflows_max: u8(3),
    add_addr_signal_max: u8(4),
    add_addr_accepted_max: u8(5),
    flags,
    fallback: (flags & MPTCP_INFO_FLAG_FALLBACK) !== 0,
    local_addr_used: u8(40),
    local_addr_max: u8(41),
    csum_enabled: u8(42) !== 0,
  };
  // Fields added in later kernels: present only when the kernel's struct is long enough.
  if (data.length >= 80) {
    info.retransmits = u32(44) ?? 0;
    info.bytes_retrans = u64(48) ?? 0;
    info.bytes_sent = u64(56) ?? 0;
    info.bytes_received = u64(64) ?? 0;
    info.bytes_acked = u64(72) ?? 0;
  }
  if (data.length >= 81) info.subflows_total = u8(80);
  return info;
}

/** One message of an IPPROTO_MPTCP dump. */
export function decodeMptcpSocket(payload: Buffer): MptcpSocket {
  const id = decodeSocketId(payload);
  let info: MptcpInfo | undefined;
  forEachAttr(payload.subarray(INET_DIAG_MSG_LENGTH), (type, data) => {
    if (type === INET_DIAG_INFO) info = decodeMptcpInfo(data);
  });
  return info ? { ...id, info } : id;
}

/**
 * One message of a TCP dump: a subflow when its ULP is "mptcp", else undefined.
 * Walks the attributes by offset, with no closure, map or slice per attribute: the
 * stale detection and the live scheduler tiers decode every subflow of the namespace
 * several times a second.
 */
export function decodeSubflowSocket(payload: Buffer): SubflowSocket | undefined {
  let info = -1;
  let infoLength = 0;
  let ulp = -1;
  let ulpEnd = -1;
  let isMptcp = false;
  for (let offset = INET_DIAG_MSG_LENGTH; offset + 4 <= payload.length; ) {
    const length = attrLength(payload, offset);
    const type = payload.readUInt16LE(offset + 2) & 0x3fff;
    if (type === INET_DIAG_INFO) {
      info = offset + 4;
      infoLength = length - 4;
    } else if (type === INET_DIAG_ULP_INFO) {
      for (let inner = offset + 4; inner + 4 <= offset + length; ) {
        const innerLength = attrLength(payload, inner);
        const innerType = payload.readUInt16LE(inner + 2) & 0x3fff;
        if (innerType === INET_ULP_INFO_NAME) isMptcp = isMptcpName(payload, inner + 4, innerLength - 4);
        else if (innerType === INET_ULP_INFO_MPTCP) {
          ulp = inner + 4;
          ulpEnd = inner + innerLength;
        }
        inner += (innerLength + 3) & ~3;
      }
    }
    offset += (length + 3) & ~3;
  }
  if (!isMptcp || ulp < 0) return undefined;
  let tokenLoc = 0;
  let tokenRem = 0;
  let locid = 0;
  let remid = 0;
  let flags = 0;
  for (let offset = ulp; offset + 4 <= ulpEnd; ) {
    const length = attrLength(payload, offset);
    const type = payload.readUInt16LE(offset + 2) & 0x3fff;
    const value = uintAt(payload, offset + 4, length - 4);
    if (type === MPTCP_SUBFLOW_ATTR.TOKEN_LOC) tokenLoc = value;
    else if (type === MPTCP_SUBFLOW_ATTR.TOKEN_REM) tokenRem = value;
    else if (type === MPTCP_SUBFLOW_ATTR.ID_LOC) locid = value;
    else if (type === MPTCP_SUBFLOW_ATTR.ID_REM) remid = value;
    else if (type === MPTCP_SUBFLOW_ATTR.FLAGS) flags = value;
    offset += (length + 3) & ~3;
  }
  const id = decodeSocketId(payload);
  const subflow: { -readonly [K in keyof SubflowSocket]: SubflowSocket[K] } = {
    family: id.family,
    state: id.state,
    saddr: id.saddr,
    daddr: id.daddr,
    sport: id.sport,
    dport: id.dport,
    ifindex: id.ifindex,
    inode: id.inode,
    token: tokenText(tokenLoc),
    remote_token: tokenText(tokenRem),
    locid,
    remid,
    flags,
    backup: (flags & MPTCP_SUBFLOW_FLAG.BKUP_LOC) !== 0,
    remote_backup: (flags & MPTCP_SUBFLOW_FLAG.BKUP_REM) !== 0,
    fully_established: (flags & MPTCP_SUBFLOW_FLAG.FULLY_ESTABLISHED) !== 0,
  };
  if (info >= 0 && infoLength >= 84) {
    subflow.rtt_us = payload.readUInt32LE(info + 68);
    subflow.rttvar_us = payload.readUInt32LE(info + 72);
    subflow.cwnd = payload.readUInt32LE(info + 80);
    const progress = decodeTcpProgress(payload.subarray(info, info + infoLength));
    if (progress) subflow.tcp = progress;
  }
  return subflow;
}

function attrLength(payload: Buffer, offset: number): number {
  const length = payload.readUInt16LE(offset);
  if (length < 4 || offset + length > payload.length) throw new NetlinkDecodeError(`bad attribute length ${length} at offset ${offset} of ${payload.length}`);
  return length;
}

/** An unsigned integer of the width the kernel sent (1, 2, 4 or 8 bytes); 0 for others. */
function uintAt(payload: Buffer, offset: number, width: number): number {
  if (width === 4) return payload.readUInt32LE(offset);
  if (width === 1) return payload[offset] ?? 0;
  if (width === 2) return payload.readUInt16LE(offset);
  if (width === 8) return Number(payload.readBigUInt64LE(offset));
  return 0;
}

/** The ULP name attribute says "mptcp" (NUL-terminated), compared without making a string. */
function isMptcpName(payload: Buffer, offset: number, length: number): boolean {
  return length >= 5 && payload[offset] === 0x6d && payload[offset + 1] === 0x70 && payload[offset + 2] === 0x74 && payload[offset + 3] === 0x63 && payload[offset + 4] === 0x70 && (length === 5 || payload[offset + 5] === 0);
}

/** A sock_diag client; close() it when done. */
export class SockDiag {
  private readonly socket: NetlinkSocket;

  constructor(options: NetlinkSocketOptions = {}) {
    this.socket = new NetlinkSocket(NETLINK_SOCK_DIAG, options);
  }

  close(): void {
    this.socket.close();
  }

  private async dump(family: number, protocol: number, describe: string, states?: number): Promise<NlMessage[]> {
    const replies = await this.socket.request(SOCK_DIAG_BY_FAMILY, encodeInetDiagRequest(family, protocol, states), { dump: true, describe });
    return replies.filter((r) => r.type === SOCK_DIAG_BY_FAMILY);
  }

  /**
   * Abort one TCP socket (tcp_abort: a reset to the peer), as `ss -K` does. A subflow of
   * a connection the in-kernel path manager serves cannot be closed with SUBFLOW_DESTROY,
   * which only the userspace path manager takes; this closes it whoever serves it.
   */
  async destroy(local: { address: string; port: number }, remote: { address: string; port: number }, ifindex = 0): Promise<void> {
    await this.socket.request(SOCK_DESTROY, encodeSocketDestroy(local, remote, ifindex), { describe: `sock_diag SOCK_DESTROY ${local.address}:${local.port} -> ${remote.address}:${remote.port}` });
  }

  /** Every MPTCP socket (connections and listeners) of both families. */
  async mptcpSockets(): Promise<MptcpSocket[]> {
    const all = await Promise.all([AF_INET, AF_INET6].map((af) => this.dump(af, IPPROTO_MPTCP, `sock_diag MPTCP ${af === AF_INET ? "IPv4" : "IPv6"} dump`)));
    return all.flat().map((m) => decodeMptcpSocket(m.payload));
  }

  /** Every TCP socket that is an MPTCP subflow; `established` asks the kernel for those in ESTABLISHED only (the sampler's dump). */
  async subflows(options: { established?: boolean } = {}): Promise<SubflowSocket[]> {
    const states = options.established ? 1 << TCP_ESTABLISHED : undefined;
    const all = await Promise.all([AF_INET, AF_INET6].map((af) => this.dump(af, IPPROTO_TCP, `sock_diag TCP ${af === AF_INET ? "IPv4" : "IPv6"} dump`, states)));
    return all
      .flat()
      .map((m) => decodeSubflowSocket(m.payload))
      .filter((s): s is SubflowSocket => s !== undefined && s.state !== TCP_STATES[TCP_LISTEN]);
  }
}

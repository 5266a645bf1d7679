// Route lookups as `ip route get DST from SRC oif DEV` does them: one RTM_GETROUTE
// per question, answered by the kernel's own FIB (policy rules and tables included).
import { formatAddress, parseAddress } from "../netlink/addresses.js";
import { NETLINK_ROUTE } from "../netlink/constants.js";
import { NetlinkError } from "../netlink/errors.js";
import { NetlinkSocket } from "../netlink/socket.js";

const RTM_GETROUTE = 26;
const RTA_DST = 1;
const RTA_SRC = 2;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PREFSRC = 7;

export interface RouteAnswer {
  /** The interface the packet would leave through. */
  readonly oif?: number;
  readonly gateway?: string;
  readonly prefsrc?: string;
}

export type RouteResult = { readonly ok: true; readonly route: RouteAnswer } | { readonly ok: false; readonly errno: string };

function attribute(type: number, data: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16LE(4 + data.length, 0);
  header.writeUInt16LE(type, 2);
  const padding = Buffer.alloc((4 - (data.length % 4)) % 4);
  return Buffer.concat([header, data, padding]);
}

/** struct rtmsg and its attributes for one lookup (pure; exported for tests). */
export function encodeRouteQuery(query: { readonly dst: string; readonly src?: string; readonly oif?: number }): Buffer {
  const dst = parseAddress(query.dst);
  const bits = dst.family === "ipv4" ? 32 : 128;
  const header = Buffer.alloc(12);
  header[0] = dst.family === "ipv4" ? 2 : 10;
  header[1] = bits;
  const parts = [header, attribute(RTA_DST, dst.bytes)];
  if (query.src !== undefined) {
    header[2] = bits;
    parts.push(attribute(RTA_SRC, parseAddress(query.src).bytes));
  }
  if (query.oif !== undefined) {
    const oif = Buffer.alloc(4);
    oif.writeUInt32LE(query.oif, 0);
    parts.push(attribute(RTA_OIF, oif));
  }
  return Buffer.concat(parts);
}

/** The attributes of an RTM_NEWROUTE answer that the checks read (pure). */
export function decodeRouteAnswer(payload: Buffer): RouteAnswer {
  const route: { oif?: number; gateway?: string; prefsrc?: string } = {};
  for (let offset = 12; offset + 4 <= payload.length;) {
    const length = payload.readUInt16LE(offset);
    const type = payload.readUInt16LE(offset + 2) & 0x3fff;
    if (length < 4) break;
    const data = payload.subarray(offset + 4, offset + length);
    if (type === RTA_OIF && data.length >= 4) route.oif = data.readUInt32LE(0);
    else if (type === RTA_GATEWAY) route.gateway = formatAddress(data);
    else if (type === RTA_PREFSRC) route.prefsrc = formatAddress(data);
    offset += (length + 3) & ~3;
  }
  return route;
}

export class RouteLookup {
  private readonly socket = new NetlinkSocket(NETLINK_ROUTE, {});

  async lookup(query: { readonly dst: string; readonly src?: string; readonly oif?: number }): Promise<RouteResult> {
    const describe = `rtnetlink RTM_GETROUTE ${query.dst}${query.src ? ` from ${query.src}` : ""}${query.oif !== undefined ? ` oif ${query.oif}` : ""}`;
    try {
      const [reply] = await this.socket.request(RTM_GETROUTE, encodeRouteQuery(query), { expectReply: true, describe, headerLength: 12 });
      return { ok: true, route: reply ? decodeRouteAnswer(reply.payload) : {} };
    } catch (error) {
      if (error instanceof NetlinkError) return { ok: false, errno: error.code };
      throw error;
    }
  }

  close(): void {
    this.socket.close();
  }
}

// The netlink wire format as pure functions: message headers, attributes (TLVs),
// the generic-netlink header, and error/ACK messages with their extended-ack
// attributes. No sockets here, so everything is testable on recorded bytes.
import {
  GENL_HDRLEN,
  NLA_F_NESTED,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MISS_NEST,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from "./constants.js";

/** One netlink message; `payload` is a view into the received buffer (no copy). */
export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Buffer;
}

/** A buffer that does not hold well-formed netlink data. */
export class NetlinkDecodeError extends Error {
  override readonly name = "NetlinkDecodeError";
}

export const align4 = (n: number): number => (n + 3) & ~3;

/** Split a datagram into messages. Malformed framing throws NetlinkDecodeError. */
export function parseMessages(buffer: Buffer): NlMessage[] {
  const messages: NlMessage[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= buffer.length) {
    const length = buffer.readUInt32LE(offset);
    if (length < NLMSG_HDRLEN || offset + length > buffer.length) {
      throw new NetlinkDecodeError(`bad netlink message length ${length} at offset ${offset} of ${buffer.length}`);
    }
    messages.push({
      type: buffer.readUInt16LE(offset + 4),
      flags: buffer.readUInt16LE(offset + 6),
      seq: buffer.readUInt32LE(offset + 8),
      pid: buffer.readUInt32LE(offset + 12),
      payload: buffer.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += align4(length);
  }
  return messages;
}

/** A whole message: header and payload. `pid` 0 lets the kernel route it to itself. */
export function encodeMessage(type: number, flags: number, seq: number, payload: Buffer, pid = 0): Buffer {
  const out = Buffer.allocUnsafe(NLMSG_HDRLEN + payload.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(pid >>> 0, 12);
  payload.copy(out, NLMSG_HDRLEN);
  return out;
}

export function encodeGenlHeader(cmd: number, version: number): Buffer {
  return Buffer.from([cmd, version, 0, 0]);
}

export interface GenlMessage {
  readonly cmd: number;
  readonly version: number;
  /** The attributes after the 4-byte genl header. */
  readonly attrs: Buffer;
}

export function parseGenl(payload: Buffer): GenlMessage {
  if (payload.length < GENL_HDRLEN) throw new NetlinkDecodeError(`generic netlink payload of ${payload.length} bytes is shorter than its header`);
  return { cmd: payload[0] ?? 0, version: payload[1] ?? 0, attrs: payload.subarray(GENL_HDRLEN) };
}

/** One attribute; `type` has the NESTED and NET_BYTEORDER bits removed. */
export interface Attr {
  readonly type: number;
  readonly nested: boolean;
  readonly data: Buffer;
}

/** All attributes of a buffer, in order. A truncated attribute throws NetlinkDecodeError. */
export function parseAttrs(buffer: Buffer): Attr[] {
  const attrs: Attr[] = [];
  forEachAttr(buffer, (type, data, nested) => attrs.push({ type, nested, data }));
  return attrs;
}

/** Visit attributes without allocating a list (the event decoder's hot path). */
export function forEachAttr(buffer: Buffer, visit: (type: number, data: Buffer, nested: boolean) => void): void {
  let offset = 0;
  while (offset + NLA_HDRLEN <= buffer.length) {
    const length = buffer.readUInt16LE(offset);
    const rawType = buffer.readUInt16LE(offset + 2);
    if (length < NLA_HDRLEN || offset + length > buffer.length) {
      throw new NetlinkDecodeError(`bad attribute length ${length} at offset ${offset} of ${buffer.length}`);
    }
    visit(rawType & NLA_TYPE_MASK, buffer.subarray(offset + NLA_HDRLEN, offset + length), (rawType & NLA_F_NESTED) !== 0);
    offset += align4(length);
  }
}

/** First attribute of each type, by type. */
export function attrMap(buffer: Buffer): Map<number, Buffer> {
  const map = new Map<number, Buffer>();
  forEachAttr(buffer, (type, data) => {
    if (!map.has(type)) map.set(type, data);
  });
  return map;
}

/** Read an unsigned integer of whatever width the kernel sent (1, 2, 4 or 8 bytes), host order. */
export function readUint(data: Buffer): number | undefined {
  switch (data.length) {
    case 1:
      return data.readUInt8(0);
    case 2:
      return data.readUInt16LE(0);
    case 4:
      return data.readUInt32LE(0);
    case 8:
      return Number(data.readBigUInt64LE(0));
    default:
      return undefined;
  }
}

/** A NUL-terminated string attribute. */
export function readString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString("utf8", 0, end === -1 ? data.length : end);
}

/** Builds an attribute stream; nests are closed in order. */
export class AttrWriter {
  private buffer = Buffer.allocUnsafe(128);
  private length = 0;
  private readonly nests: number[] = [];

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  private header(type: number, dataLength: number): number {
    const total = align4(NLA_HDRLEN + dataLength);
    this.reserve(total);
    const start = this.length;
    this.buffer.fill(0, start + NLA_HDRLEN + dataLength, start + total); // padding
    this.buffer.writeUInt16LE(NLA_HDRLEN + dataLength, start);
    this.buffer.writeUInt16LE(type, start + 2);
    this.length += total;
    return start + NLA_HDRLEN;
  }

  u8(type: number, value: number): this {
    this.buffer.writeUInt8(value, this.header(type, 1));
    return this;
  }
  u16(type: number, value: number): this {
    this.buffer.writeUInt16LE(value, this.header(type, 2));
    return this;
  }
  be16(type: number, value: number): this {
    this.buffer.writeUInt16BE(value, this.header(type, 2));
    return this;
  }
  u32(type: number, value: number): this {
    this.buffer.writeUInt32LE(value >>> 0, this.header(type, 4));
    return this;
  }
  s32(type: number, value: number): this {
    this.buffer.writeInt32LE(value, this.header(type, 4));
    return this;
  }
  bytes(type: number, value: Uint8Array): this {
    this.buffer.set(value, this.header(type, value.length));
    return this;
  }
  string(type: number, value: string): this {
    const encoded = Buffer.from(`${value}\0`, "utf8");
    return this.bytes(type, encoded);
  }
  /** Open a nested attribute (NLA_F_NESTED set, as the kernel's strict parsers want). */
  begin(type: number): this {
    this.reserve(NLA_HDRLEN);
    this.nests.push(this.length);
    this.buffer.writeUInt16LE(type | NLA_F_NESTED, this.length + 2);
    this.length += NLA_HDRLEN;
    return this;
  }
  end(): this {
    const start = this.nests.pop();
    if (start === undefined) throw new Error("AttrWriter.end() without begin()");
    this.buffer.writeUInt16LE(this.length - start, start);
    return this;
  }
  finish(): Buffer {
    if (this.nests.length > 0) throw new Error("AttrWriter.finish() with an open nest");
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}

/** What an NLMSG_ERROR (or a DONE carrying an error) says. */
export interface NlError {
  /** 0 for an ACK, else a positive errno. */
  readonly errno: number;
  /** Sequence number of the request it answers. */
  readonly seq: number;
  /** The kernel's extended-ack message (NLMSGERR_ATTR_MSG). */
  readonly message?: string;
  /** Offset of the offending attribute in the request (NLMSGERR_ATTR_OFFS). */
  readonly offset?: number;
  /** A missing attribute (NLMSGERR_ATTR_MISS_TYPE) and the nest it is missing from (MISS_NEST, an offset). */
  readonly missingType?: number;
  readonly missingNest?: number;
}

/** Decode the payload of an NLMSG_ERROR message (struct nlmsgerr and extack TLVs). */
export function parseError(payload: Buffer, flags: number): NlError {
  if (payload.length < 4) throw new NetlinkDecodeError("NLMSG_ERROR shorter than its error code");
  const errno = -payload.readInt32LE(0) || 0;
  let seq = 0;
  let tlvStart = payload.length;
  if (payload.length >= 4 + NLMSG_HDRLEN) {
    seq = payload.readUInt32LE(4 + 8);
    const requestLength = payload.readUInt32LE(4);
    // The request is echoed whole unless NLM_F_CAPPED (NETLINK_CAP_ACK) or an ACK without error.
    tlvStart = 4 + (flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(requestLength));
  }
  const result: { -readonly [K in keyof NlError]: NlError[K] } = { errno, seq };
  if (flags & NLM_F_ACK_TLVS && tlvStart < payload.length) parseExtack(payload.subarray(tlvStart), result);
  return result;
}

/** Decode a DONE message: it may carry a dump's error code and extack TLVs. */
export function parseDone(payload: Buffer, flags: number, seq: number): NlError {
  const errno = payload.length >= 4 ? -payload.readInt32LE(0) || 0 : 0;
  const result: { -readonly [K in keyof NlError]: NlError[K] } = { errno, seq };
  if (flags & NLM_F_ACK_TLVS && payload.length > 4) parseExtack(payload.subarray(4), result);
  return result;
}

function parseExtack(tlvs: Buffer, into: { message?: string; offset?: number; missingType?: number; missingNest?: number }): void {
  try {
    forEachAttr(tlvs, (type, data) => {
      if (type === NLMSGERR_ATTR_MSG) into.message = readString(data);
      else if (type === NLMSGERR_ATTR_OFFS && data.length >= 4) into.offset = data.readUInt32LE(0);
      else if (type === NLMSGERR_ATTR_MISS_TYPE && data.length >= 4) into.missingType = data.readUInt32LE(0);
      else if (type === NLMSGERR_ATTR_MISS_NEST && data.length >= 4) into.missingNest = data.readUInt32LE(0);
    });
  } catch {
    // A damaged extack never hides the error code itself.
  }
}

/** Find the path of attribute types leading to byte `offset` of a request message (for NLMSGERR_ATTR_OFFS). */
export function attrPathAt(request: Buffer, offset: number, headerLength: number): number[] {
  const path: number[] = [];
  let start = NLMSG_HDRLEN + headerLength;
  let end = request.length;
  while (start < end) {
    let found = false;
    let cursor = start;
    while (cursor + NLA_HDRLEN <= end) {
      const length = request.readUInt16LE(cursor);
      if (length < NLA_HDRLEN) return path;
      const type = request.readUInt16LE(cursor + 2);
      if (offset >= cursor && offset < cursor + length) {
        path.push(type & NLA_TYPE_MASK);
        if (offset === cursor || !(type & NLA_F_NESTED)) return path;
        start = cursor + NLA_HDRLEN;
        end = cursor + length;
        found = true;
        break;
      }
      cursor += align4(length);
    }
    if (!found) return path;
  }
  return path;
}

/** Bytes as lowercase hex, for attributes kept raw. */
export function toHex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
}

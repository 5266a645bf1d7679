// The netlink codecs on bytes recorded from a real kernel (test/fixtures/netlink/
// recorded.json, made by scripts/record-netlink-fixtures.mjs) and on hand-made
// bytes: framing, attributes, extended ACKs, every MPTCP event kind, endpoints,
// limits, rtnetlink links and addresses, sock_diag, and requests byte for byte.
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { PolicyEvent as CorePolicyEvent } from "../compiler/events.js";
import { formatIpv6, parseAddress } from "../runtime/netlink/addresses.js";
import {
  attrPathAt,
  AttrWriter,
  encodeMessage,
  NetlinkDecodeError,
  parseAttrs,
  parseDone,
  parseError,
  parseMessages,
  type NlMessage,
} from "../runtime/netlink/codec.js";
import { NLM_F_ACK, NLM_F_REQUEST, RTM_NEWADDR, RTM_NEWLINK, RTM_DELADDR } from "../runtime/netlink/constants.js";
import { decodeMptcpSocket, decodeSubflowSocket, encodeInetDiagRequest } from "../runtime/netlink/diag.js";
import { errnoName, NetlinkError } from "../runtime/netlink/errors.js";
import { decodeFamily, encodeGetFamily } from "../runtime/netlink/genl.js";
import { decodeAddressMessage, decodeLinkMessage } from "../runtime/netlink/interfaces.js";
import {
  bitsToFlags,
  decodeEndpointReply,
  decodeLimits,
  decodeMptcpEvent,
  encode,
  flagsToBits,
  pmAttrName,
  tokenNumber,
  tokenText,
} from "../runtime/netlink/mptcp-codec.js";
import type { PolicyEvent } from "../runtime/netlink/policy-event.js";
import { formatEvent } from "../runtime/cli/monitor-command.js";
import recorded from "./fixtures/netlink/recorded.json" with { type: "json" };

const messages = recorded.messages as Record<string, string[]>;
const FAMILY_ID = recorded.family.id;

function datagram(name: string, index = 0): NlMessage[] {
  const hex = messages[name]?.[index];
  if (hex === undefined) throw new Error(`no recorded message ${name}[${index}]`);
  return parseMessages(Buffer.from(hex, "hex"));
}

function one(name: string, index = 0): NlMessage {
  const [message] = datagram(name, index);
  if (!message) throw new Error(`empty datagram ${name}`);
  return message;
}

const events = (side: "client" | "server"): PolicyEvent[] =>
  (messages[`events_${side}`] ?? []).map((hex) => decodeMptcpEvent(parseMessages(Buffer.from(hex, "hex"))[0]!.payload));

describe("netlink framing", () => {
  it("splits datagrams into messages and reads their headers", () => {
    const parts = datagram("get_addr_dump", 0);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const part of parts) expect(part).toMatchObject({ type: FAMILY_ID, seq: 77 });
    const done = datagram("get_addr_dump", 1)[0]!;
    expect(done.type).toBe(3);
    expect(parseDone(done.payload, done.flags, done.seq).errno).toBe(0);
  });

  it("round-trips a message header", () => {
    const bytes = encodeMessage(0x1c, NLM_F_REQUEST | NLM_F_ACK, 0xfffffffe, Buffer.from([1, 2, 3, 4, 5]), 42);
    expect(parseMessages(bytes)).toEqual([{ type: 0x1c, flags: 5, seq: 0xfffffffe, pid: 42, payload: Buffer.from([1, 2, 3, 4, 5]) }]);
  });

  it("rejects truncated messages and attributes with a decode error, never a crash", () => {
    const bytes = Buffer.from(messages["get_limits"]![0]!, "hex");
    expect(() => parseMessages(bytes.subarray(0, bytes.length - 3))).toThrow(NetlinkDecodeError);
    expect(() => parseAttrs(Buffer.from([8, 0, 1, 0, 1, 2]))).toThrow(NetlinkDecodeError);
    expect(() => parseAttrs(Buffer.from([2, 0, 1, 0]))).toThrow(/bad attribute length 2/);
  });

  it("survives arbitrary bytes: decoders either decode or throw NetlinkDecodeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        for (const decode of [() => parseMessages(buffer), () => decodeMptcpEvent(buffer)]) {
          try {
            decode();
          } catch (error) {
            expect(error).toBeInstanceOf(NetlinkDecodeError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("builds nested attributes with NLA_F_NESTED and 4-byte alignment", () => {
    const bytes = new AttrWriter().begin(1).u16(1, 2).u8(2, 7).end().u32(4, 0xdeadbeef).finish();
    expect(bytes.toString("hex")).toBe("1400018006000100020000000500020007000000" + "08000400efbeadde");
    const [nest, token] = parseAttrs(bytes);
    expect(nest).toMatchObject({ type: 1, nested: true });
    expect(parseAttrs(nest!.data).map((a) => a.type)).toEqual([1, 2]);
    expect(token!.data.readUInt32LE(0)).toBe(0xdeadbeef);
  });
});

describe("errors and extended ACKs", () => {
  it("reads errno, the extack message and the offending attribute's offset", () => {
    const message = one("get_addr_missing");
    expect(message.type).toBe(2);
    expect(parseError(message.payload, message.flags)).toEqual({ errno: 22, seq: 77, message: "address not found", offset: 20 });
    const limits = one("set_limits_too_big");
    expect(parseError(limits.payload, limits.flags)).toMatchObject({ errno: 22, message: "limit greater than maximum (8)" });
  });

  it("maps the offset back to the attribute's name in the request", () => {
    const request = encodeMessage(FAMILY_ID, 5, 77, encode.setLimits({ subflows: 9 }));
    expect(pmAttrName(attrPathAt(request, 20, 4))).toBe("subflows");
    const add = encodeMessage(FAMILY_ID, 5, 77, encode.addAddr({ address: "10.0.0.1", id: 3 }));
    // offset 24 is the family attribute inside the addr nest
    expect(pmAttrName(attrPathAt(add, 24, 4))).toBe("addr.family");
  });

  it("reads an ACK (errno 0) and an error without extack", () => {
    const ack = one("set_limits_ack");
    expect(parseError(ack.payload, ack.flags)).toEqual({ errno: 0, seq: 77 });
    const missing = one("ctrl_getfamily_missing");
    expect(parseError(missing.payload, missing.flags)).toEqual({ errno: 2, seq: 77 });
  });

  it("makes typed errors with the errno name, the kernel's text and a hint", () => {
    const error = new NetlinkError({ errno: 22, request: "mptcp_pm ANNOUNCE", extack: "userspace PM not selected", attribute: "token", hint: "x" });
    expect(error).toMatchObject({ code: "EINVAL", errno: 22, extack: "userspace PM not selected", attribute: "token" });
    expect(error.message).toBe("mptcp_pm ANNOUNCE: EINVAL: userspace PM not selected (attribute token)");
    expect(errnoName(2)).toBe("ENOENT");
    expect(errnoName(4095)).toBe("E4095");
  });
});

describe("mptcp_pm family", () => {
  it("resolves the family id and groups from the controller's reply", () => {
    const family = decodeFamily(one("ctrl_getfamily_mptcp_pm").payload);
    expect(family).toMatchObject({ name: "mptcp_pm", id: FAMILY_ID, version: 1 });
    expect(Object.fromEntries(family.groups)).toEqual(recorded.family.groups);
  });

  it("encodes requests byte for byte", () => {
    // the netlink package leaves the last attribute unpadded, which the kernel accepts
    expect(encodeGetFamily("mptcp_pm").toString("hex")).toBe("03010000" + "0d000200" + Buffer.from("mptcp_pm\0").toString("hex"));
    expect(encode.getLimits().toString("hex")).toBe("06010000");
    expect(encode.setLimits({ subflows: 2, add_addr_accepted: 3 }).toString("hex")).toBe("05010000" + "0800020003000000" + "0800030002000000");
    // ADD_ADDR 10.0.2.1 id 5 port 4242 signal|backup dev 3: family, id, addr4, port (host order), flags, if_idx
    expect(encode.addAddr({ address: "10.0.2.1", id: 5, port: 4242, flags: ["signal", "backup"], ifindex: 3 }).toString("hex")).toBe(
      "01010000" +
        "34000180" +
        "060001000200" +
        "0000" +
        "0500020005000000" +
        "080003000a000201" +
        "06000500921000" +
        "00" +
        "0800060005000000" +
        "0800070003000000",
    );
    expect(encode.remove(0x7f6f626c, 7).toString("hex")).toBe("09010000" + "080004006c626f7f" + "0500050007000000");
    const ipv6 = parseAttrs(parseAttrs(encode.subflowCreate(1, { id: 2, address: "fd00:2::1" }, { address: "fd00:2::2", port: 5000 }).subarray(4))[0]!.data);
    expect(ipv6.map((a) => a.type)).toEqual([1, 2, 4]);
    expect(ipv6[2]!.data.toString("hex")).toBe("fd000002000000000000000000000001");
  });

  it("decodes the endpoint dump, with flags, ports in host order and interfaces", () => {
    const endpoints = datagram("get_addr_dump").map((m) => decodeEndpointReply(m.payload));
    expect(endpoints).toEqual([
      { id: 1, family: "ipv4", address: "10.0.2.1", flags: ["subflow", "backup"], ifindex: 3 },
      { id: 2, family: "ipv6", address: "fd00:2::1", port: 4242, flags: ["signal"] },
    ]);
  });

  it("decodes limits", () => {
    expect(decodeLimits(one("get_limits").payload)).toEqual({ subflows: 2, add_addr_accepted: 2 });
  });

  it("names flags as ip mptcp does and keeps unknown bits", () => {
    expect(bitsToFlags(0x23 | 0x80)).toEqual({ flags: ["signal", "subflow", "laminar"], unknown: 0x80 });
    expect(flagsToBits(["subflow", "fullmesh"])).toBe(0x0a);
    expect(() => flagsToBits(["sublow" as "subflow"])).toThrow(/unknown endpoint flag 'sublow'/);
  });

  it("reads tokens as 8 hex digits, like ip mptcp monitor", () => {
    expect(tokenText(0x6c)).toBe("0000006c");
    expect(tokenNumber("7f6f626c")).toBe(0x7f6f626c);
    expect(tokenNumber(" 1".trim())).toBe(1);
    expect(() => tokenNumber("xyz")).toThrow(/hex/);
  });
});

describe("MPTCP events from a real connection", () => {
  const client = events("client");
  const server = events("server");
  const all = [...client, ...server];

  it("decodes every event kind the kernel sent", () => {
    const kinds = new Set(all.map((e) => e.event));
    for (const kind of [
      "created",
      "established",
      "closed",
      "announced",
      "removed",
      "subflow_established",
      "subflow_closed",
      "subflow_priority",
      "listener_created",
      "listener_closed",
    ]) {
      expect(kinds, kind).toContain(kind);
    }
    expect(all.every((e) => e.raw === undefined)).toBe(true);
  });

  it("merges family-specific addresses, reads ports big-endian and names sides", () => {
    const created = client.find((e) => e.event === "created" && e.family === "ipv4")!;
    expect(created).toMatchObject({ saddr: "10.0.1.1", daddr: "10.0.1.2", dport: 5000, locid: 0, remid: 0, server_side: false });
    expect(created.token).toMatch(/^[0-9a-f]{8}$/);
    expect(server.find((e) => e.event === "created" && e.family === "ipv4")).toMatchObject({ saddr: "10.0.1.2", sport: 5000, server_side: true, flags: 2 });
    expect(client.find((e) => e.event === "created" && e.family === "ipv6")).toMatchObject({ saddr: "fd00:1::1", daddr: "fd00:1::2", dport: 5006 });
    expect(server.filter((e) => e.event === "listener_created")).toEqual([
      { event: "listener_created", family: "ipv4", saddr: "0.0.0.0", sport: 5000 },
      { event: "listener_created", family: "ipv6", saddr: "::", sport: 5006 },
    ]);
  });

  it("carries ids, backup, if_idx and the announced address", () => {
    expect(client.find((e) => e.event === "announced")).toMatchObject({ remid: 1, daddr: "10.0.2.2", dport: 5000 });
    expect(client.find((e) => e.event === "removed")).toMatchObject({ remid: 1 });
    expect(client.find((e) => e.event === "subflow_established" && e.ifindex !== undefined)).toMatchObject({
      saddr: "10.0.2.1",
      locid: 1,
      ifindex: 3,
      backup: false,
    });
    expect(server.find((e) => e.event === "subflow_priority")).toMatchObject({ backup: false, locid: 1, remid: 1 });
  });

  it("keeps unknown attributes and unknown event types raw", () => {
    const payload = Buffer.concat([Buffer.from([1, 1, 0, 0]), new AttrWriter().u32(1, 0x1234).u32(99, 7).u16(2, 2).finish()]);
    expect(decodeMptcpEvent(payload)).toEqual({ event: "created", token: "00001234", family: "ipv4", server_side: false, raw: { "99": "07000000" } });
    expect(decodeMptcpEvent(Buffer.from([42, 1, 0, 0]))).toEqual({ event: "unknown", cmd: 42 });
    // An attribute of the wrong size is kept raw rather than misread.
    expect(decodeMptcpEvent(Buffer.concat([Buffer.from([2, 1, 0, 0]), new AttrWriter().u16(9, 1).u8(9, 1).finish()]))).toMatchObject({
      sport: 256,
      raw: { "9": "01" },
    });
  });

  it("produces events the decision core reads (compiler/events.ts)", () => {
    expectTypeOf<PolicyEvent & { event: CorePolicyEvent["event"] }>().toMatchTypeOf<CorePolicyEvent>();
    const line = formatEvent({ ...client[0]!, time: 1, ifname: "wifi", ifindex: 2 }, "json");
    expect(Object.keys(JSON.parse(line))).toEqual([
      "event",
      "time",
      "token",
      "family",
      "saddr",
      "daddr",
      "sport",
      "dport",
      "locid",
      "remid",
      "server_side",
      "ifindex",
      "ifname",
    ]);
  });
});

describe("rtnetlink links and addresses", () => {
  it("decodes links with names and flags", () => {
    const links = datagram("rtm_getlink_dump", 0)
      .concat(datagram("rtm_getlink_dump", 1))
      .filter((m) => m.type === RTM_NEWLINK)
      .map(decodeLinkMessage);
    expect(links.map((l) => l.ifname)).toEqual(["lo", "wifi", "lte"]);
    expect(links.find((l) => l.ifname === "lte")!.flags & 1).toBe(0); // set down by the recording
    expect(links.find((l) => l.ifname === "wifi")!.flags & 0x41).toBe(0x41); // IFF_UP | IFF_RUNNING
  });

  it("decodes addresses of both families", () => {
    const addresses = datagram("rtm_getaddr_dump")
      .filter((m) => m.type === RTM_NEWADDR)
      .map(decodeAddressMessage);
    expect(addresses).toContainEqual(expect.objectContaining({ family: "ipv4", address: "10.0.1.1", prefixlen: 24, tentative: false }));
    expect(addresses).toContainEqual(expect.objectContaining({ family: "ipv4", address: "10.0.3.1", prefixlen: 24 }));
    expect(addresses).toContainEqual(expect.objectContaining({ family: "ipv6", address: "fd00:1::1", prefixlen: 64 }));
  });

  it("decodes change notifications", () => {
    const notes = (messages["rtnl_notifications"] ?? []).flatMap((hex) => parseMessages(Buffer.from(hex, "hex")));
    expect(notes.some((m) => m.type === RTM_NEWLINK && decodeLinkMessage(m).ifname === "lte")).toBe(true);
    const removed = notes.filter((m) => m.type === RTM_DELADDR).map(decodeAddressMessage);
    expect(removed.some((a) => a?.deleted && a.family === "ipv6")).toBe(true);
  });
});

describe("sock_diag", () => {
  it("encodes MPTCP dump requests with INET_DIAG_REQ_PROTOCOL", () => {
    const request = encodeInetDiagRequest(2, 262);
    expect(request.length).toBe(56 + 8);
    expect(request.subarray(0, 8).toString("hex")).toBe("02060200ffffffff");
    expect(request.subarray(56).toString("hex")).toBe("0800030006010000");
    expect(encodeInetDiagRequest(2, 6).length).toBe(56);
  });

  it("decodes an MPTCP connection with its mptcp_info", () => {
    const socket = decodeMptcpSocket(one("diag_mptcp_ipv4").payload);
    expect(socket).toMatchObject({ family: "ipv4", state: "ESTAB", saddr: "10.0.1.1", daddr: "10.0.1.2", dport: 5000 });
    expect(socket.info).toMatchObject({ subflows: 2, subflows_max: 2, add_addr_accepted: 1, fallback: false });
    expect(socket.info!.token).toBe(events("client").find((e) => e.event === "created" && e.family === "ipv4")!.token);
  });

  it("decodes TCP subflows with their MPTCP ULP info and skips plain TCP", () => {
    const subflows = datagram("diag_tcp_ipv4").map((m) => decodeSubflowSocket(m.payload));
    const token = events("client").find((e) => e.event === "created")!.token;
    expect(subflows.filter((s) => s !== undefined).length).toBe(3);
    for (const s of subflows) expect(s?.token).toBe(token);
    const lte = subflows.find((s) => s?.saddr === "10.0.2.1" && s.daddr === "10.0.2.2");
    expect(lte).toMatchObject({ locid: 1, remid: 1, backup: true, fully_established: true });
    expect(lte!.rtt_us).toBeGreaterThan(0);
  });
});

describe("addresses", () => {
  it("formats IPv6 as inet_ntop does", () => {
    const cases: Record<string, string> = {
      "fd00:2::1": "fd00:2::1",
      "::": "::",
      "::1": "::1",
      "::ffff:10.0.0.1": "::ffff:10.0.0.1",
      "2001:db8:0:0:1:0:0:1": "2001:db8::1:0:0:1",
      "fe80::1:0:0:0": "fe80::1:0:0:0",
      "fe80:0:0:1::": "fe80:0:0:1::",
      "2001:0:0:1:0:0:0:1": "2001:0:0:1::1",
    };
    for (const [input, output] of Object.entries(cases)) expect(formatIpv6(parseAddress(input).bytes)).toBe(output);
  });

  it("round-trips any IPv6 address through our formatter and ipaddr.js", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(parseAddress(formatIpv6(bytes)).bytes.equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });
});

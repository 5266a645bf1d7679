// Records real kernel messages into test/fixtures/netlink/recorded.json, the bytes
// the codec tests decode. Run as root: `node scripts/record-netlink-fixtures.mjs`.
// Each entry is one whole netlink message (header included) as hex, with the
// kernel version it came from.
import { writeFileSync } from "node:fs";
import { release } from "node:os";
import { encodeMessage, type NlMessage } from "../../runtime/netlink/codec.js";
import {
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  RTM_GETADDR,
  RTM_GETLINK,
  SOCK_DIAG_BY_FAMILY,
  AF_INET,
  IPPROTO_MPTCP,
  IPPROTO_TCP,
  GENL_ID_CTRL,
} from "../../runtime/netlink/constants.js";
import { encodeInetDiagRequest } from "../../runtime/netlink/diag.js";
import { encodeGetFamily, resolveFamily } from "../../runtime/netlink/genl.js";
import { encodeDumpAddresses, encodeDumpLinks } from "../../runtime/netlink/interfaces.js";
import { encode } from "../../runtime/netlink/mptcp-codec.js";
import { netlinkRaw } from "../../runtime/netlink/native.js";
import { NetlinkSocket } from "../../runtime/netlink/socket.js";
import { Lab } from "./topology.js";

const out: Record<string, string[]> = {};
const hex = (m: NlMessage): string => encodeMessage(m.type, m.flags, m.seq, m.payload, m.pid).toString("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Send one request on a raw socket (with extended ACKs) and keep every reply datagram. */
async function raw(ns: string, protocol: number, type: number, flags: number, payload: Buffer, name: string): Promise<void> {
  const { RawNetlinkSocket } = netlinkRaw();
  const { openSync, closeSync } = await import("node:fs");
  const fd = openSync(`/run/netns/${ns}`, "r");
  const socket = new RawNetlinkSocket(protocol, { netnsFd: fd });
  closeSync(fd);
  socket.setSockOpt(270, 11, 1);
  socket.setSockOpt(270, 10, 1);
  const replies: string[] = [];
  socket.on("message", (data: Buffer) => replies.push(data.toString("hex")));
  socket.send(encodeMessage(type, flags, 77, payload));
  await sleep(300);
  socket.close();
  out[name] = replies;
}

const lab = await Lab.create();
try {
  const genl = new NetlinkSocket(NETLINK_GENERIC, { netns: lab.client });
  const family = await resolveFamily(genl, "mptcp_pm");
  genl.close();
  await raw(lab.client, NETLINK_GENERIC, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, encodeGetFamily("mptcp_pm"), "ctrl_getfamily_mptcp_pm");
  await raw(lab.client, NETLINK_GENERIC, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, encodeGetFamily("no_such_family"), "ctrl_getfamily_missing");
  lab.ip("client", "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2");
  lab.ip("server", "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2");
  lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "lte"), "dev", "lte", "subflow", "backup");
  lab.ip("client", "mptcp", "endpoint", "add", lab.address("client", "lte", "ipv6"), "signal", "port", "4242");
  lab.ip("server", "mptcp", "endpoint", "add", lab.address("server", "lte"), "dev", "lte", "signal");
  await raw(lab.client, NETLINK_GENERIC, family.id, NLM_F_REQUEST | NLM_F_ACK, encode.getLimits(), "get_limits");
  await raw(lab.client, NETLINK_GENERIC, family.id, NLM_F_REQUEST | NLM_F_DUMP, encode.dumpAddrs(), "get_addr_dump");
  await raw(lab.client, NETLINK_GENERIC, family.id, NLM_F_REQUEST | NLM_F_ACK, encode.getAddr(77), "get_addr_missing");
  await raw(lab.client, NETLINK_GENERIC, family.id, NLM_F_REQUEST | NLM_F_ACK, encode.setLimits({ subflows: 9 }), "set_limits_too_big");
  await raw(lab.client, NETLINK_GENERIC, family.id, NLM_F_REQUEST | NLM_F_ACK, encode.setLimits({ subflows: 2 }), "set_limits_ack");

  // Events of a real connection, seen from the client and from the server.
  const events: Record<string, NlMessage[]> = { client: [], server: [] };
  const sockets: NetlinkSocket[] = [];
  for (const side of ["client", "server"] as const) {
    const socket = new NetlinkSocket(NETLINK_GENERIC, { netns: lab.ns(side) });
    await resolveFamily(socket, "mptcp_pm");
    socket.onMulticast((m) => events[side]!.push(m));
    socket.addMembership(family.groups.get("mptcp_pm_events")!);
    sockets.push(socket);
  }
  const rtnl = new NetlinkSocket(NETLINK_ROUTE, { netns: lab.client });
  const links: NlMessage[] = [];
  rtnl.onMulticast((m) => links.push(m));
  for (const group of [1, 5, 9]) rtnl.addMembership(group);
  const server = await lab.startServer({ port: 5000 });
  const server6 = await lab.startServer({ port: 5006, family: "ipv6" });
  const client = await lab.connect({ to: lab.address("server", "wifi"), port: 5000 });
  await sleep(500);
  await raw(lab.client, NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, encodeInetDiagRequest(AF_INET, IPPROTO_MPTCP), "diag_mptcp_ipv4");
  await raw(lab.client, NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, encodeInetDiagRequest(AF_INET, IPPROTO_TCP), "diag_tcp_ipv4");
  lab.ip("client", "mptcp", "endpoint", "change", "id", "1", "nobackup");
  await sleep(300);
  lab.ip("server", "mptcp", "endpoint", "delete", "id", "1");
  await sleep(300);
  const client6 = await lab.connect({ to: lab.address("server", "wifi", "ipv6"), port: 5006 });
  await sleep(300);
  client.command("close");
  client6.command("close");
  await sleep(300);
  await server.stop();
  await server6.stop();
  await sleep(300);
  lab.ip("client", "link", "set", "lte", "down");
  lab.ip("client", "addr", "add", "10.0.3.1/24", "dev", "wifi");
  await sleep(300);
  await raw(lab.client, NETLINK_ROUTE, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, encodeDumpLinks(), "rtm_getlink_dump");
  await raw(lab.client, NETLINK_ROUTE, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, encodeDumpAddresses(), "rtm_getaddr_dump");
  for (const socket of [...sockets, rtnl]) socket.close();
  out["events_client"] = events["client"]!.map(hex);
  out["events_server"] = events["server"]!.map(hex);
  out["rtnl_notifications"] = links.map(hex);
  writeFileSync(
    new URL("../fixtures/netlink/recorded.json", import.meta.url),
    `${JSON.stringify({ kernel: release(), family: { id: family.id, groups: Object.fromEntries(family.groups) }, messages: out }, null, 1)}\n`,
  );
} finally {
  await lab.destroy();
}

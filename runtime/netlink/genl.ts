// Generic netlink families are numbered at run time: ask the controller
// (nlctrl, CTRL_CMD_GETFAMILY) for a family's id, version and multicast groups.
// The controller's attributes are encoded and decoded by the `netlink` package.
import { encodeGenlHeader, parseGenl } from "./codec.js";
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL } from "./constants.js";
import { NetlinkError } from "./errors.js";
import { netlinkGenl, netlinkStructs } from "./native.js";
import type { NetlinkSocket } from "./socket.js";

export interface GenlFamily {
  readonly name: string;
  readonly id: number;
  readonly version: number;
  /** Multicast group ids by name. */
  readonly groups: ReadonlyMap<string, number>;
}

/** CTRL_CMD_GETFAMILY request payload for a family name (exported for the codec tests). */
export function encodeGetFamily(name: string): Buffer {
  const stream = new (netlinkStructs().AttrStream)();
  stream.emit(netlinkGenl().formatMessage({ familyName: name }));
  return Buffer.concat([encodeGenlHeader(CTRL_CMD_GETFAMILY, 1), ...stream.bufs]);
}

/** Decode the controller's answer. */
export function decodeFamily(payload: Buffer): GenlFamily {
  const message = netlinkGenl().parseMessage(parseGenl(payload).attrs);
  const groups = new Map<string, number>();
  for (const group of message.mcastGroups ?? []) if (group.name !== undefined && group.id !== undefined) groups.set(group.name, group.id);
  return { name: message.familyName ?? "", id: message.familyId ?? 0, version: message.version ?? 0, groups };
}

export async function resolveFamily(socket: NetlinkSocket, name: string): Promise<GenlFamily> {
  try {
    const [reply] = await socket.request(GENL_ID_CTRL, encodeGetFamily(name), { describe: `nlctrl GETFAMILY ${name}`, expectReply: true });
    if (!reply) throw new NetlinkError({ errno: 2, request: `nlctrl GETFAMILY ${name}`, extack: "no reply" });
    return decodeFamily(reply.payload);
  } catch (error) {
    if (error instanceof NetlinkError && error.code === "ENOENT") {
      throw new NetlinkError({
        errno: error.errno,
        request: error.request,
        extack: `generic netlink family '${name}' not found`,
        hint:
          name === "mptcp_pm"
            ? "This kernel has no MPTCP path-manager interface: it needs CONFIG_MPTCP (Linux 5.7 or newer) and net.mptcp.enabled=1."
            : undefined,
      });
    }
    throw error;
  }
}

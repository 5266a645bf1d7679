// The parts of the `netlink` npm package this client uses (its socket with the
// native addon, and its genl and rtnetlink attribute codecs), each loaded on
// first use: the commands that never talk to the kernel (check, fmt, compile)
// share the CLI bundle and pay nothing, and `status` loads only what it needs.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const cache = new Map<string, unknown>();

function load<T>(path: string): T {
  let module = cache.get(path);
  if (module === undefined) {
    module = require(path);
    cache.set(path, module);
  }
  return module as T;
}

/** RawNetlinkSocket (patched: setSockOpt/getSockOpt and netnsFd, see docs/netlink.md). */
export const netlinkRaw = (): typeof import("netlink/dist/raw.js") => load("netlink/dist/raw.js");
/** AttrStream and the generic attribute helpers. */
export const netlinkStructs = (): typeof import("netlink/dist/structs.js") => load("netlink/dist/structs.js");
/** The generic netlink controller's attributes (CTRL_ATTR_*). */
export const netlinkGenl = (): typeof import("netlink/dist/genl/structs.js") => load("netlink/dist/genl/structs.js");
/** rtnetlink messages (links, addresses). */
export const netlinkRt = (): typeof import("netlink/dist/rt/structs.js") => load("netlink/dist/rt/structs.js");

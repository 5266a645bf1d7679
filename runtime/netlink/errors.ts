// Kernel errors as typed values: the errno name, the kernel's extended-ack
// message, which attribute it was about, and a hint that says what to do
// (mptcpd's "Try 'sysctl -w ...'" style).
import { constants } from "node:os";

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** "ENOENT" for 2; "E123" for a number Node does not know. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

export interface NetlinkErrorDetails {
  /** Positive errno as the kernel returned it. */
  readonly errno: number;
  /** What was asked: "mptcp_pm ADD_ADDR", "rtnetlink RTM_GETLINK dump", ... */
  readonly request: string;
  /** The kernel's extended-ack message, when it gave one. */
  readonly extack?: string;
  /** The attribute the kernel pointed at (NLMSGERR_ATTR_OFFS), as a path of names: "addr.family". */
  readonly attribute?: string;
  /** The attribute the kernel said is missing (NLMSGERR_ATTR_MISS_TYPE), by name. */
  readonly missing?: string;
  readonly hint?: string;
}

/** The client cannot start: no such network namespace, or the netlink addon is not the patched one. */
export class NetlinkSetupError extends Error {
  override readonly name = "NetlinkSetupError";
}

/** An error the kernel answered a request with. */
export class NetlinkError extends Error {
  override readonly name = "NetlinkError";
  readonly errno: number;
  /** The errno name: "ENOENT", "EINVAL", ... */
  readonly code: string;
  readonly request: string;
  readonly extack: string | undefined;
  readonly attribute: string | undefined;
  readonly missing: string | undefined;
  readonly hint: string | undefined;

  constructor(details: NetlinkErrorDetails) {
    const code = errnoName(details.errno);
    const what = details.extack ?? systemMessage(code);
    const where = details.attribute ? ` (attribute ${details.attribute})` : details.missing ? ` (missing attribute ${details.missing})` : "";
    super(`${details.request}: ${code}: ${what}${where}`);
    this.errno = details.errno;
    this.code = code;
    this.request = details.request;
    this.extack = details.extack;
    this.attribute = details.attribute;
    this.missing = details.missing;
    this.hint = details.hint;
  }

  /** Plain data for JSON output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      errno: this.errno,
      request: this.request,
      message: this.extack ?? systemMessage(this.code),
      attribute: this.attribute,
      missing: this.missing,
      hint: this.hint,
    };
  }
}

const SYSTEM_MESSAGES: Readonly<Record<string, string>> = {
  EPERM: "operation not permitted",
  ENOENT: "no such entry",
  ESRCH: "no such subflow or connection",
  EINVAL: "invalid argument",
  EEXIST: "already exists",
  EBUSY: "busy",
  ENOBUFS: "no buffer space",
  EOPNOTSUPP: "not supported",
  ETIMEDOUT: "no answer from the kernel",
  EBADMSG: "bad message",
  EADDRNOTAVAIL: "address not available",
  ENOSPC: "no space left (too many entries)",
  ERANGE: "out of range",
};

function systemMessage(code: string): string {
  return SYSTEM_MESSAGES[code] ?? code.toLowerCase();
}

/** A hint for errors whose cause is usually the setup rather than the request. */
export function hintFor(errno: number, extack: string | undefined): string | undefined {
  const code = errnoName(errno);
  const text = extack ?? "";
  if (code === "EPERM") return "Path-manager changes need CAP_NET_ADMIN: run as root (or in a namespace you own).";
  if (/userspace PM not selected|not.*userspace/i.test(text))
    return "Try 'sysctl -w net.mptcp.path_manager=userspace' (or net.mptcp.pm_type=1 before kernel 6.15).";
  if (/invalid token/i.test(text)) return "The connection is gone or the token is wrong: take it from a 'created' event or 'mptcp-policy status'.";
  const maximum = limitMaximum(extack);
  if (maximum !== undefined) return `This kernel allows at most ${maximum} subflows and ${maximum} accepted ADD_ADDRs per connection.`;
  if (code === "ENOSPC") return "Try raising the limits: 'ip mptcp limits set subflows 8 add_addr_accepted 8'.";
  return undefined;
}

/**
 * The kernel's largest limit, as its refusal of a larger one says it ("limit greater
 * than maximum (64)"); undefined for any other answer. The maximum grew (8 until 6.x,
 * 64 in 7.x); kernels that do not say it (6.1) all have 8.
 */
export function limitMaximum(extack: string | undefined): number | undefined {
  if (extack === undefined || !/greater than maximum/i.test(extack)) return undefined;
  const said = /maximum \((\d+)\)/.exec(extack)?.[1];
  return said === undefined ? 8 : Number(said);
}

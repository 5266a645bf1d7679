// IP addresses between the kernel's bytes and text. Formatting follows
// inet_ntop (what `ip` and `ss` print), so outputs compare as strings.
import ipaddr from "ipaddr.js";
import { AF_INET, AF_INET6 } from "./constants.js";

export type Family = "ipv4" | "ipv6";

export function familyName(af: number): Family | undefined {
  return af === AF_INET ? "ipv4" : af === AF_INET6 ? "ipv6" : undefined;
}

export function familyNumber(family: Family): number {
  return family === "ipv4" ? AF_INET : AF_INET6;
}

export function formatIpv4(data: Uint8Array, offset = 0): string {
  return `${data[offset]}.${data[offset + 1]}.${data[offset + 2]}.${data[offset + 3]}`;
}

/** RFC 5952 text, with inet_ntop's dotted quad for ::ffff:a.b.c.d and ::a.b.c.d. */
export function formatIpv6(data: Uint8Array, offset = 0): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = ((data[offset + 2 * i] ?? 0) << 8) | (data[offset + 2 * i + 1] ?? 0);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  const embedded = bestStart === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff));
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? "::" : ":";
      i += bestLength - 1;
      continue;
    }
    if (embedded && i === 6) return `${out}${formatIpv4(data, offset + 12)}`;
    out += (words[i] as number).toString(16);
    if (i < 7) out += ":";
  }
  return out;
}

export function formatAddress(data: Uint8Array): string | undefined {
  if (data.length === 4) return formatIpv4(data);
  if (data.length === 16) return formatIpv6(data);
  return undefined;
}

export interface ParsedAddress {
  readonly family: Family;
  readonly bytes: Buffer;
}

/** Parse an IPv4 or IPv6 address (no prefix length); throws a readable error. */
export function parseAddress(text: string): ParsedAddress {
  if (!ipaddr.isValid(text)) throw new Error(`'${text}' is not an IP address`);
  const parsed = ipaddr.parse(text);
  return { family: parsed.kind() === "ipv4" ? "ipv4" : "ipv6", bytes: Buffer.from(parsed.toByteArray()) };
}

/** Canonical text of an address string, so "fd00:0::1" and "fd00::1" compare equal. */
export function canonicalAddress(text: string): string {
  const parsed = parseAddress(text);
  return parsed.family === "ipv4" ? formatIpv4(parsed.bytes) : formatIpv6(parsed.bytes);
}

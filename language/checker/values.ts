// Checks of literal values shared by the passes: numbers and their units, ports,
// addresses and prefixes. Each returns whether the value is usable.
import ipaddr from "ipaddr.js";
import { error, type Diagnostic } from "../diagnostics.js";
import { didYouMean } from "../suggest.js";
import type { AddressLiteral, NumberLiteral } from "../syntax-tree.js";
import { UNIT_BY_NAME, UNITS, type Dimension } from "../vocabulary.js";

type Report = (d: Diagnostic) => void;

const EXAMPLE_UNIT: Record<Dimension, string> = { time: "ms", bytes: "KB", rate: "mbit", count: "" };

/** A plain integer (no unit) within [min, max]. */
export function checkInteger(n: NumberLiteral, what: string, min: number, max: number, report: Report): boolean {
  if (n.unit !== undefined) {
    report(error("E300", n.span, `${what} takes no unit, found '${n.unit}'`, { hints: [`write ${Math.trunc(n.value)}`] }));
    return false;
  }
  if (!Number.isInteger(n.value) || n.value < min || n.value > max) {
    report(error("E302", n.span, `${what} must be a whole number from ${min} to ${max}, found ${n.text}`));
    return false;
  }
  return true;
}

export function checkPort(n: NumberLiteral, report: Report): boolean {
  return checkInteger(n, "a port", 1, 65535, report);
}

/** A quantity of the given dimension; counts take no unit, the others need one. */
export function checkQuantity(n: NumberLiteral, dimension: Dimension, what: string, report: Report): boolean {
  if (dimension === "count") return checkInteger(n, what, 0, 4_294_967_295, report);
  if (n.unit === undefined) {
    report(
      error("E301", n.span, `${what} needs a ${dimension} unit`, {
        hints: [`write ${n.text}${EXAMPLE_UNIT[dimension]}; units: ${unitsOf(dimension).join(" ")}`],
      }),
    );
    return false;
  }
  const unit = UNIT_BY_NAME.get(n.unit);
  if (!unit) {
    report(error("E300", n.span, `unknown unit '${n.unit}'`, { hints: [...didYouMean(n.unit, unitsOf(dimension)), `${dimension} units: ${unitsOf(dimension).join(" ")}`] }));
    return false;
  }
  if (unit.dimension !== dimension) {
    report(
      error("E300", n.span, `${what} is a ${dimension}, but '${n.unit}' is a unit of ${unit.dimension}`, {
        hints: [`${dimension} units: ${unitsOf(dimension).join(" ")}`],
      }),
    );
    return false;
  }
  if (!Number.isFinite(n.value) || n.value * unit.factor > 2 ** 53) {
    report(error("E302", n.span, `${what} is out of range`));
    return false;
  }
  return true;
}

function unitsOf(dimension: Dimension): string[] {
  return UNITS.filter((u) => u.dimension === dimension).map((u) => u.name);
}

export interface ParsedAddress {
  readonly family: "ipv4" | "ipv6";
  readonly address: string;
  readonly prefixLength: number;
}

/** Parse an address or prefix literal; undefined (and a diagnostic) when it is not one. */
/** Valid addresses already parsed, by text: a large policy repeats the same few. */
const parsedAddresses = new Map<string, ParsedAddress>();

export function checkAddress(literal: AddressLiteral, allowPrefix: boolean, report: Report): ParsedAddress | undefined {
  const known = parsedAddresses.get(literal.text);
  if (known && (allowPrefix || !literal.text.includes("/"))) return known;
  const parsed = parseAddress(literal, allowPrefix, report);
  if (parsed && parsedAddresses.size < 10_000) parsedAddresses.set(literal.text, parsed);
  return parsed;
}

function parseAddress(literal: AddressLiteral, allowPrefix: boolean, report: Report): ParsedAddress | undefined {
  const [addressText = "", lengthText] = literal.text.split("/");
  const isV4 = !addressText.includes(":");
  const valid = isV4 ? ipaddr.IPv4.isValidFourPartDecimal(addressText) : ipaddr.IPv6.isValid(addressText);
  if (!valid) {
    report(error("E303", literal.span, `'${addressText}' is not a valid ${isV4 ? "IPv4" : "IPv6"} address`));
    return undefined;
  }
  const family = isV4 ? "ipv4" : "ipv6";
  const bits = isV4 ? 32 : 128;
  const address = ipaddr.parse(addressText).toString();
  if (lengthText === undefined) return { family, address, prefixLength: bits };
  if (!allowPrefix) {
    report(error("E303", literal.span, "expected an address, not a prefix", { hints: [`write ${addressText}`] }));
    return undefined;
  }
  const length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : Number.NaN;
  if (!(length >= 0 && length <= bits)) {
    report(error("E304", literal.span, `prefix length must be 0 to ${bits}, found '${lengthText}'`));
    return undefined;
  }
  const network = (isV4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(`${addressText}/${length}`).toString();
  if (network !== address) {
    report(
      error("E304", literal.span, `${literal.text} has host bits set`, {
        hints: [`write ${network}/${length}`],
      }),
    );
    return undefined;
  }
  return { family, address, prefixLength: length };
}

/** A checked quantity in its base unit (µs, bytes, bytes per second). */
export function baseValue(n: NumberLiteral): number {
  const factor = n.unit === undefined ? 1 : (UNIT_BY_NAME.get(n.unit)?.factor ?? 1);
  return Math.round(n.value * factor);
}

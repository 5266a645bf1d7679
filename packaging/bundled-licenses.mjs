// Prints the copyright file's paragraphs for the npm packages bundled into the Debian
// package: those the source maps of dist/ name (the CLI bundle and the playground's
// scripts), plus the netlink addon and its loader, shipped as they are. Each package's
// name, version, license and copyright lines come from its own files, so the list
// follows the lock file. Used by scripts/build-deb.sh.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? ".";
const maps = readdirSync(join(root, "dist"), { recursive: true })
  .filter((f) => String(f).endsWith(".js.map"))
  .map((f) => join(root, "dist", String(f)));
const packages = new Map([
  ["node_modules/netlink", "usr/lib/mptcp-policy/node_modules/netlink/*"],
  ["node_modules/node-gyp-build", "usr/lib/mptcp-policy/node_modules/node-gyp-build/*"],
]);
for (const map of maps) {
  for (const source of JSON.parse(readFileSync(map, "utf8")).sources) {
    const match = /^(?:.*\/)?(node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(source.replace(/^(\.\.\/)+/, ""));
    // A package's own source map may name its sources as "node_modules/src/...": not a package.
    if (match && !packages.has(match[1]) && existsSync(join(root, match[1], "package.json"))) packages.set(match[1], undefined);
  }
}

// The SPDX names npm uses, as Debian's copyright format spells them.
const DEBIAN_NAMES = { "Apache-2.0": "Apache-2.0", MIT: "Expat", ISC: "ISC", "BSD-2-Clause": "BSD-2-clause", "BSD-3-Clause": "BSD-3-clause", "0BSD": "0BSD" };
/** Licenses whose text Debian keeps in /usr/share/common-licenses: named, not copied. */
const COMMON = { "Apache-2.0": "/usr/share/common-licenses/Apache-2.0" };
const texts = new Map();
const copyrights = [];
const listed = [];
for (const [dir] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
  const manifest = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
  const spdx = typeof manifest.license === "string" ? manifest.license : manifest.license?.type;
  if (!spdx) throw new Error(`${dir}: no license in package.json`);
  const names = spdx.replace(/[()]/g, "").split(/ OR | AND /);
  const license = names.map((n) => DEBIAN_NAMES[n] ?? n);
  const licenseFile = readdirSync(join(root, dir)).find((f) => /^(licen[cs]e|copying)/i.test(f));
  const text = licenseFile ? readFileSync(join(root, dir, licenseFile), "utf8") : "";
  for (const name of license) if (!COMMON[name] && !texts.has(name) && text) texts.set(name, text);
  const lines = text.split("\n").filter((l) => /^\s*copyright\b.*\d{4}/i.test(l));
  const owners = [...new Set(lines.map((l) => l.trim().replace(/^copyright\s*(\(c\)|©)?\s*/i, "")))];
  copyrights.push(...(owners.length > 0 ? owners : [`the ${manifest.name} authors`]));
  listed.push(`${manifest.name} ${manifest.version}: ${license.join(spdx.includes(" AND ") ? " and " : " or ")}`);
}
const all = [...new Set(listed.flatMap((l) => l.split(": ")[1].split(/ (?:and|or) /)))].sort();
const missing = all.filter((l) => !COMMON[l] && !texts.has(l));
if (missing.length > 0) throw new Error(`no license text found for: ${missing.join(", ")}`);
const field = (lines) => lines.map((l, n) => (n === 0 ? l : ` ${l.trim() === "" ? "." : l}`)).join("\n");
const paragraphs = [
  [
    "Files: usr/lib/mptcp-policy/dist/* usr/lib/mptcp-policy/node_modules/*",
    `Copyright: ${field([...new Set(copyrights)])}`,
    `License: ${all.join(" and ")}`,
    `Comment: ${field(["The npm packages bundled into the CLI and the playground, or shipped as they are (netlink, node-gyp-build), each with its license:", ...listed])}`,
  ].join("\n"),
  ...all.map((name) =>
    COMMON[name] ? `License: ${name}\n On Debian systems, the full text is in ${COMMON[name]}.` : `License: ${name}\n${field(["", ...texts.get(name).trimEnd().split("\n")]).slice(1)}`,
  ),
];
process.stdout.write(`${paragraphs.join("\n\n")}\n`);

// Robustness: whatever the text, compilePolicy returns (no throw, no hang, no stack
// overflow), every diagnostic has a code, a message and a 1-based position inside its
// file, and no policy with an error comes with a model. Then the CLI on hostile files:
// one line and exit 2 for I/O problems, diagnostics and exit 1 for junk, never a stack.
//
// Everything is seeded (mulberry32 for the mutants, seed 42 for fast-check), so a
// failure reproduces on every run.
//
// The named hostile inputs below were found to break things once (long `not` chains
// overflowed the stack in later passes; the per-file cap note was an error even when
// it hid only warnings); each is now a regression test.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compilePolicy, MAX_PER_FILE, type CompileResult } from "../compiler/pipeline.js";
import { CODES } from "../language/codes.js";
import { render, toJson, type DiagnosticJson } from "../language/diagnostics.js";
import { buildCli } from "./helpers.js";
import { COMPARISONS, ENDPOINT_FLAGS, ERRNO_NAMES, EVENTS, FAMILIES, KEYWORDS, METRICS, SIDES, UNITS } from "../language/vocabulary.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The language issue's sample policy (test/fixtures/sample.policy) without its blank lines. */
const SAMPLE = readFileSync(new URL("./fixtures/sample.policy", import.meta.url), "utf8").replace(/\n\n+/g, "\n");

// ---------------------------------------------------------------------------
// The invariants every result must satisfy.

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(CODES));

/** Everything wrong with one result, as short strings; empty when it is sound. */
function problems(name: string, text: string, result: CompileResult): string[] {
  const found: string[] = [];
  const lines = text.split("\n");
  const inside = (line: number, column: number): boolean =>
    Number.isInteger(line) && Number.isInteger(column) && line >= 1 && line <= lines.length && column >= 1 && column <= (lines[line - 1] ?? "").length + 1;
  let errors = 0;
  for (const d of result.diagnostics) {
    let json: DiagnosticJson;
    try {
      json = toJson(d);
      render(d);
    } catch (cause) {
      found.push(`toJson/render threw on ${d.code}: ${String(cause)}`);
      continue;
    }
    const at = `${json.code}@${json.line}:${json.column}-${json.endLine}:${json.endColumn}`;
    if (json.file !== name) found.push(`${at}: file '${json.file}', expected '${name}'`);
    if (!inside(json.line, json.column)) found.push(`${at}: start outside the file (${lines.length} lines)`);
    if (!inside(json.endLine, json.endColumn)) found.push(`${at}: end outside the file (${lines.length} lines)`);
    if (json.endLine < json.line || (json.endLine === json.line && json.endColumn < json.column)) found.push(`${at}: end before start`);
    if (!KNOWN_CODES.has(json.code)) found.push(`${at}: unknown code`);
    if (typeof json.message !== "string" || json.message.trim() === "") found.push(`${at}: empty message`);
    if (json.severity !== "error" && json.severity !== "warning") found.push(`${at}: severity '${String(json.severity)}'`);
    if ((json.severity === "error") !== json.code.startsWith("E")) found.push(`${at}: severity ${json.severity} for code ${json.code}`);
    if (json.severity === "error") errors += 1;
  }
  if (errors > 0 && result.model !== undefined) found.push(`${errors} error(s) and a model`);
  if (errors === 0 && result.model === undefined) found.push("no error and no model");
  if (result.diagnostics.length > MAX_PER_FILE + 1) found.push(`${result.diagnostics.length} diagnostics for one file`);
  return found;
}

interface Outcome {
  readonly result: CompileResult | undefined;
  readonly problems: string[];
  readonly ms: number;
}

/** Compiles one file and checks it; a throw is a problem, not a test crash. */
function compileAndCheck(text: string, name = "fuzz.policy"): Outcome {
  const started = performance.now();
  let result: CompileResult;
  try {
    result = compilePolicy([{ name, text }]);
  } catch (cause) {
    const error = cause as Error;
    return { result: undefined, problems: [`threw ${error?.name ?? "?"}: ${error?.message ?? String(cause)}`], ms: performance.now() - started };
  }
  const ms = performance.now() - started;
  return { result, problems: problems(name, text, result), ms };
}

/** For properties and the named cases: fail with the input's problems, else return the result. */
function expectSound(text: string, name = "fuzz.policy"): CompileResult {
  const outcome = compileAndCheck(text, name);
  expect(outcome.problems, `input (${text.length} chars): ${JSON.stringify(text.slice(0, 300))}`).toEqual([]);
  return outcome.result as CompileResult;
}

const jsonOf = (result: CompileResult): DiagnosticJson[] => result.diagnostics.map(toJson);
const errorCodes = (result: CompileResult): string[] => result.diagnostics.filter((d) => d.severity === "error").map((d) => d.code);

// ---------------------------------------------------------------------------
// Seeded randomness and the word lists the fuzzers draw from.

/** mulberry32: a tiny, good-enough seeded PRNG returning [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)] as T;
  }
}

/** Every word the language gives a meaning to, reserved or not. */
const WORDS: readonly string[] = [
  ...KEYWORDS,
  ...EVENTS.map((e) => e.name),
  ...METRICS.map((m) => m.name),
  ...UNITS.map((u) => u.name),
  ...ENDPOINT_FLAGS.map((f) => f.name),
  ...ERRNO_NAMES.keys(),
  ...FAMILIES,
  ...SIDES,
  "announced",
  "stale",
  "add_addr_accepted",
];

const PUNCTUATION: readonly string[] = ["(", ")", "{", "}", ",", "=", ...COMPARISONS];

const LITERALS: readonly string[] = [
  "wifi",
  "lte",
  "eth0",
  "x",
  "Wifi",
  "my-iface",
  "0",
  "4",
  "8",
  "9",
  "443",
  "65535",
  "65536",
  "99999999999999999999999",
  "2s",
  "150ms",
  "1.5s",
  "10mbit",
  "2KB",
  "3parsecs",
  "192.0.2.0/24",
  "10.0.0.0/8",
  "10.0.0.1",
  "300.1.2.3/40",
  "1.2.3.4/",
  "2001:db8::/32",
  "::",
  "::1/129",
  "fe80::1%eth0",
  ":::::",
  '"wlan0"',
  '"usb*"',
  '""',
  '"a\\"b"',
  '"bad\\q"',
  '"unterminated',
  "# comment",
];

/** Single characters and short runs that stress the lexer and the recovery. */
const HOSTILE: readonly string[] = [
  "\0",
  "(",
  ")",
  "{",
  "}",
  '"',
  "'",
  "\\",
  "\u201c",
  "\u201d",
  "\u00a0",
  "\uFEFF",
  "\r",
  "\n",
  "\r\n",
  "\t",
  "\v",
  "\f",
  "\x1b",
  "\x7f",
  "#",
  ",",
  "=",
  "<",
  ">",
  "!",
  "!=",
  "/",
  ";",
  ":",
  ".",
  "*",
  "-",
  "é",
  "ß",
  "\u0301",
  "😀",
  "\uD83D",
  "\uDE00",
  "\u2028",
  "\u2029",
  "\u0663",
  "𝟘",
  "\uFFFD",
  "\uFFFF",
  "(".repeat(40),
  ")".repeat(40),
  "not ".repeat(50),
  "x".repeat(300),
  "9".repeat(400),
];

// ---------------------------------------------------------------------------
// Mutation fuzzing.

/** Token-sized pieces: white space, comments, strings, words/numbers/addresses, single characters. */
function pieces(text: string): string[] {
  return text.match(/\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"?|[A-Za-z0-9_.:/*-]+|[\s\S]/gu) ?? [];
}

function hostileString(random: Random): string {
  switch (random.int(4)) {
    case 0:
      return String.fromCharCode(random.int(256));
    case 1:
      return String.fromCharCode(random.int(0x10000));
    case 2:
      return String.fromCodePoint(random.int(0x110000));
    default:
      return random.pick(HOSTILE);
  }
}

function randomWord(random: Random): string {
  const roll = random.int(10);
  return roll < 6 ? random.pick(WORDS) : roll < 8 ? random.pick(LITERALS) : random.pick(PUNCTUATION);
}

function mutateOnce(parts: string[], random: Random): void {
  const at = random.int(parts.length + 1);
  const length = 1 + random.int(3);
  switch (random.int(8)) {
    case 0: // delete a slice
      parts.splice(at, length);
      break;
    case 1: {
      // duplicate a slice somewhere
      const copy = parts.slice(at, at + 1 + random.int(8));
      parts.splice(random.int(parts.length + 1), 0, ...copy);
      break;
    }
    case 2: {
      // swap two slices of the same length
      const other = random.int(parts.length + 1);
      const first = parts.slice(at, at + length);
      const second = parts.slice(other, other + length);
      if (at + length <= other || other + length <= at) {
        parts.splice(Math.max(at, other), length, ...(at > other ? first : second));
        parts.splice(Math.min(at, other), length, ...(at > other ? second : first));
      }
      break;
    }
    case 3: {
      // insert hostile characters, possibly inside a piece
      const index = Math.min(at, parts.length - 1);
      const piece = parts[index] ?? "";
      const cut = random.int(piece.length + 1);
      parts[index] = piece.slice(0, cut) + hostileString(random) + piece.slice(cut);
      break;
    }
    case 4: // insert a word or symbol with spaces around it
      parts.splice(at, 0, random.chance(0.5) ? ` ${randomWord(random)} ` : randomWord(random));
      break;
    case 5: {
      // replace a piece by a word
      const index = Math.min(at, parts.length - 1);
      if (index >= 0) parts[index] = randomWord(random);
      break;
    }
    case 6: // a run of one word: repeats stress the recovery
      parts.splice(at, 0, ` ${randomWord(random)}`.repeat(1 + random.int(20)));
      break;
    default: // remove all white space between two pieces, or add a line break
      if (random.chance(0.5)) parts.splice(at, 0, random.pick(["\n", "\r\n", "\r", ""]));
      else if (/^\s+$/.test(parts[at] ?? "")) parts.splice(at, 1);
      break;
  }
}

function mutant(base: string, random: Random): string {
  const parts = pieces(base);
  const count = 1 + random.int(4);
  for (let i = 0; i < count; i++) mutateOnce(parts, random);
  let text = parts.join("");
  if (random.chance(0.1)) text = text.slice(0, random.int(text.length + 1));
  return text;
}

function examplePolicies(): { name: string; text: string }[] {
  const dir = join(ROOT, "examples");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".policy"))
    .sort()
    .map((path) => ({ name: relative(ROOT, join(dir, path)), text: readFileSync(join(dir, path), "utf8") }));
}

const MUTANTS = 5000;
const MAX_MUTANT_CHARS = 20_000;
/** A mutant is a few KB: anything slower than this is a near-hang (super-linear somewhere). */
const SLOW_MS = 1_000;

describe("mutation fuzzing (mulberry32, fixed seed)", () => {
  const seeds = [{ name: "sample.policy", text: SAMPLE }, ...examplePolicies()];

  it.each(seeds.map((s) => [s.name, s.text] as const))("the seed %s itself compiles soundly", (name, text) => {
    expectSound(text, name);
  });

  it(`${MUTANTS} mutants of the sample and examples/ compile soundly`, () => {
    const random = new Random(0x5eed_1234);
    const failures: { text: string; problems: string[] }[] = [];
    const slow: { text: string; ms: number }[] = [];
    let previous = SAMPLE;
    let withModel = 0;
    for (let i = 0; i < MUTANTS; i++) {
      // Most mutants start from a seed; some stack more mutations on the last one.
      const base = random.chance(0.25) && previous.length < MAX_MUTANT_CHARS ? previous : random.pick(seeds).text;
      const text = mutant(base, random);
      const outcome = compileAndCheck(text);
      if (outcome.problems.length > 0) failures.push({ text, problems: outcome.problems });
      if (outcome.ms > SLOW_MS) slow.push({ text, ms: Math.round(outcome.ms) });
      if (outcome.result?.model) withModel += 1;
      previous = text;
    }
    const shortest = failures.sort((a, b) => a.text.length - b.text.length).slice(0, 3);
    expect(shortest.map((f) => ({ input: f.text, problems: f.problems.slice(0, 5) })), `${failures.length} of ${MUTANTS} mutants failed`).toEqual([]);
    expect(slow.map((s) => ({ input: s.text.slice(0, 200), ms: s.ms }))).toEqual([]);
    // The mutants must not all be rejected early: some still reach the model builder.
    expect(withModel).toBeGreaterThan(MUTANTS / 50);
  });
});

// ---------------------------------------------------------------------------
// Properties with fast-check (fixed seed).

const token = fc.constantFrom(...WORDS, ...PUNCTUATION, ...LITERALS);
const separator = fc.constantFrom(" ", " ", " ", " ", "\n", "\r\n", "\t", "");
const tokenSequence = fc.array(fc.tuple(token, separator), { maxLength: 80 }).map((pairs) => pairs.map(([t, s]) => t + s).join(""));

// Near-valid programs, so the checker and the model builder see deep, varied trees.
const ifaceName = fc.constantFrom("wifi", "lte", "eth", "Bad-Name", "x");
const predicate = fc.oneof(
  ifaceName.map((n) => `iface ${n}`),
  fc.array(ifaceName, { minLength: 1, maxLength: 4 }).map((ns) => `iface in (${ns.join(", ")})`),
  fc.tuple(fc.constantFrom("local", "remote"), fc.constantFrom("192.0.2.0/24", "10.0.0.0/8", "2001:db8::/32", "1.2.3.4", "300.0.0.0/8")).map(([s, a]) => `${s} in ${a}`),
  fc.tuple(fc.constantFrom("local", "remote"), fc.constantFrom("", "< ", ">= ", "!= "), fc.integer({ min: -1, max: 70000 })).map(([s, op, n]) => `${s} port ${op}${n}`),
  fc.constantFrom("family ipv4", "family ipv6", "family ipv5", "side client", "side server", "backup", "active", "stale", "error timeout", "error 110", "error bogus"),
  fc.tuple(fc.constantFrom(...COMPARISONS), fc.integer({ min: 0, max: 12 })).map(([op, n]) => `subflows ${op} ${n}`),
  fc.tuple(fc.constantFrom(...METRICS.map((m) => m.name)), fc.constantFrom(...COMPARISONS), fc.constantFrom("150ms", "2s", "10", "4KB", "10mbit", "1.5")).map(([m, op, v]) => `${m} ${op} ${v}`),
);
const { condition } = fc.letrec<{ condition: string }>((tie) => ({
  condition: fc.oneof(
    { maxDepth: 5, depthSize: "small" },
    predicate,
    fc.tuple(tie("condition"), fc.constantFrom("and", "or"), tie("condition")).map(([a, op, b]) => `${a} ${op} ${b}`),
    tie("condition").map((c) => `not ${c}`),
    tie("condition").map((c) => `(${c})`),
  ),
}));
const action = fc.oneof(
  fc.tuple(fc.option(ifaceName.map((n) => ` via ${n}`), { nil: "" }), fc.constantFrom("", " to announced", " to remote", " to 192.0.2.1", " port 80", " backup", " backup backup")).map(([via, rest]) => `create${via}${rest}`),
  ifaceName.map((n) => `destroy via ${n}`),
  fc.constant("destroy"),
  ifaceName.map((n) => `announce ${n} port 8443`),
  fc.constantFrom("withdraw wifi", "withdraw 192.0.2.1", "set lte backup", "set wifi active", 'log "hello"', 'log "a\\tb"'),
);
const timedAction = fc.tuple(action, fc.constantFrom("", "", " after 2s", " after 10", " after 1MB")).map(([a, t]) => a + t);
const event = fc.constantFrom(...EVENTS.map((e) => e.name), "no_such_event");
const rule = fc
  .tuple(event, fc.option(ifaceName, { nil: undefined }), fc.option(condition, { nil: undefined }), fc.array(timedAction, { minLength: 1, maxLength: 3 }))
  .map(([e, iface, c, actions]) => `on ${e}${iface ? ` ${iface}` : ""}${c ? ` if ${c}` : ""} then ${actions.join(", ")}`);
const step = fc.oneof(
  fc.tuple(fc.option(condition, { nil: undefined }), fc.option(fc.tuple(fc.constantFrom("lowest", "highest"), fc.constantFrom("rtt", "cwnd", "pacing", "bogus")), { nil: undefined })).map(
    ([where, by]) => `use${where ? ` where ${where}` : ""}${by ? ` by ${by[0]} ${by[1]}` : ""}`,
  ),
  fc.constant("use any"),
  fc.option(condition, { nil: undefined }).map((where) => `redundant${where ? ` where ${where}` : ""}`),
  fc.option(condition, { nil: undefined }).map((where) => `round_robin${where ? ` where ${where}` : ""}`),
);
const scheduler = fc
  .tuple(fc.constantFrom("s1", "s2", "a_very_long_scheduler_name"), fc.option(condition, { nil: undefined }), fc.array(step, { maxLength: 4 }))
  .map(([name, selector, steps]) => `scheduler ${name}${selector ? ` for ${selector}` : ""} {\n${steps.map((s) => `  ${s}\n`).join("")}}`);
const declaration = fc.oneof(
  fc.constantFrom('interface wifi = "wlan0"', 'interface lte = "wwan0", "usb*"', 'interface eth = "eth/0"', 'interface wifi = "wlp*"'),
  fc.constantFrom("limits subflows 4 add_addr_accepted 2", "limits subflows 65", "limits bogus 1", "limits subflows 2 subflows 3"),
  fc.tuple(ifaceName, fc.subarray(["signal", "subflow", "backup", "fullmesh", "laminar", "bogus"])).map(([n, flags]) => `endpoint ${n} ${flags.join(" ")}`),
);
const program = fc
  .array(fc.oneof({ weight: 2, arbitrary: declaration }, { weight: 3, arbitrary: rule }, { weight: 1, arbitrary: scheduler }), { maxLength: 12 })
  .map((statements) => statements.join("\n") + "\n");

describe("fast-check properties (seed 42)", () => {
  it("arbitrary strings of any code point compile soundly", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expectSound(text);
      }),
      { seed: 42, numRuns: 600 },
    );
  });

  it("arbitrary strings of bytes (0-255, control characters included) compile soundly", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii", maxLength: 300 }), (text) => {
        expectSound(text);
      }),
      { seed: 42, numRuns: 600 },
    );
  });

  it("arbitrary strings of UTF-16 code units (lone surrogates included) compile soundly", () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 300 }), (text) => {
        expectSound(text);
      }),
      { seed: 42, numRuns: 400 },
    );
  });

  it("arbitrary sequences of the language's words and punctuation compile soundly", () => {
    fc.assert(
      fc.property(tokenSequence, (text) => {
        expectSound(text);
      }),
      { seed: 42, numRuns: 1500 },
    );
  });

  it("near-valid generated programs compile soundly", () => {
    fc.assert(
      fc.property(program, (text) => {
        expectSound(text);
      }),
      { seed: 42, numRuns: 800 },
    );
  });

  it("a generated program split into several files compiles soundly, positions per file", () => {
    fc.assert(
      fc.property(fc.array(program, { minLength: 1, maxLength: 4 }), (texts) => {
        const sources = texts.map((text, i) => ({ name: `part-${i}.policy`, text }));
        let result: CompileResult;
        try {
          result = compilePolicy(sources);
        } catch (cause) {
          expect.fail(`threw ${String(cause)} on ${JSON.stringify(texts)}`);
        }
        for (const source of sources) {
          const own = { ...result, diagnostics: result.diagnostics.filter((d) => d.span.file.name === source.name), model: undefined };
          const found = problems(source.name, source.text, own).filter((p) => p !== "no error and no model");
          expect(found).toEqual([]);
        }
        const errors = result.diagnostics.some((d) => d.severity === "error");
        expect(result.model === undefined).toBe(errors);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------
// Named hostile inputs.

/** Deterministic random bytes. */
function junkBytes(length: number, seed: number): Buffer {
  const random = mulberry32(seed);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

const TEN_MB = 10 * 1024 * 1024;
const DECLARED = 'interface wifi = "wlan0"\n';
const nested = (n: number, inner: string): string => `${"(".repeat(n)}${inner}${")".repeat(n)}`;

describe("hostile inputs", () => {
  it("binary junk (random bytes read as latin1)", () => {
    const result = expectSound(junkBytes(64 * 1024, 1).toString("latin1"), "junk.policy");
    expect(errorCodes(result).length).toBeGreaterThan(0);
    expect(result.diagnostics.length).toBe(MAX_PER_FILE + 1);
    expect(result.diagnostics.at(-1)?.code).toBe("E005");
  });

  // The time is asserted before the invariants, so "finishes" is checked on its own.
  function compileBig(text: string, name: string): CompileResult {
    const outcome = compileAndCheck(text, name);
    expect(outcome.ms, `${name} took ${Math.round(outcome.ms)} ms`).toBeLessThan(60_000);
    expect(outcome.problems, `${name} (${text.length} chars)`).toEqual([]);
    return outcome.result as CompileResult;
  }

  it("a 10 MB file of one valid rule repeated finishes", { timeout: 60_000 }, () => {
    const line = "on established if iface wifi and remote port 443 then create via lte backup\n";
    const text = 'interface wifi = "wlan0"\ninterface lte = "wwan0"\n' + line.repeat(Math.ceil(TEN_MB / line.length));
    const result = compileBig(text, "big.policy");
    // The second and later copies are shadowed by the first (W601): capped, then E005.
    expect(result.diagnostics.length).toBe(MAX_PER_FILE + 1);
    expect(result.diagnostics[0]?.code).toBe("W601");
  });

  it("a 10 MB file of junk finishes", { timeout: 60_000 }, () => {
    const result = compileBig(junkBytes(TEN_MB, 2).toString("latin1"), "big-junk.policy");
    expect(result.diagnostics.length).toBe(MAX_PER_FILE + 1);
  });

  it("more than 100 warnings and no error: the capped list holds no error", () => {
    const result = expectSound(`${DECLARED}${'on iface_up wifi then log "x"\n'.repeat(MAX_PER_FILE + 2)}`);
    expect(result.model).toBeDefined();
    expect(result.diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toEqual([]);
  });

  it.each([5_000, 100_000])("%i nested parentheses in a rule condition give E004, not a stack overflow", (depth) => {
    const text = `${DECLARED}on established if ${nested(depth, "iface wifi")} then log "x"\n`;
    const result = expectSound(text);
    expect(errorCodes(result)).toEqual(["E004"]);
    const e004 = jsonOf(result).find((d) => d.code === "E004");
    // `on established if ` is 18 characters; the 33rd '(' is the first one too deep.
    expect(e004).toMatchObject({ line: 2, column: 18 + 33, endLine: 2, endColumn: 18 + 34 });
  });

  it.each([5_000, 100_000])("%i nested parentheses in a scheduler's `for` and `where` give E004", (depth) => {
    const text = `${DECLARED}scheduler s for ${nested(depth, "remote port 1")} {\n  use where ${nested(depth, "iface wifi")}\n}\n`;
    const result = expectSound(text);
    expect(errorCodes(result)).toEqual(["E004", "E004"]);
  });

  it("100,000 unbalanced '(' and ')' give diagnostics, not a stack overflow", () => {
    for (const text of ["(".repeat(100_000), ")".repeat(100_000), `${DECLARED}on established if ${"(".repeat(100_000)} then log "x"`, "{".repeat(100_000), "scheduler s {".repeat(10_000)]) {
      const result = expectSound(text);
      expect(errorCodes(result).length).toBeGreaterThan(0);
    }
  });

  // Runs of `not` past the nesting limit are a diagnostic (E004), never a stack overflow.
  it("100,000 `not`s in a rule condition: no stack overflow", () => {
    const result = expectSound(`${DECLARED}on established if ${"not ".repeat(100_000)}iface wifi then log "x"\n`);
    expect(errorCodes(result)).toEqual(["E004"]);
  });

  it("100,000 `not`s in a scheduler step: no stack overflow", () => {
    const result = expectSound(`${DECLARED}scheduler s {\n  use where ${"not ".repeat(100_000)}iface wifi\n}\n`);
    expect(errorCodes(result)).toEqual(["E004"]);
  });

  it("an unterminated string gives E002 at the opening quote", () => {
    const result = expectSound(`${DECLARED}on iface_up wifi then log "wifi is back\non iface_down wifi then log "gone"\n`);
    const e002 = jsonOf(result).filter((d) => d.code === "E002");
    expect(e002).toHaveLength(1);
    // `on iface_up wifi then log ` is 26 characters: the quote is column 27.
    expect(e002[0]).toMatchObject({ line: 2, column: 27, endLine: 2, endColumn: 40 });
    // The next line is still read: no error there.
    expect(jsonOf(result).filter((d) => d.line === 3 && d.severity === "error")).toEqual([]);
  });

  it("an unterminated string at the very end of the file gives E002", () => {
    const result = expectSound(`${DECLARED}on iface_up wifi then log "`);
    expect(jsonOf(result).find((d) => d.code === "E002")).toMatchObject({ line: 2, column: 27 });
  });

  it("NUL bytes give E001 with their position", () => {
    const result = expectSound(`${DECLARED}on iface_up wifi then\0\0\0 log "x"\n\0`);
    const e001 = jsonOf(result).filter((d) => d.code === "E001");
    expect(e001.map((d) => [d.line, d.column])).toEqual([
      [2, 22],
      [3, 1],
    ]);
    expect(e001[0]?.message).toMatch(/NUL/);
  });

  it("CRLF line endings: the sample gives no errors", () => {
    const result = expectSound(SAMPLE.replace(/\n/g, "\r\n"));
    expect(result.diagnostics.map((d) => d.code)).toEqual([]);
    expect(result.model).toBeDefined();
  });

  it("CRLF line endings: positions are the same as with LF", () => {
    const broken = SAMPLE.replace("endpoint lte subflow backup", "endpoint lte subflow sideways")
      .replace("on iface_down wifi then set lte active", "on iface_down wifi then set lte sideways")
      .replace("rtt < 150ms", "rtt < 150")
      .concat("on established if iface wifi then");
    const lf = jsonOf(expectSound(broken));
    const crlf = jsonOf(expectSound(broken.replace(/\n/g, "\r\n")));
    expect(lf.length).toBeGreaterThan(0);
    expect(crlf).toEqual(lf);
    expect(lf.find((d) => d.code === "E400")).toMatchObject({ line: 6, column: 22 });
  });

  it("a UTF-8 byte order mark at the start gives no errors", () => {
    const result = expectSound(`\uFEFF${SAMPLE}`);
    expect(result.diagnostics.map((d) => d.code)).toEqual([]);
    expect(result.model).toBeDefined();
  });

  // E003 messages quote the token found; a string token may hold ESC and friends.
  it("rendered diagnostics carry no control characters (no terminal escapes)", () => {
    for (const text of ['on established then "\x1b[31mRED\x1b[0m"\n', 'on established then log "x" "\x1b]0;title\x07"\n', `${DECLARED}on established if iface "\x1b[2J" then log "x"\n`]) {
      const result = expectSound(text);
      expect(result.diagnostics.length).toBeGreaterThan(0);
      for (const d of result.diagnostics) expect(JSON.stringify(render(d))).not.toMatch(/\\u00(?:0[0-8bcef]|1[0-9a-f]|7f)/);
    }
  });
});

// ---------------------------------------------------------------------------
// The CLI on hostile files.

describe("the CLI on hostile files", () => {
  const bin = join(ROOT, "bin", "mptcp-policy");
  let dir = "";

  beforeAll(() => {
    buildCli();
    dir = mkdtempSync(join(tmpdir(), "mptcp-policy-fuzz-"));
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function cli(...args: string[]): SpawnSyncReturns<string> {
    const run = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    expect(run.error).toBeUndefined();
    expect(run.stdout).not.toContain("    at ");
    expect(run.stderr).not.toContain("    at ");
    return run;
  }

  const lines = (text: string): string[] => text.split("\n").filter((l) => l.trim() !== "");

  it("a file that is not UTF-8: exit 2, one line naming the file and the line", () => {
    const path = join(dir, "latin1.policy");
    writeFileSync(path, Buffer.concat([Buffer.from(`${DECLARED}# caf`), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from("\n")]));
    const run = cli("check", path);
    expect(run.status).toBe(2);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(path);
    expect(run.stderr).toContain("line 2");
    expect(run.stdout).toBe("");
  });

  it("a missing file: exit 2, one line", () => {
    const path = join(dir, "no-such.policy");
    const run = cli("check", path);
    expect(run.status).toBe(2);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(path);
    expect(run.stdout).toBe("");
  });

  it("binary junk that is valid UTF-8: exit 1 with diagnostics", () => {
    const path = join(dir, "junk.policy");
    writeFileSync(path, junkBytes(16 * 1024, 3).toString("latin1"), "utf8");
    const text = cli("check", path);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/junk\.policy:\d+:\d+: error\[E\d{3}\]/);
    expect(text.stderr).toMatch(/errors?, \d+ warnings? in 1 file/);

    const json = cli("check", "--format", "json", path);
    expect(json.status).toBe(1);
    const diagnostics = JSON.parse(json.stdout) as DiagnosticJson[];
    expect(diagnostics.length).toBe(MAX_PER_FILE + 1);
    for (const d of diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.code).toMatch(/^[EW]\d{3}$/);
    }
  });

  it("the sample with CRLF and a BOM: exit 0, nothing printed", () => {
    const path = join(dir, "crlf.policy");
    writeFileSync(path, `\uFEFF${SAMPLE.replace(/\n/g, "\r\n")}`, "utf8");
    const run = cli("check", path);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});

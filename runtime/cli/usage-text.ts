// A command's `--help` text read back as structure, so the man page and the shell
// completion are built from the very text `--help` prints and cannot drift from it.
// The layout it reads is the one every command's usage follows: "Usage:" lines, then
// blank-line separated blocks of prose, labels such as "Options:", two-space-indented
// "TERM  description" entries (continued by deeper indentation) and indented examples.

export type UsageBlock =
  | { readonly kind: "prose"; readonly text: string }
  | { readonly kind: "label"; readonly text: string }
  | { readonly kind: "entries"; readonly entries: readonly UsageEntry[] }
  | { readonly kind: "example"; readonly lines: readonly string[] };

export interface UsageEntry {
  readonly term: string;
  /** One string per line of the description as `--help` wraps it. */
  readonly lines: readonly string[];
}

export interface UsageText {
  /** The synopsis lines without "Usage:" (a command may have several forms). */
  readonly synopsis: readonly string[];
  readonly blocks: readonly UsageBlock[];
}

const ENTRY = /^ {2}(\S(?:.*?\S)?) {2,}(\S.*)$/;
const LABEL = /^[A-Z][A-Za-z ]{0,30}:$/;

export function parseUsage(usage: string): UsageText {
  const lines = usage.split("\n");
  const synopsis: string[] = [];
  let i = 0;
  while (i < lines.length && lines[i]!.trim() !== "") {
    synopsis.push(lines[i]!.replace(/^Usage:\s*/, "").trim());
    i++;
  }
  const blocks: UsageBlock[] = [];
  let prose: string[] = [];
  const flushProse = () => {
    if (prose.length > 0) blocks.push({ kind: "prose", text: prose.join(" ") });
    prose = [];
  };
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") {
      flushProse();
      continue;
    }
    if (!line.startsWith(" ")) {
      if (LABEL.test(line) && (lines[i + 1] ?? "").startsWith("  ")) {
        flushProse();
        blocks.push({ kind: "label", text: line });
      } else prose.push(line);
      continue;
    }
    flushProse();
    // An indented run: entries when its first line is "  TERM  description", else an example.
    const run: string[] = [];
    while (i < lines.length && lines[i]!.startsWith(" ")) run.push(lines[i++]!);
    i--;
    blocks.push(ENTRY.test(run[0]!) ? { kind: "entries", entries: readEntries(run) } : { kind: "example", lines: run });
  }
  flushProse();
  return { synopsis, blocks };
}

function readEntries(run: readonly string[]): UsageEntry[] {
  const entries: { term: string; lines: string[] }[] = [];
  for (const line of run) {
    const match = ENTRY.exec(line);
    if (match && /^ {2}\S/.test(line)) entries.push({ term: match[1]!, lines: [match[2]!] });
    else entries[entries.length - 1]?.lines.push(line.trim());
  }
  return entries;
}

/** The option names (`--format`, `-h`) an entry term such as "-o, --output DIR" documents. */
export function flagsOf(term: string): string[] {
  return [...term.matchAll(/(?:^|[\s,])(--?[A-Za-z][\w-]*)/g)].map((m) => m[1]!);
}

/**
 * The value an option takes as its usage writes it: "text|json" for
 * "--format text|json", "DIR" for "-o, --output DIR"; undefined for a switch.
 */
export function metavarOf(usage: string, option: string): string | undefined {
  const values = [...usage.matchAll(new RegExp(`--${option}[ =]([A-Za-z][\\w|-]*)`, "g"))].map((m) => m[1]!);
  // "[--format text|json]" in a synopsis says more than "--format FORMAT" below it.
  return values.find((v) => v.includes("|")) ?? values[0];
}

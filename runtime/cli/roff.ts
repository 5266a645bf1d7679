// Text to roff for the man pages: escaping (so no text is ever read as a request or
// an escape) and the Markdown subset docs/language.md is written in. Pure functions.

/** Escapes text for a roff text line or macro argument. */
export function escapeRoff(text: string): string {
  let out = "";
  for (const ch of text) {
    if (ch === "\\") out += "\\e";
    else if (ch === "-") out += "\\-";
    else if (ch === "'") out += "\\(aq";
    else if (ch === "`") out += "\\(ga";
    else if (ch === '"') out += "\\(dq";
    else if (ch.codePointAt(0)! > 0x7e) out += `\\[u${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`;
    else out += ch;
  }
  // A line starting with "." or "'" would be a request; \& keeps it text.
  return /^[.']/.test(out) ? `\\&${out}` : out;
}

/** Inline Markdown (`code`, **bold**, *emphasis*, [links](url)) to roff font changes. */
export function inlineMarkdown(text: string): string {
  const parts: string[] = [];
  const pattern = /`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    parts.push(escapeInline(text.slice(last, m.index)));
    if (m[1] !== undefined) parts.push(`\\fB${escapeInline(m[1])}\\fR`);
    else if (m[2] !== undefined) parts.push(`\\fB${inlineMarkdown(m[2]).replace(/\\fR/g, "\\fB")}\\fR`);
    else if (m[3] !== undefined) parts.push(`\\fI${escapeInline(m[3])}\\fR`);
    else parts.push(inlineMarkdown(m[4]!));
    last = m.index + m[0].length;
  }
  parts.push(escapeInline(text.slice(last)));
  return parts.join("");
}

function escapeInline(text: string): string {
  return escapeRoff(text).replace(/^\\&/, "");
}

/** A text line that is safe at the start of a roff line. */
export function textLine(roff: string): string {
  return /^[.']/.test(roff) ? `\\&${roff}` : roff;
}

export function preformatted(lines: readonly string[]): string[] {
  return [".PP", ".RS 4", ".nf", ...lines.map((l) => textLine(escapeRoff(l))), ".fi", ".RE"];
}

export interface MarkdownOptions {
  /** Level-2 sections (by title) left out, e.g. what another page covers. */
  readonly skipSections?: readonly string[];
}

/**
 * Markdown to roff: "#" is the page (left out: the caller writes .TH and NAME), "##"
 * a section, "###" a subsection; fenced code, tables, "-" and "1." lists, paragraphs.
 */
export function markdownToRoff(markdown: string, options: MarkdownOptions = {}): string[] {
  const lines = markdown.split("\n");
  const out: string[] = [];
  let skipping = false;
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(".PP", textLine(inlineMarkdown(paragraph.join(" "))));
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^(#{1,4}) (.*)$/.exec(line);
    if (heading && !isInFence(lines, i)) {
      flush();
      const level = heading[1]!.length;
      const title = heading[2]!.replace(/^\d+\.\s*/, "");
      if (level === 2) skipping = options.skipSections?.includes(title) ?? false;
      if (skipping || level === 1) continue;
      out.push(level === 2 ? `.SH ${quoteArg(plainTitle(title).toUpperCase())}` : `.SS ${quoteArg(plainTitle(title))}`);
      continue;
    }
    if (skipping) continue;
    if (line.startsWith("```")) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) code.push(lines[i]!);
      out.push(...preformatted(code));
      continue;
    }
    if (line.startsWith("|")) {
      flush();
      const rows: string[] = [];
      for (; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(lines[i]!);
      i--;
      out.push(...table(rows));
      continue;
    }
    const item = /^(\s*)(-|\d+\.) (.*)$/.exec(line);
    if (item && paragraph.length === 0) {
      const items: { marker: string; text: string }[] = [];
      for (; i < lines.length; i++) {
        const next = /^(\s*)(-|\d+\.) (.*)$/.exec(lines[i]!);
        if (next) items.push({ marker: next[2]!, text: next[3]! });
        else if (/^\s+\S/.test(lines[i]!) && items.length > 0) items[items.length - 1]!.text += ` ${lines[i]!.trim()}`;
        else break;
      }
      i--;
      // A table of contents of in-page links means nothing on a terminal.
      if (items.every((it) => /^\[[^\]]+\]\(#[^)]*\)$/.test(it.text))) {
        // ... and neither does the "Contents:" line that introduced it.
        if (out.length >= 2 && out[out.length - 2] === ".PP" && out[out.length - 1]!.endsWith(":")) out.splice(-2);
        continue;
      }
      for (const it of items) out.push(`.IP ${it.marker === "-" ? "\\(bu" : escapeRoff(it.marker)} 4`, textLine(inlineMarkdown(it.text)));
      out.push(".PP");
      continue;
    }
    if (line.trim() === "") flush();
    else paragraph.push(line.trim());
  }
  flush();
  return out.filter((l, n, all) => !(l === ".PP" && (all[n + 1] === ".PP" || all[n + 1]?.startsWith(".S") || n === all.length - 1)));
}

function isInFence(lines: readonly string[], index: number): boolean {
  let inside = false;
  for (let i = 0; i < index; i++) if (lines[i]!.startsWith("```")) inside = !inside;
  return inside;
}

function plainTitle(title: string): string {
  return title.replace(/`/g, "");
}

export function quoteArg(text: string): string {
  return `"${escapeRoff(text).replace(/^\\&/, "")}"`;
}

function cells(row: string): string[] {
  // "\|" is a literal bar inside a cell.
  return row
    .replace(/^\|/, "")
    .replace(/\|\s*$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, "|"));
}

/**
 * A Markdown table as a list: each row's first cell as the tag, its second as the
 * text, and any further cell as "Header: value" on a line of its own. Unlike tbl(1),
 * long cells wrap on any terminal width.
 */
function table(rows: readonly string[]): string[] {
  const [head, , ...body] = rows;
  const header = cells(head!);
  const out: string[] = [".PP"];
  for (const row of body) {
    const [first, second, ...rest] = cells(row);
    out.push(".TP", textLine(`\\fB${inlineMarkdown(first ?? "").replace(/\\fR/g, "\\fB")}\\fR`));
    const lines = [
      ...(second !== undefined ? [inlineMarkdown(second)] : []),
      ...rest.map((cell, n) => `${inlineMarkdown(header[n + 2] ?? "")}: ${inlineMarkdown(cell)}`),
    ];
    lines.forEach((line, n) => out.push(...(n > 0 ? [".br"] : []), textLine(line)));
  }
  out.push(".PP");
  return out;
}

// Hover help for the word at a position: the vocabulary's help text for every word
// of the language (keywords, events, metrics, flags, units), and for declared
// interfaces and schedulers their declaration. Pure.
import { wordHelp } from "../vocabulary.js";
import { offsetAt, rangeIn, type Analysis, type DeclaredNames, type Location, type Position } from "./analysis.js";
import { sourceFile } from "../source.js";

/** What editors take as one word of a policy: a number with its unit, or a name. */
export const WORD_PATTERN = /-?\d+(?:\.\d+)?[A-Za-z_]*|[A-Za-z_][A-Za-z0-9_]*/;

/** The word at (or just before) an offset, and where it is. */
export function wordAt(text: string, offset: number): { word: string; start: number; end: number } | undefined {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const lineEnd = text.indexOf("\n", offset);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const global = new RegExp(WORD_PATTERN.source, "g");
  for (const match of line.matchAll(global)) {
    const start = lineStart + (match.index ?? 0);
    const end = start + match[0].length;
    if (start <= offset && offset <= end) return { word: match[0], start, end };
  }
  return undefined;
}

export function hoverAt(analysis: Analysis, file: string, position: Position): { markdown: string; range: Location } | undefined {
  const text = analysis.texts.get(file);
  if (text === undefined) return undefined;
  const word = wordAt(text, offsetAt(text, position));
  if (word === undefined) return undefined;
  const markdown = hoverText(word.word, analysis.names);
  if (markdown === undefined) return undefined;
  const source = analysis.trees.get(file)?.file ?? sourceFile(file, text);
  return { markdown, range: rangeIn(source, word.start, word.end) };
}

/** Hover text for the word at the cursor: the vocabulary's help, or the declaration. */
export function hoverText(word: string, names: DeclaredNames): string | undefined {
  const iface = names.interfaces.find((i) => i.name === word);
  if (iface) return `**interface \`${iface.name}\`** = ${iface.patterns.map((p) => `\`"${p}"\``).join(", ")}\n\nDeclared at ${iface.file}:${iface.line}.`;
  const scheduler = names.schedulers.find((s) => s.name === word);
  if (scheduler) return `**scheduler \`${scheduler.name}\`**, declared at ${scheduler.file}:${scheduler.line}.`;
  const help = wordHelp(word);
  if (help !== undefined) return `**${word}**: ${help}`;
  const unit = /^\d+(?:\.\d+)?([A-Za-z]+)$/.exec(word)?.[1];
  const unitHelp = unit !== undefined ? wordHelp(unit) : undefined;
  return unitHelp !== undefined ? `**${word}**: ${unitHelp}` : undefined;
}

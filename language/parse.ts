// One file from text to syntax tree: tokens, nesting limit, grammar, tree.
// Every stage reports into the same diagnostic list.
import { EOF, type IRecognitionException, type IToken } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import { tokenize } from "./lexer.js";
import { limitNesting } from "./nesting.js";
import { policyParser } from "./parser.js";
import { span, type SourceFile } from "./source.js";
import type { PolicyFile } from "./syntax-tree.js";
import { KEYWORDS } from "./vocabulary.js";

export interface ParseResult {
  readonly tree: PolicyFile;
  readonly diagnostics: Diagnostic[];
}

export function parseFile(file: SourceFile): ParseResult {
  const lexed = tokenize(file);
  const nested = limitNesting(file, lexed.tokens);
  const parsed = policyParser().parse(file, nested.tokens);
  const syntaxErrors = parsed.errors.map((e) => syntaxDiagnostic(file, e));
  const diagnostics = [...lexed.diagnostics, ...nested.diagnostics, ...syntaxErrors, ...parsed.diagnostics];
  return { tree: { kind: "File", file, statements: parsed.statements, comments: lexed.comments }, diagnostics };
}

function syntaxDiagnostic(file: SourceFile, problem: IRecognitionException): Diagnostic {
  const token = problem.token;
  const previous = (problem as { previousToken?: IToken }).previousToken;
  const atEnd = token.tokenType === EOF || Number.isNaN(token.startOffset);
  let start = atEnd ? endOfText(file) : token.startOffset;
  let end = atEnd ? start : token.startOffset + token.image.length;
  let message = problem.message;
  // A statement left unfinished at the end of a line is reported there, not at
  // whatever starts the next line.
  if (!atEnd && previous && !Number.isNaN(previous.startOffset) && file.text.slice(previous.startOffset, token.startOffset).includes("\n")) {
    start = previous.startOffset + previous.image.length;
    end = start;
    message = message.replace(/ but found .*$/, ` after '${previous.image}'`);
  }
  const hints: string[] = [];
  const lower = token.image.toLowerCase();
  if (lower !== token.image && KEYWORDS.includes(lower)) hints.push(`keywords are lower-case: write '${lower}'`);
  if (/found 'then'/.test(problem.message) && /expected a condition/.test(problem.message)) hints.push("remove 'if', or write a condition after it");
  if (/expected 'then'/.test(problem.message)) hints.push("a rule reads: on EVENT [if CONDITION] then ACTION");
  return error("E003", span(file, start, end), message, { hints });
}

/** End of the last non-blank line, so "at end of file" points somewhere visible. */
function endOfText(file: SourceFile): number {
  return file.text.replace(/\s+$/, "").length;
}

// The canonical layout of a policy file (`mptcp-policy fmt`): each statement on one
// line (schedulers as blocks), every comment kept, blank lines collapsed to one.
// Comments only have spans, so each is attached to the statement or step it sits
// before, inside, or after on the same line, and printed with it.
import { printSchedulerOpening, printStatement, printStep } from "./printer.js";
import type { Comment, PolicyFile, SchedulerDecl, Statement, Step } from "./syntax-tree.js";

const INDENT = "  ";
const TRAILING_GAP = "  ";

/** The comments that travel with one statement or step. */
interface Attached {
  /** On their own lines before it. */
  readonly leading: Comment[];
  /** Inside a multi-line statement or step: printed just before it, with nothing lost. */
  readonly inside: Comment[];
  /** After its end, on the same line. */
  readonly trailing: Comment[];
}

interface SchedulerBody {
  /** Offset of the `{`; comments before it are in the header. */
  readonly brace: number;
  readonly braceTrailing: Comment[];
  readonly steps: Attached[];
  /** Before the closing `}`, after the last step. */
  readonly closing: Comment[];
}

/** Lines printed together, and the source range they came from (for blank lines). */
interface Block {
  readonly lines: string[];
  readonly start: number;
  readonly end: number;
}

export function formatFile(tree: PolicyFile): string {
  const text = tree.file.text;
  const statements = tree.statements;
  const attached = statements.map(emptyAttached);
  const bodies = new Map<SchedulerDecl, SchedulerBody>();
  for (const s of statements) {
    if (s.kind === "Scheduler") bodies.set(s, { brace: findBrace(text, s), braceTrailing: [], steps: s.steps.map(emptyAttached), closing: [] });
  }
  const atEnd: Comment[] = [];

  const comments = [...tree.comments].sort((a, b) => a.span.start - b.span.start);
  for (const comment of comments) {
    const at = comment.span.start;
    const i = lastStartingAtOrBefore(statements, at);
    const statement = statements[i];
    const slot = attached[i];
    if (statement && slot && at < statement.span.end) {
      const body = statement.kind === "Scheduler" ? bodies.get(statement) : undefined;
      if (statement.kind === "Scheduler" && body && at > body.brace) attachInBlock(text, statement, body, comment);
      else slot.inside.push(comment);
    } else if (statement && slot && sameLine(text, statement.span.end, at)) {
      slot.trailing.push(comment);
    } else {
      (attached[i + 1]?.leading ?? atEnd).push(comment);
    }
  }

  const blocks: Block[] = [];
  statements.forEach((statement, i) => {
    const slot = attached[i] ?? emptyAttached();
    blocks.push(...slot.leading.map(commentBlock));
    const body = statement.kind === "Scheduler" ? bodies.get(statement) : undefined;
    const lines = [...slot.inside.map(commentText)];
    if (statement.kind === "Scheduler" && body) lines.push(...schedulerLines(statement, body, slot));
    else lines.push(withTrailing(printStatement(statement).join(" "), slot.trailing));
    blocks.push({ lines, start: statement.span.start, end: blockEnd(statement, slot) });
  });
  blocks.push(...atEnd.map(commentBlock));

  const lines = joinBlocks(text, blocks).map((line) => line.trimEnd());
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

function emptyAttached(): Attached {
  return { leading: [], inside: [], trailing: [] };
}

/** A comment between `{` and `}`: with a step, after the `{`, or before the `}`. */
function attachInBlock(text: string, scheduler: SchedulerDecl, body: SchedulerBody, comment: Comment): void {
  const at = comment.span.start;
  const j = lastStartingAtOrBefore(scheduler.steps, at);
  const step = scheduler.steps[j];
  const slot = body.steps[j];
  if (step && slot && at < step.span.end) slot.inside.push(comment);
  else if (step && slot && sameLine(text, step.span.end, at)) slot.trailing.push(comment);
  else if (!step && sameLine(text, body.brace + 1, at)) body.braceTrailing.push(comment);
  else (body.steps[j + 1]?.leading ?? body.closing).push(comment);
}

function schedulerLines(scheduler: SchedulerDecl, body: SchedulerBody, slot: Attached): string[] {
  const text = scheduler.span.file.text;
  const blocks: Block[] = [];
  scheduler.steps.forEach((step, j) => {
    const stepSlot = body.steps[j] ?? emptyAttached();
    blocks.push(...stepSlot.leading.map(commentBlock));
    blocks.push({
      lines: [...stepSlot.inside.map(commentText), withTrailing(printStep(step), stepSlot.trailing)],
      start: step.span.start,
      end: blockEnd(step, stepSlot),
    });
  });
  blocks.push(...body.closing.map(commentBlock));
  const inner = joinBlocks(text, blocks).map((line) => (line === "" ? "" : INDENT + line));
  return [withTrailing(printSchedulerOpening(scheduler), body.braceTrailing), ...inner, withTrailing("}", slot.trailing)];
}

/** Blocks one after another, with one blank line where the source had any between them. */
function joinBlocks(text: string, blocks: readonly Block[]): string[] {
  const lines: string[] = [];
  let previous: Block | undefined;
  for (const block of blocks) {
    if (previous && lineBreaks(text, previous.end, block.start) >= 2) lines.push("");
    lines.push(...block.lines);
    previous = block;
  }
  return lines;
}

function commentBlock(comment: Comment): Block {
  return { lines: [commentText(comment)], start: comment.span.start, end: comment.span.end };
}

function commentText(comment: Comment): string {
  return comment.text.trimEnd();
}

function withTrailing(line: string, trailing: readonly Comment[]): string {
  return trailing.length > 0 ? [line, ...trailing.map(commentText)].join(TRAILING_GAP) : line;
}

function blockEnd(node: Statement | Step, slot: Attached): number {
  return Math.max(node.span.end, ...slot.trailing.map((c) => c.span.end));
}

/** Index of the last node starting at or before `offset` (nodes are in source order), or -1. */
function lastStartingAtOrBefore(nodes: readonly (Statement | Step)[], offset: number): number {
  let low = 0;
  let high = nodes.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if ((nodes[mid]?.span.start ?? Number.POSITIVE_INFINITY) <= offset) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

/**
 * The scheduler's `{` is not in the tree: it is the first `{` after the header,
 * skipping comments (which may contain one).
 */
function findBrace(text: string, scheduler: SchedulerDecl): number {
  const headerEnd = (scheduler.selector ?? scheduler.name).span.end;
  const limit = Math.min(scheduler.span.end, text.length);
  for (let i = headerEnd; i < limit; i++) {
    const ch = text[i];
    if (ch === "{") return i;
    if (ch === "#") {
      while (i < limit && text[i] !== "\n" && text[i] !== "\r") i++;
    }
  }
  return headerEnd;
}

/** Lone `\r` counts as a line end, as it ends a comment in the lexer. */
function lineBreaks(text: string, from: number, to: number): number {
  if (from >= to) return 0;
  return text.slice(from, to).match(/\r\n|\r|\n/g)?.length ?? 0;
}

function sameLine(text: string, from: number, to: number): boolean {
  return from <= to && lineBreaks(text, from, to) === 0;
}

// Completion, worked out from the text before the cursor with the real lexer, the
// real grammar and the vocabulary table: which statement the cursor is in, which
// event a rule is about, and so which words may come next. What an action takes
// comes from the parser's grammar (chevrotain's content assist), so an option added
// to the grammar is offered without a change here. Pure: the hosts (the playground's
// Monaco, `mptcp-policy lsp`) only turn these items into their own.
import type { IToken } from "chevrotain";
import { tokenize } from "../lexer.js";
import { policyParser } from "../parser.js";
import { sourceFile } from "../source.js";
import {
  COMPARISONS,
  ENDPOINT_FLAGS,
  ERRNO_NAMES,
  EVENT_BY_NAME,
  EVENTS,
  FAMILIES,
  KEYWORD_DOCS,
  LIMIT_NAMES,
  METRIC_BY_NAME,
  METRICS,
  SIDES,
  SOCKET_CREATION_CONDITIONS,
  UNITS,
  wordHelp,
  type ConditionKey,
  type EventInfo,
} from "../vocabulary.js";
import { offsetAt, type Analysis, type DeclaredNames, type Position } from "./analysis.js";

export type ItemKind = "keyword" | "event" | "interface" | "scheduler" | "metric" | "unit" | "value" | "flag";

export interface CompletionItem {
  readonly label: string;
  readonly kind: ItemKind;
  readonly detail: string;
  readonly documentation?: string;
  /** Replaces the word at the cursor (a number with its unit, say). */
  readonly insertText?: string;
}

const STATEMENTS = ["interface", "limits", "endpoint", "on", "scheduler", "mptcp", "isolate"] as const;
const STEPS = ["use", "redundant", "round_robin"] as const;

function keyword(word: string): CompletionItem {
  return { label: word, kind: "keyword", detail: "keyword", documentation: KEYWORD_DOCS[word] ?? wordHelp(word) };
}

function value(word: string, detail: string): CompletionItem {
  return { label: word, kind: "value", detail, documentation: wordHelp(word) };
}

function eventItem(e: EventInfo): CompletionItem {
  return { label: e.name, kind: "event", detail: `event · ${e.source}${e.takesInterface ? " · takes an interface" : ""}`, documentation: e.doc };
}

function interfaces(names: DeclaredNames): CompletionItem[] {
  return names.interfaces.map((i) => ({
    label: i.name,
    kind: "interface",
    detail: `interface = ${i.patterns.map((p) => `"${p}"`).join(", ")}`,
    documentation: `Declared at ${i.file}:${i.line}.`,
  }));
}

function metrics(): CompletionItem[] {
  return METRICS.map((m) => ({ label: m.name, kind: "metric", detail: `metric · ${m.dimension}`, documentation: m.doc }));
}

/** Condition words for what an event carries (or a scheduler's `for` / `where`). */
function conditionWords(keys: readonly ConditionKey[]): CompletionItem[] {
  const words = new Set<string>();
  for (const key of keys) {
    if (key === "local_port") words.add("local");
    else if (key === "remote_port") words.add("remote");
    else if (key === "metric") continue;
    else words.add(key);
  }
  const items = [...words].map((w) => (w === "stale" ? value(w, "subflow flag") : keyword(w)));
  items.push(keyword("not"));
  if (keys.includes("metric")) items.push(...metrics());
  return items;
}

const FOR_KEYS: readonly ConditionKey[] = ["local", "remote", "local_port", "remote_port", "family", "side"];
const MPTCP_FOR_KEYS: readonly ConditionKey[] = SOCKET_CREATION_CONDITIONS;
const WHERE_KEYS: readonly ConditionKey[] = [...FOR_KEYS, "iface", "backup", "active", "stale", "subflows", "metric"];

interface Context {
  /** Tokens of the statement the cursor is in, the word being typed left out. */
  readonly statement: readonly IToken[];
  /** Inside a scheduler's braces: the tokens of the current step. */
  readonly step: readonly IToken[] | undefined;
  readonly inBlock: boolean;
  readonly atLineStart: boolean;
  /** The word being typed. */
  readonly partial: string;
}

const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

function contextOf(textBefore: string): Context {
  // The word being typed is left to Monaco's filtering.
  let end = textBefore.length;
  while (end > 0 && isWordChar(textBefore[end - 1])) end--;
  const before = textBefore.slice(0, end);
  const lineStart = before.lastIndexOf("\n") + 1;
  const atLineStart = before.slice(lineStart).trim() === "";
  const tokens = tokenize(sourceFile("completion", before)).tokens;
  let statement: IToken[] = [];
  let step: IToken[] | undefined;
  let depth = 0;
  for (const token of tokens) {
    const image = token.image;
    if (depth === 0 && (STATEMENTS as readonly string[]).includes(image) && token.tokenType.name.startsWith("kw_")) {
      statement = [token];
      step = undefined;
      continue;
    }
    if (image === "{" && statement[0]?.image === "scheduler") {
      depth++;
      statement.push(token);
      step = [];
      continue;
    }
    if (image === "}" && depth > 0) {
      depth--;
      statement = [];
      step = undefined;
      continue;
    }
    if (depth > 0 && step !== undefined && (STEPS as readonly string[]).includes(image)) {
      step = [token];
      continue;
    }
    if (step !== undefined) step.push(token);
    else statement.push(token);
  }
  return { statement, step, inBlock: depth > 0, atLineStart, partial: textBefore.slice(end) };
}

/** What may follow inside a condition, given the tokens of the condition so far. */
function conditionItems(cond: readonly IToken[], keys: readonly ConditionKey[], names: DeclaredNames, then: string[], partial: string): CompletionItem[] {
  const last = cond[cond.length - 1];
  const prev = cond[cond.length - 2];
  const image = last?.image;
  // `rtt < 150|`: the number being typed, with the units of the metric's kind.
  const metric = METRIC_BY_NAME.get(prev?.image ?? "");
  if (/^\d+$/.test(partial) && COMPARISONS.includes(image as never) && metric && metric.dimension !== "count") {
    return UNITS.filter((u) => u.dimension === metric.dimension).map((u) => ({
      label: `${partial}${u.name}`,
      kind: "unit",
      detail: `unit · ${u.doc}`,
      insertText: `${partial}${u.name}`,
    }));
  }
  if (
    last === undefined ||
    image === "if" ||
    image === "and" ||
    image === "or" ||
    image === "not" ||
    image === "where" ||
    image === "for" ||
    (image === "(" && prev?.image !== "in")
  ) {
    return conditionWords(keys);
  }
  const openList = lastOpenList(cond);
  if (openList === "iface" && (image === "(" || image === ",")) return interfaces(names);
  if (openList === "prefix" && (image === "(" || image === ",")) return [];
  if (image === "iface") return [...interfaces(names), keyword("in")];
  if (image === "in" && prev?.image === "iface") return interfaces(names);
  if (image === "local" || image === "remote") return [keyword("in"), keyword("port")];
  if (image === "program") return [{ label: '"curl"', kind: "value", detail: "a program name (glob)", documentation: wordHelp("program") }];
  if (image === "unit") return [{ label: '"nginx.service"', kind: "value", detail: "a systemd unit", documentation: wordHelp("unit") }];
  if (image === "cgroup") return [{ label: '"/system.slice"', kind: "value", detail: "a cgroup v2 path", documentation: wordHelp("cgroup") }];
  if (image === "user") return [];
  if (image === "family") return FAMILIES.map((f) => value(f, "address family"));
  if (image === "side") return SIDES.map((s) => value(s, "who opened the connection"));
  if (image === "error") return [...ERRNO_NAMES.entries()].map(([n, errno]) => value(n, `errno ${errno}`));
  if (COMPARISONS.includes(image as never) || image === "port" || image === "in") return [];
  // After a complete test: combine, or go on.
  return [keyword("and"), keyword("or"), ...then.map(keyword)];
}

/** `iface in (` or `remote in (` still open at the end of the condition. */
function lastOpenList(cond: readonly IToken[]): "iface" | "prefix" | undefined {
  for (let i = cond.length - 1; i >= 0; i--) {
    const t = cond[i]?.image;
    if (t === ")") return undefined;
    if (t === "(" && cond[i - 1]?.image === "in") return cond[i - 2]?.image === "iface" ? "iface" : "prefix";
  }
  return undefined;
}

function ruleItems(tokens: readonly IToken[], names: DeclaredNames, partial: string): CompletionItem[] {
  const eventToken = tokens[1];
  if (eventToken === undefined) return EVENTS.map(eventItem);
  const event = EVENT_BY_NAME.get(eventToken.image);
  const thenAt = tokens.findIndex((t) => t.image === "then");
  const ifAt = tokens.findIndex((t) => t.image === "if");
  if (thenAt < 0) {
    if (ifAt < 0) {
      const afterEvent = tokens.slice(2);
      if (afterEvent.length === 0 && event?.takesInterface) return [...interfaces(names), keyword("if"), keyword("then")];
      return [keyword("if"), keyword("then")];
    }
    return conditionItems(tokens.slice(ifAt), event?.conditions ?? [], names, ["then"], partial);
  }
  // Actions: the tokens of the current one, after `then` or the last comma.
  const actionTokens = tokens.slice(thenAt + 1);
  const comma = actionTokens.map((t) => t.image).lastIndexOf(",");
  const action = actionTokens.slice(comma + 1);
  const onlyLog = event !== undefined && !event.hasConnection && event.source === "mptcp";
  const next = nextTokens("action", action);
  if (action.length === 0) return next.keywords.filter((w) => !(onlyLog || event?.name === "closed") || w === "log").map(keyword);
  const verb = action[0]?.image;
  const image = action[action.length - 1]?.image;
  if (image === "after") return ["500ms", "1s", "2s", "5s"].map((d) => ({ label: d, kind: "unit", detail: "delay" }));
  if (image === "to")
    return [value("remote", "the connection's remote address"), ...(event?.name === "announced" ? [value("announced", "the address just announced")] : [])];
  // Options are given once (E209); `via` and `from` both say where a subflow leaves from.
  const used = new Set(action.slice(1).map((t) => t.image));
  const options = next.keywords.filter((w) => !used.has(w) && !(verb === "create" && ((w === "from" && used.has("via")) || (w === "via" && used.has("from")))));
  return [...(next.identifier ? interfaces(names) : []), ...options.map(keyword)];
}

/**
 * What the grammar lets follow `tokens` in a rule of the parser: its keywords, in the
 * grammar's order, and whether a name may come (an interface, where actions take one).
 */
function nextTokens(rule: string, tokens: readonly IToken[]): { keywords: string[]; identifier: boolean } {
  let paths: ReturnType<ReturnType<typeof policyParser>["computeContentAssist"]>;
  try {
    paths = policyParser().computeContentAssist(rule, tokens as IToken[]);
  } catch {
    return { keywords: [], identifier: false };
  }
  const keywords: string[] = [];
  let identifier = false;
  for (const path of paths) {
    const name = path.nextTokenType.name;
    if (name.startsWith("kw_")) {
      const word = name.slice(3);
      if (!keywords.includes(word)) keywords.push(word);
    } else if (name === "Identifier") identifier = true;
  }
  return { keywords, identifier };
}

function schedulerItems(context: Context, names: DeclaredNames): CompletionItem[] {
  const tokens = context.statement;
  if (!context.inBlock) {
    if (tokens.length === 1) return [];
    const forAt = tokens.findIndex((t) => t.image === "for");
    if (forAt < 0) return [keyword("for")];
    return conditionItems(tokens.slice(forAt), FOR_KEYS, names, [], context.partial);
  }
  const step = context.step ?? [];
  const mode = step[0]?.image;
  if (mode === undefined || context.atLineStart) return STEPS.map(keyword);
  const whereAt = step.findIndex((t) => t.image === "where");
  const byAt = step.findIndex((t) => t.image === "by");
  const last = step[step.length - 1]?.image;
  if (byAt >= 0) {
    if (last === "by") return [keyword("lowest"), keyword("highest")];
    if (last === "lowest" || last === "highest") return metrics();
    return [];
  }
  if (step.length === 1) return mode === "use" ? [keyword("any"), keyword("where"), keyword("by")] : [keyword("where")];
  if (last === "any") return [];
  if (whereAt >= 0) return conditionItems(step.slice(whereAt), WHERE_KEYS, names, mode === "use" ? ["by"] : [], context.partial);
  return [];
}

export function completionsAt(textBefore: string, names: DeclaredNames): CompletionItem[] {
  const context = contextOf(textBefore);
  const head = context.statement[0]?.image;
  if (context.inBlock && context.atLineStart) return STEPS.map(keyword);
  if (head === undefined || (context.atLineStart && !continues(context.statement))) return context.inBlock ? STEPS.map(keyword) : STATEMENTS.map(keyword);
  switch (head) {
    case "interface":
      return [];
    case "limits": {
      const used = new Set(context.statement.map((t) => t.image));
      const last = context.statement[context.statement.length - 1];
      if (last && last.image !== "limits" && last.tokenType.name !== "Number") return [];
      return LIMIT_NAMES.filter((l) => !used.has(l.name)).map((l) => ({
        label: l.name,
        kind: "keyword",
        detail: `limit · at most ${l.max}`,
        documentation: l.doc,
      }));
    }
    case "endpoint": {
      const tokens = context.statement;
      if (tokens.length === 1) return interfaces(names);
      const last = tokens[tokens.length - 1]?.image;
      if (last === "port") return [];
      const used = new Set(tokens.map((t) => t.image));
      return [
        ...ENDPOINT_FLAGS.filter((f) => !used.has(f.name)).map((f): CompletionItem => ({
          label: f.name,
          kind: "flag",
          detail: "endpoint flag",
          documentation: f.doc,
        })),
        ...(used.has("port") ? [] : [keyword("port")]),
      ];
    }
    case "on":
      return ruleItems(context.statement, names, context.partial);
    case "scheduler":
      return schedulerItems(context, names);
    case "isolate": {
      // A list of interface names: offer those not listed yet, after `isolate` or a comma.
      const tokens = context.statement;
      const last = tokens[tokens.length - 1]?.image;
      if (last !== "isolate" && last !== ",") return [];
      const listed = new Set(tokens.map((t) => t.image));
      return interfaces(names).filter((i) => !listed.has(i.label));
    }
    case "mptcp": {
      const tokens = context.statement;
      const forAt = tokens.findIndex((t) => t.image === "for");
      if (forAt < 0) return [keyword("for")];
      return conditionItems(tokens.slice(forAt), MPTCP_FOR_KEYS, names, [], context.partial);
    }
    default:
      return [];
  }
}

/** Whether a statement is visibly unfinished, so a new line continues it. */
function continues(tokens: readonly IToken[]): boolean {
  const last = tokens[tokens.length - 1]?.image;
  return (
    last !== undefined &&
    ["on", "if", "then", "and", "or", "not", "(", ",", "=", "in", "via", "to", "from", "by", "for", "where", "after", "port"].includes(last)
  );
}

/** A comment or a string is open before the cursor on its line: nothing to complete there. */
export function inCommentOrString(lineBefore: string): boolean {
  return /#/.test(lineBefore.replace(/"(?:[^"\\]|\\.)*"/g, "")) || (lineBefore.match(/"/g)?.length ?? 0) % 2 === 1;
}

/** The items at a position of a file of an analysed policy, with the word being typed (for the host's filtering). */
export function completionAt(analysis: Analysis, file: string, position: Position): { items: CompletionItem[]; word: { start: number; end: number } } {
  const text = analysis.texts.get(file) ?? "";
  const offset = offsetAt(text, position);
  const before = text.slice(0, offset);
  let start = offset;
  while (start > 0 && isWordChar(before[start - 1])) start--;
  const word = { start: position.column - (offset - start), end: position.column };
  if (inCommentOrString(before.slice(before.lastIndexOf("\n") + 1))) return { items: [], word };
  return { items: completionsAt(before, analysis.names), word };
}

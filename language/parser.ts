// The grammar, as a chevrotain parser that builds the typed syntax tree directly
// (embedded actions: no concrete tree in between, which halves the allocations of a
// large policy). Error recovery re-synchronises at the next statement, so one run
// reports every independent error; a statement the parser had to repair is left out
// of the tree: its syntax error is reported, and checking a guess would add noise.
import { EmbeddedActionsParser, type IOrAlt, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import { SKIP_GRAMMAR_VALIDATIONS } from "./grammar-validation.js";
import { span, type SourceFile, type Span } from "./source.js";
import { NO_TOKEN, syntaxMessages } from "./syntax-messages.js";
import type {
  Action,
  AddressLiteral,
  Condition,
  CreateAction,
  EndpointDecl,
  InterfaceDecl,
  LimitEntry,
  LimitsDecl,
  Name,
  NumberLiteral,
  Ordering,
  Predicate,
  Rule,
  SchedulerDecl,
  MptcpDecl,
  IsolateDecl,
  ProcessCondition,
  Statement,
  Step,
  StringLiteral,
} from "./syntax-tree.js";
import {
  Address,
  allTokens,
  Comma,
  Comparator,
  Equals,
  Identifier,
  kw,
  LBrace,
  LParen,
  NumberToken,
  RBrace,
  RParen,
  StringLiteral as StringToken,
  TerminatedString,
} from "./tokens.js";
import type { Comparison } from "./vocabulary.js";

/** The keyword token types the grammar names, looked up once rather than per token read. */
const K = {
  active: kw("active"),
  after: kw("after"),
  and: kw("and"),
  announce: kw("announce"),
  any: kw("any"),
  backup: kw("backup"),
  by: kw("by"),
  cgroup: kw("cgroup"),
  create: kw("create"),
  destroy: kw("destroy"),
  endpoint: kw("endpoint"),
  error: kw("error"),
  family: kw("family"),
  for: kw("for"),
  from: kw("from"),
  highest: kw("highest"),
  if: kw("if"),
  iface: kw("iface"),
  in: kw("in"),
  interface: kw("interface"),
  isolate: kw("isolate"),
  limits: kw("limits"),
  local: kw("local"),
  log: kw("log"),
  lowest: kw("lowest"),
  mptcp: kw("mptcp"),
  not: kw("not"),
  on: kw("on"),
  or: kw("or"),
  port: kw("port"),
  program: kw("program"),
  redundant: kw("redundant"),
  remote: kw("remote"),
  retry: kw("retry"),
  round_robin: kw("round_robin"),
  scheduler: kw("scheduler"),
  set: kw("set"),
  side: kw("side"),
  subflows: kw("subflows"),
  then: kw("then"),
  to: kw("to"),
  unit: kw("unit"),
  use: kw("use"),
  user: kw("user"),
  via: kw("via"),
  where: kw("where"),
  withdraw: kw("withdraw"),
} as const;

/** What a rule returns while chevrotain records the grammar: nothing is built then. */
const RECORDING = undefined as never;

/*
 * Speed: a large policy is parsed in one pass with no allocation beyond its syntax tree.
 * So the alternatives of OR and the bodies of MANY/OPTION are created once, as fields
 * (chevrotain's "cache arrays of alternatives"), not per call; what a nested body reads
 * or collects goes through the parser's state (the stacks and lists below) instead of
 * closure variables; the tree is built inline, skipped while RECORDING_PHASE is on.
 * A statement that hit an error is dropped whole, so state a failed rule left behind
 * never reaches the tree; it is cleared at the next statement.
 */
export class PolicyParser extends EmbeddedActionsParser {
  private file!: SourceFile;
  /** Found while building the tree (E209, E211): reported beside the syntax errors. */
  private diagnostics: Diagnostic[] = [];
  /** The statements read so far: kept here, so a failure at the very end loses none. */
  private statements: Statement[] = [];
  /** Operands of the `and`/`or` chains being read; each rule owns the part above its base. */
  private readonly operands: (Condition | undefined)[] = [];
  /** The `not`s in front of the operands being read, the same way. */
  private readonly nots: IToken[] = [];
  /** Tokens of the one list being read (names, prefixes): lists do not nest. */
  private readonly listed: IToken[] = [];
  /** The actions of the rule being read: rules do not nest. */
  private actions: Action[] = [];
  /** The `local`/`remote` word of the endpoint condition being read. */
  private sideToken: IToken = NO_TOKEN;
  /** The options of the `create` being read, in order of appearance per option. */
  private readonly createOptions = { via: [] as IToken[], from: [] as IToken[], to: [] as IToken[], port: [] as IToken[], backup: [] as IToken[] };
  /** The `after` and `retry` values of the action being read (actions do not nest). */
  private readonly suffixes = { after: [] as IToken[], retry: [] as IToken[] };

  constructor() {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: syntaxMessages, skipValidations: SKIP_GRAMMAR_VALIDATIONS });
    this.performSelfAnalysis();
  }

  /** Parse one file's tokens: the statements, the syntax errors and the findings made on the way. */
  parse(file: SourceFile, tokens: IToken[]): { statements: Statement[]; errors: IRecognitionException[]; diagnostics: Diagnostic[] } {
    this.file = file;
    this.diagnostics = [];
    this.statements = [];
    this.input = tokens;
    this.statementKept = true;
    this.policy();
    this.settle();
    const result = { statements: this.statements, errors: this.errors, diagnostics: this.diagnostics };
    // The one parser outlives the parse: it must not keep the file's tokens alive
    // (setting `input` also clears `errors`, read above).
    this.input = [];
    this.statements = [];
    this.diagnostics = [];
    this.actions = [];
    return result;
  }

  /** Where the statement being read started, in `errors` and `diagnostics`, and whether it made the tree. */
  private statementErrors = 0;
  private statementDiagnostics = 0;
  private statementKept = true;

  /**
   * A statement that needed repair is dropped with the findings its actions made:
   * they are about tokens the parser made up. Checked when the next statement starts
   * (recovery may leave a statement without running its last action) and at the end.
   */
  private settle(): void {
    const errors = this.errors.length;
    if (!this.statementKept && errors > this.statementErrors) this.diagnostics.length = this.statementDiagnostics;
    this.statementErrors = errors;
    this.statementDiagnostics = this.diagnostics.length;
    this.statementKept = false;
    this.operands.length = 0;
    this.nots.length = 0;
  }

  /** The token read last: where a construct that ends in optional parts ends. */
  private lastToken(): IToken {
    return this.LA(0);
  }

  private tokenSpan(t: IToken): Span {
    return span(this.file, t.startOffset, t.startOffset + t.image.length);
  }

  /** From a token to the end of a node or token; `last` is missing only in repaired input. */
  private between(first: IToken, last: { span: Span } | IToken | undefined): Span {
    const end = last === undefined ? first.startOffset + first.image.length : "span" in last ? last.span.end : last.startOffset + last.image.length;
    return span(this.file, first.startOffset, end);
  }

  private name(t: IToken): Name {
    return { kind: "Name", text: t.image, span: this.tokenSpan(t) };
  }

  private names(tokens: readonly IToken[]): Name[] {
    const names: Name[] = [];
    for (const t of tokens) names.push(this.name(t));
    return names;
  }

  private number(t: IToken): NumberLiteral {
    // The lexer guarantees digits[.digits] then an optional unit word.
    const image = t.image;
    let digits = 0;
    for (let c = image.charCodeAt(0); (c >= 48 && c <= 57) || c === 46; c = image.charCodeAt(++digits));
    const value = digits === 0 ? Number.NaN : Number(image.slice(0, digits));
    return { kind: "Number", text: image, value, unit: digits < image.length ? image.slice(digits) : undefined, span: this.tokenSpan(t) };
  }

  private address(t: IToken): AddressLiteral {
    return { kind: "Address", text: t.image, span: this.tokenSpan(t) };
  }

  private string(t: IToken): StringLiteral {
    const terminated = t.tokenType === TerminatedString;
    const body = terminated ? t.image.slice(1, -1) : t.image.slice(1);
    if (!body.includes("\\")) return { kind: "String", value: body, terminated, span: this.tokenSpan(t) };
    // Only \" and \\ are escapes: anything else would silently change the text.
    for (const match of body.matchAll(/\\(.)/g)) {
      if (match[1] !== '"' && match[1] !== "\\") {
        const at = t.startOffset + 1 + (match.index ?? 0);
        this.diagnostics.push(error("E211", span(this.file, at, at + 2), `unknown escape '\\${match[1]}' in a string`, { hints: ['only \\" and \\\\ are escapes'] }));
      }
    }
    return { kind: "String", value: body.replace(/\\(.)/g, "$1"), terminated, span: this.tokenSpan(t) };
  }

  private repeated(tokens: readonly IToken[], option: string): void {
    for (let i = 1; i < tokens.length; i += 1) this.diagnostics.push(error("E209", this.tokenSpan(tokens[i] as IToken), `'${option}' given more than once`, { hints: [`keep one '${option}'`] }));
  }

  // Statements: a repaired one is dropped (its error is already in `errors`).
  private readonly policy = this.RULE("policy", (): void => {
    this.MANY(this.statement);
  });

  private readonly statement = (): void => {
    if (this.RECORDING_PHASE) {
      this.OR(this.statementKinds);
      return;
    }
    this.settle();
    const statement = this.OR(this.statementKinds);
    // (`errors` is a copy made per read: read once per statement.)
    if (statement && this.errors.length === this.statementErrors) {
      this.statements.push(statement);
      this.statementKept = true;
    }
  };

  private readonly statementKinds: IOrAlt<Statement>[] = [
    { ALT: () => this.SUBRULE(this.interfaceDecl) },
    { ALT: () => this.SUBRULE(this.limitsDecl) },
    { ALT: () => this.SUBRULE(this.endpointDecl) },
    { ALT: () => this.SUBRULE(this.rule) },
    { ALT: () => this.SUBRULE(this.schedulerDecl) },
    { ALT: () => this.SUBRULE(this.mptcpDecl) },
    { ALT: () => this.SUBRULE(this.isolateDecl) },
  ];

  private readonly isolateDecl = this.RULE("isolateDecl", (): IsolateDecl => {
    const start = this.CONSUME(K.isolate);
    const names: IToken[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => names.push(this.CONSUME(Identifier)) });
    if (this.RECORDING_PHASE) return RECORDING;
    return { kind: "Isolate", interfaces: this.names(names), span: this.between(start, names[names.length - 1] ?? start) };
  });

  private readonly mptcpDecl = this.RULE("mptcpDecl", (): MptcpDecl => {
    const start = this.CONSUME(K.mptcp);
    this.CONSUME(K.for);
    const condition = this.SUBRULE(this.orExpr);
    if (this.RECORDING_PHASE) return RECORDING;
    return { kind: "Mptcp", condition, span: this.between(start, condition) };
  });

  private readonly interfaceDecl = this.RULE("interfaceDecl", (): InterfaceDecl => {
    const start = this.CONSUME(K.interface);
    const id = this.CONSUME(Identifier);
    this.CONSUME(Equals);
    const patterns: IToken[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => patterns.push(this.CONSUME(StringToken)) });
    if (this.RECORDING_PHASE) return RECORDING;
    const strings = patterns.map((p) => this.string(p));
    return { kind: "Interface", name: this.name(id), patterns: strings, span: this.between(start, strings[strings.length - 1] ?? id) };
  });

  private readonly limitsDecl = this.RULE("limitsDecl", (): LimitsDecl => {
    const start = this.CONSUME(K.limits);
    const entries: LimitEntry[] = [];
    this.AT_LEAST_ONE(() => entries.push(this.SUBRULE(this.limitEntry)));
    if (this.RECORDING_PHASE) return RECORDING;
    return { kind: "Limits", entries, span: this.between(start, entries[entries.length - 1] ?? start) };
  });

  private readonly limitEntry = this.RULE("limitEntry", (): LimitEntry => {
    const nameToken = this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(K.subflows) }]);
    const value = this.CONSUME(NumberToken);
    if (this.RECORDING_PHASE) return RECORDING;
    return { kind: "Limit", name: this.name(nameToken), value: this.number(value), span: this.between(nameToken, value) };
  });

  private readonly endpointDecl = this.RULE("endpointDecl", (): EndpointDecl => {
    const start = this.CONSUME(K.endpoint);
    const target = this.SUBRULE(this.addressOrName);
    const flags: IToken[] = [];
    const ports: IToken[] = [];
    this.MANY(() =>
      this.OR([
        { ALT: () => flags.push(this.CONSUME2(Identifier)) },
        { ALT: () => flags.push(this.CONSUME(K.backup)) },
        {
          ALT: () => {
            this.CONSUME(K.port);
            ports.push(this.CONSUME(NumberToken));
          },
        },
      ]),
    );
    if (this.RECORDING_PHASE) return RECORDING;
    this.repeated(ports, "port");
    const port = ports[0];
    const last = flags.length + ports.length > 0 ? this.lastToken() : target;
    return { kind: "Endpoint", target, flags: this.names(flags), port: port && this.number(port), span: this.between(start, last) };
  });

  private readonly addressOrName = this.RULE("addressOrName", (): Name | AddressLiteral => {
    const id = this.OPTION(this.identifier);
    const address = id === undefined ? this.CONSUME(Address) : undefined;
    if (this.RECORDING_PHASE) return RECORDING;
    return id !== undefined ? this.name(id) : this.address(address as IToken);
  });

  private readonly identifier = (): IToken => this.CONSUME(Identifier);

  private readonly rule = this.RULE("rule", (): Rule => {
    const start = this.CONSUME(K.on);
    const event = this.CONSUME(Identifier);
    const iface = this.OPTION(this.eventInterface);
    const condition = this.OPTION2(this.ruleCondition);
    this.CONSUME(K.then);
    const actions: Action[] = (this.actions = []);
    this.AT_LEAST_ONE_SEP(this.actionList);
    if (this.RECORDING_PHASE) return RECORDING;
    return {
      kind: "Rule",
      event: this.name(event),
      iface: iface && this.name(iface),
      condition,
      actions,
      span: this.between(start, actions[actions.length - 1] ?? event),
    };
  });

  private readonly eventInterface = (): IToken => this.CONSUME2(Identifier);

  private readonly ruleCondition = (): Condition => {
    this.CONSUME(K.if);
    return this.SUBRULE(this.orExpr);
  };

  private readonly actionList = {
    SEP: Comma,
    DEF: (): void => {
      this.actions.push(this.SUBRULE(this.action));
    },
  };

  // Conditions: or < and < not < predicate. `not` repeats iteratively, so `not not …`
  // cannot overflow the stack; parentheses are limited before parsing (nesting.ts).
  private readonly orExpr = this.RULE("orExpr", (): Condition => {
    const base = this.operands.length;
    this.operands.push(this.SUBRULE(this.andExpr));
    this.MANY(this.orOperand);
    return this.chain("Or", base);
  });

  private readonly orOperand = (): void => {
    this.CONSUME(K.or);
    this.operands.push(this.SUBRULE2(this.andExpr));
  };

  private readonly andExpr = this.RULE("andExpr", (): Condition => {
    const base = this.operands.length;
    this.operands.push(this.SUBRULE(this.notExpr));
    this.MANY(this.andOperand);
    return this.chain("And", base);
  });

  private readonly andOperand = (): void => {
    this.CONSUME(K.and);
    this.operands.push(this.SUBRULE2(this.notExpr));
  };

  /** The operands above `base`, taken off the stack: one stands alone, more are joined. */
  private chain(kind: "And" | "Or", base: number): Condition {
    if (this.operands.length === base + 1) return this.operands.pop() as Condition;
    const operands = this.operands.splice(base);
    return this.RECORDING_PHASE ? RECORDING : joined(kind, operands);
  }

  private readonly notExpr = this.RULE("notExpr", (): Condition => {
    const base = this.nots.length;
    this.MANY(this.notWord);
    const inner = this.OR(this.operandKinds);
    const nots = this.nots;
    if (nots.length === base) return inner;
    let result: Condition = inner;
    if (!this.RECORDING_PHASE && inner) {
      for (let i = nots.length - 1; i >= base; i -= 1) result = { kind: "Not", operand: result, span: span(this.file, (nots[i] as IToken).startOffset, result.span.end) };
    }
    nots.length = base;
    return result;
  });

  private readonly notWord = (): void => {
    this.nots.push(this.CONSUME(K.not));
  };

  private readonly operandKinds: IOrAlt<Condition>[] = [
    {
      ALT: () => {
        this.CONSUME(LParen);
        const grouped = this.SUBRULE(this.orExpr);
        this.CONSUME(RParen);
        return grouped;
      },
    },
    { ALT: () => this.SUBRULE(this.predicate) },
  ];

  private readonly predicate = this.RULE("predicate", (): Predicate => this.OR(this.predicateKinds));

  private readonly predicateKinds: IOrAlt<Predicate>[] = [
    {
      ALT: () => {
        const start = this.CONSUME(K.iface);
        this.listed.length = 0;
        const list = this.OR2(this.interfaceForms);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Iface", names: this.names(this.listed), list, span: this.between(start, this.lastToken()) };
      },
    },
    { ALT: () => this.SUBRULE(this.endpointPredicate) },
    {
      ALT: () => {
        const start = this.OR5(this.processWords);
        const value = this.CONSUME2(StringToken);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Process", test: start.image as ProcessCondition["test"], value: this.string(value), span: this.between(start, value) };
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.user);
        const value = this.CONSUME4(NumberToken);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Process", test: "user", value: this.number(value), span: this.between(start, value) };
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.family);
        const value = this.CONSUME3(Identifier);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Family", value: this.name(value), span: this.between(start, value) };
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.side);
        const value = this.CONSUME4(Identifier);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Side", value: this.name(value), span: this.between(start, value) };
      },
    },
    {
      ALT: () => {
        const word = this.OR4(this.flagWords);
        if (this.RECORDING_PHASE) return RECORDING;
        return flag(this.name(word));
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.error);
        const value = this.OR3(this.errorValues);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Error", value: value.tokenType === NumberToken ? this.number(value) : this.name(value), span: this.between(start, value) };
      },
    },
    {
      ALT: () => {
        const subject = this.CONSUME(K.subflows);
        const op = this.CONSUME(Comparator);
        const value = this.CONSUME2(NumberToken);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Compare", subject: this.name(subject), op: op.image as Comparison, value: this.number(value), span: this.between(subject, value) };
      },
    },
    {
      // A metric comparison (`rtt < 150ms`) or a bare flag word (`stale`).
      ALT: () => {
        const subject = this.CONSUME6(Identifier);
        const op = this.OPTION(this.metricComparison);
        if (this.RECORDING_PHASE) return RECORDING;
        if (op === undefined) return flag(this.name(subject));
        const value = this.lastToken();
        return { kind: "Compare", subject: this.name(subject), op: op.image as Comparison, value: this.number(value), span: this.between(subject, value) };
      },
    },
  ];

  /** `in (a, b)` or a single name, after `iface`. */
  private readonly interfaceForms = this.listForms(Identifier, K.in);

  private readonly processWords: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME(K.program) }, { ALT: () => this.CONSUME(K.unit) }, { ALT: () => this.CONSUME(K.cgroup) }];

  private readonly flagWords: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME(K.backup) }, { ALT: () => this.CONSUME(K.active) }];

  private readonly errorValues: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME5(Identifier) }, { ALT: () => this.CONSUME(NumberToken) }];

  private readonly metricComparison = (): IToken => {
    const op = this.CONSUME2(Comparator);
    this.CONSUME3(NumberToken);
    return op;
  };

  private readonly endpointPredicate = this.RULE("endpointPredicate", (): Predicate => {
    this.sideToken = this.OR(this.sideWords);
    return this.OR2(this.endpointForms);
  });

  private readonly sideWords: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME(K.local) }, { ALT: () => this.CONSUME(K.remote) }];

  private readonly endpointForms: IOrAlt<Predicate>[] = [
    {
      ALT: () => {
        const sideToken = this.sideToken;
        this.CONSUME(K.in);
        this.listed.length = 0;
        const list = this.OR3(this.prefixForms);
        if (this.RECORDING_PHASE) return RECORDING;
        const prefixes: AddressLiteral[] = [];
        for (const t of this.listed) prefixes.push(this.address(t));
        return { kind: "AddressIn", side: sideOf(sideToken), prefixes, list, span: this.between(sideToken, this.lastToken()) };
      },
    },
    {
      ALT: () => {
        const sideToken = this.sideToken;
        this.CONSUME(K.port);
        const op = this.OPTION(this.comparator);
        const value = this.CONSUME(NumberToken);
        if (this.RECORDING_PHASE) return RECORDING;
        return {
          kind: "Port",
          side: sideOf(sideToken),
          op: (op?.image ?? "==") as Comparison,
          explicitOp: op !== undefined,
          value: this.number(value),
          span: this.between(sideToken, value),
        };
      },
    },
  ];

  /** `(p, q)` or a single prefix, after `local in`/`remote in`. */
  private readonly prefixForms = this.listForms(Address);

  /**
   * A parenthesised list (true) or a single item (false) of one token type, the list
   * led by `lead` when given; the items go to `listed`.
   */
  private listForms(item: TokenType, lead?: TokenType): IOrAlt<boolean>[] {
    const listedItem = {
      SEP: Comma,
      DEF: (): void => {
        this.listed.push(this.CONSUME(item));
      },
    };
    return [
      {
        ALT: () => {
          if (lead) this.CONSUME(lead);
          this.CONSUME(LParen);
          this.AT_LEAST_ONE_SEP(listedItem);
          this.CONSUME(RParen);
          return true;
        },
      },
      {
        ALT: () => {
          this.listed.push(this.CONSUME2(item));
          return false;
        },
      },
    ];
  }

  private readonly comparator = (): IToken => this.CONSUME(Comparator);

  // `after D` and `retry N` follow any action, in either order, each at most once
  // (E209); the checker says which actions take `retry` (E212).
  private readonly action = this.RULE("action", (): Action => {
    const action = this.OR(this.actionKinds);
    const suffixes = this.suffixes;
    suffixes.after.length = suffixes.retry.length = 0;
    this.MANY(this.actionSuffix);
    if (this.RECORDING_PHASE || !action) return action;
    const [after] = suffixes.after;
    const [retry] = suffixes.retry;
    if (!after && !retry) return action;
    this.repeated(suffixes.after, "after");
    this.repeated(suffixes.retry, "retry");
    const last = this.lastToken();
    return {
      ...action,
      after: after && this.number(after),
      ...(retry ? { retry: this.number(retry) } : {}),
      span: span(this.file, action.span.start, last.startOffset + last.image.length),
    };
  });

  private readonly actionSuffix = (): void => {
    this.OR3(this.actionSuffixKinds);
  };

  private readonly actionSuffixKinds: IOrAlt<void>[] = [
    {
      ALT: () => {
        this.CONSUME(K.after);
        this.suffixes.after.push(this.CONSUME2(NumberToken));
      },
    },
    {
      ALT: () => {
        this.CONSUME(K.retry);
        this.suffixes.retry.push(this.CONSUME3(NumberToken));
      },
    },
  ];

  private readonly actionKinds: IOrAlt<Action>[] = [
    { ALT: () => this.SUBRULE(this.createAction) },
    {
      ALT: () => {
        const start = this.CONSUME(K.destroy);
        const via = this.OPTION(this.destroyVia);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Destroy", via: via && this.name(via), after: undefined, span: this.between(start, via ?? start) };
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.announce);
        const target = this.SUBRULE(this.addressOrName);
        const port = this.OPTION2(this.announcePort);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Announce", target, port: port && this.number(port), after: undefined, span: this.between(start, port ?? target) };
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.withdraw);
        const target = this.SUBRULE2(this.addressOrName);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Withdraw", target, after: undefined, span: this.between(start, target) };
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.set);
        const iface = this.CONSUME2(Identifier);
        const value = this.OR2(this.setValues);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Set", iface: this.name(iface), value: value.image === "backup" ? "backup" : "active", after: undefined, span: this.between(start, value) };
      },
    },
    {
      ALT: () => {
        const start = this.CONSUME(K.log);
        const message = this.CONSUME(StringToken);
        if (this.RECORDING_PHASE) return RECORDING;
        return { kind: "Log", message: this.string(message), after: undefined, span: this.between(start, message) };
      },
    },
  ];

  private readonly destroyVia = (): IToken => {
    this.CONSUME(K.via);
    return this.CONSUME(Identifier);
  };

  private readonly announcePort = (): IToken => {
    this.CONSUME(K.port);
    return this.CONSUME(NumberToken);
  };

  private readonly setValues: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME(K.backup) }, { ALT: () => this.CONSUME(K.active) }];

  // Options in any order; repeats are reported (E209) and the first one kept.
  private readonly createAction = this.RULE("createAction", (): CreateAction => {
    const start = this.CONSUME(K.create);
    const options = this.createOptions;
    options.via.length = options.from.length = options.to.length = options.port.length = options.backup.length = 0;
    this.MANY(this.createOption);
    if (this.RECORDING_PHASE) return RECORDING;
    this.repeated(options.via, "via");
    this.repeated(options.from, "from");
    this.repeated(options.to, "to");
    this.repeated(options.port, "port");
    this.repeated(options.backup, "backup");
    const [via] = options.via;
    const [from] = options.from;
    const [target] = options.to;
    const [port] = options.port;
    return {
      kind: "Create",
      via: via && this.name(via),
      from: from && this.address(from),
      to: target && (target.tokenType.name === "Address4" || target.tokenType.name === "Address6" ? this.address(target) : this.name(target)),
      port: port && this.number(port),
      backup: options.backup.length > 0,
      after: undefined,
      span: this.between(start, this.lastToken()),
    };
  });

  private readonly createOption = (): void => {
    this.OR(this.createOptionKinds);
  };

  private readonly createOptionKinds: IOrAlt<void>[] = [
    {
      ALT: () => {
        this.CONSUME(K.via);
        this.createOptions.via.push(this.CONSUME(Identifier));
      },
    },
    {
      ALT: () => {
        this.CONSUME(K.from);
        this.createOptions.from.push(this.CONSUME(Address));
      },
    },
    {
      ALT: () => {
        this.CONSUME(K.to);
        this.createOptions.to.push(this.OR2(this.createTargets));
      },
    },
    {
      ALT: () => {
        this.CONSUME(K.port);
        this.createOptions.port.push(this.CONSUME(NumberToken));
      },
    },
    {
      ALT: () => {
        this.createOptions.backup.push(this.CONSUME(K.backup));
      },
    },
  ];

  private readonly createTargets: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME2(Address) }, { ALT: () => this.CONSUME(K.remote) }, { ALT: () => this.CONSUME2(Identifier) }];

  private readonly schedulerDecl = this.RULE("schedulerDecl", (): SchedulerDecl => {
    const start = this.CONSUME(K.scheduler);
    const id = this.CONSUME(Identifier);
    const selector = this.OPTION(() => {
      this.CONSUME(K.for);
      return this.SUBRULE(this.orExpr);
    });
    this.CONSUME(LBrace);
    const steps: Step[] = [];
    this.MANY(() => steps.push(this.SUBRULE(this.step)));
    const end = this.CONSUME(RBrace);
    if (this.RECORDING_PHASE) return RECORDING;
    return { kind: "Scheduler", name: this.name(id), selector, steps, span: this.between(start, end) };
  });

  private readonly step = this.RULE("step", (): Step => {
    return this.OR([
      {
        ALT: () => {
          const start = this.CONSUME(K.use);
          return this.OR2([
            {
              ALT: () => {
                const any = this.CONSUME(K.any);
                if (this.RECORDING_PHASE) return RECORDING;
                return { kind: "Step" as const, mode: "use_any" as const, where: undefined, order: undefined, span: this.between(start, any) };
              },
            },
            {
              ALT: () => {
                const where = this.OPTION(() => this.SUBRULE(this.whereClause));
                const order = this.OPTION2(() => this.SUBRULE(this.ordering));
                if (this.RECORDING_PHASE) return RECORDING;
                return { kind: "Step" as const, mode: "use" as const, where, order, span: span(this.file, start.startOffset, (order ?? where ?? { span: this.tokenSpan(start) }).span.end) };
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          const start = this.OR3([{ ALT: () => this.CONSUME(K.redundant) }, { ALT: () => this.CONSUME(K.round_robin) }]);
          const where = this.OPTION3(() => this.SUBRULE2(this.whereClause));
          if (this.RECORDING_PHASE) return RECORDING;
          return {
            kind: "Step" as const,
            mode: start.image === "redundant" ? ("redundant" as const) : ("round_robin" as const),
            where,
            order: undefined,
            span: span(this.file, start.startOffset, (where ?? { span: this.tokenSpan(start) }).span.end),
          };
        },
      },
    ]);
  });

  private readonly whereClause = this.RULE("whereClause", (): Condition => {
    this.CONSUME(K.where);
    return this.SUBRULE(this.orExpr);
  });

  private readonly ordering = this.RULE("ordering", (): Ordering => {
    this.CONSUME(K.by);
    const direction = this.OR([{ ALT: () => this.CONSUME(K.lowest) }, { ALT: () => this.CONSUME(K.highest) }]);
    const metric = this.CONSUME(Identifier);
    if (this.RECORDING_PHASE) return RECORDING;
    return { kind: "Ordering", direction: direction.image === "highest" ? "highest" : "lowest", metric: this.name(metric), span: this.between(direction, metric) };
  });
}

function sideOf(token: IToken): "local" | "remote" {
  return token.image === "local" ? "local" : "remote";
}

function joined(kind: "And" | "Or", all: (Condition | undefined)[]): Condition {
  // Operands are missing only after recovery, in a statement that is then dropped.
  const operands = all.includes(undefined) ? all.filter((c): c is Condition => c !== undefined) : (all as Condition[]);
  if (operands.length <= 1) return operands[0] as Condition;
  const first = operands[0] as Condition;
  const last = operands[operands.length - 1] as Condition;
  return { kind, operands, span: { file: first.span.file, start: first.span.start, end: last.span.end } };
}

function flag(name: Name): Predicate {
  return { kind: "Flag", name, span: name.span };
}

let parser: PolicyParser | undefined;

/** The one parser instance: building it analyses the grammar, which costs a few ms. */
export function policyParser(): PolicyParser {
  parser ??= new PolicyParser();
  return parser;
}

// The grammar, as a chevrotain parser that builds the typed syntax tree directly
// (embedded actions: no concrete tree in between, which halves the allocations of a
// large policy). Error recovery re-synchronises at the next statement, so one run
// reports every independent error; a statement the parser had to repair is left out
// of the tree: its syntax error is reported, and checking a guess would add noise.
import { EmbeddedActionsParser, EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import { span, type SourceFile, type Span } from "./source.js";
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

function label(token: TokenType): string {
  return token === EOF ? "end of file" : (token.LABEL ?? token.name);
}

function found(token: IToken): string {
  if (token.tokenType === EOF) return "end of file";
  const image = token.image.length > 24 ? `${token.image.slice(0, 24)}…` : token.image;
  // Control characters never reach a terminal through a message.
  return `'${image.replace(/[\x00-\x1f\x7f]/g, "\u00bf")}'`;
}

function oneOf(tokens: TokenType[]): string {
  const names = [...new Set(tokens.map(label))];
  if (names.length === 1) return names[0] ?? "";
  const shown = names.slice(0, 8);
  const rest = names.length > shown.length ? ", …" : "";
  return `one of ${shown.join(", ")}${rest}`;
}

const RULE_DESCRIPTIONS: Record<string, string> = {
  policy: "a statement (interface, limits, endpoint, on, scheduler)",
  action: "an action (create, destroy, announce, withdraw, set, log)",
  predicate: "a condition",
  notExpr: "a condition",
  step: "a scheduler step (use, redundant, round_robin)",
  limitEntry: "a limit (subflows, add_addr_accepted)",
  addressOrName: "an interface name or an address",
};

const NO_TOKEN = { tokenType: EOF, image: "" } as IToken;

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF ? `expected ${RULE_DESCRIPTIONS["policy"]} but found ${found(actual)}` : `expected ${label(expected)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `expected ${RULE_DESCRIPTIONS["policy"]} but found ${found(firstRedundant)}`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((path) => path[0])).filter((t): t is TokenType => !!t);
    return `expected ${RULE_DESCRIPTIONS[ruleName] ?? oneOf(firsts)} but found ${found(actual[0] ?? NO_TOKEN)}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) => {
    const firsts = expectedIterationPaths.map((path) => path[0]).filter((t): t is TokenType => !!t);
    return `expected ${RULE_DESCRIPTIONS[ruleName] ?? oneOf(firsts)} but found ${found(actual[0] ?? NO_TOKEN)}`;
  },
};

export class PolicyParser extends EmbeddedActionsParser {
  private file!: SourceFile;
  /** Found while building the tree (E209, E211): reported beside the syntax errors. */
  diagnostics: Diagnostic[] = [];
  /** The statements read so far: kept here, so a failure at the very end loses none. */
  private statements: Statement[] = [];

  constructor() {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: messages });
    this.performSelfAnalysis();
  }

  /** Parse one file's tokens; syntax errors are in `errors`, the rest in `diagnostics`. */
  parse(file: SourceFile, tokens: IToken[]): Statement[] {
    this.file = file;
    this.diagnostics = [];
    this.statements = [];
    this.input = tokens;
    this.pending = undefined;
    this.policy();
    this.settle();
    return this.statements;
  }

  /** Where the statement being read started, in `errors` and `diagnostics`. */
  private pending: { errors: number; diagnostics: number; kept: boolean } | undefined;

  /**
   * A statement that needed repair is dropped with the findings its actions made:
   * they are about tokens the parser made up. Checked when the next statement starts
   * (recovery may leave a statement without running its last action) and at the end.
   */
  private settle(): void {
    if (this.pending && !this.pending.kept && this.errors.length > this.pending.errors) this.diagnostics.length = this.pending.diagnostics;
    this.pending = { errors: this.errors.length, diagnostics: this.diagnostics.length, kept: false };
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

  private number(t: IToken): NumberLiteral {
    const match = /^(\d+(?:\.\d+)?)(.*)$/.exec(t.image);
    const unit = match?.[2] ? match[2] : undefined;
    return { kind: "Number", text: t.image, value: Number(match?.[1] ?? Number.NaN), unit, span: this.tokenSpan(t) };
  }

  private address(t: IToken): AddressLiteral {
    return { kind: "Address", text: t.image, span: this.tokenSpan(t) };
  }

  private string(t: IToken): StringLiteral {
    const terminated = t.tokenType === TerminatedString;
    const body = terminated ? t.image.slice(1, -1) : t.image.slice(1);
    // Only \" and \\ are escapes: anything else would silently change the text.
    if (body.includes("\\")) {
      for (const match of body.matchAll(/\\(.)/g)) {
        if (match[1] !== '"' && match[1] !== "\\") {
          const at = t.startOffset + 1 + (match.index ?? 0);
          this.diagnostics.push(error("E211", span(this.file, at, at + 2), `unknown escape '\\${match[1]}' in a string`, { hints: ['only \\" and \\\\ are escapes'] }));
        }
      }
    }
    return { kind: "String", value: body.replace(/\\(.)/g, "$1"), terminated, span: this.tokenSpan(t) };
  }

  private repeated(spans: Span[], option: string): void {
    for (const at of spans.slice(1)) this.diagnostics.push(error("E209", at, `'${option}' given more than once`, { hints: [`keep one '${option}'`] }));
  }

  // Statements: a repaired one is dropped (its error is already in `errors`).
  private readonly policy = this.RULE("policy", (): void => {
    this.MANY(() => {
      this.ACTION(() => this.settle());
      const errorsBefore = this.errors.length;
      const statement = this.OR([
        { ALT: () => this.SUBRULE(this.interfaceDecl) },
        { ALT: () => this.SUBRULE(this.limitsDecl) },
        { ALT: () => this.SUBRULE(this.endpointDecl) },
        { ALT: () => this.SUBRULE(this.rule) },
        { ALT: () => this.SUBRULE(this.schedulerDecl) },
      ]);
      this.ACTION(() => {
        if (statement && this.errors.length === errorsBefore && this.pending) {
          this.statements.push(statement);
          this.pending.kept = true;
        }
      });
    });
  });

  private readonly interfaceDecl = this.RULE("interfaceDecl", (): InterfaceDecl => {
    const start = this.CONSUME(kw("interface"));
    const id = this.CONSUME(Identifier);
    this.CONSUME(Equals);
    const patterns: IToken[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => patterns.push(this.CONSUME(StringToken)) });
    return this.ACTION(() => {
      const strings = patterns.map((p) => this.string(p));
      return { kind: "Interface", name: this.name(id), patterns: strings, span: this.between(start, strings[strings.length - 1] ?? id) };
    });
  });

  private readonly limitsDecl = this.RULE("limitsDecl", (): LimitsDecl => {
    const start = this.CONSUME(kw("limits"));
    const entries: LimitEntry[] = [];
    this.AT_LEAST_ONE(() => entries.push(this.SUBRULE(this.limitEntry)));
    return this.ACTION(() => ({ kind: "Limits", entries, span: this.between(start, entries[entries.length - 1] ?? start) }));
  });

  private readonly limitEntry = this.RULE("limitEntry", (): LimitEntry => {
    const nameToken = this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(kw("subflows")) }]);
    const value = this.CONSUME(NumberToken);
    return this.ACTION(() => ({ kind: "Limit", name: this.name(nameToken), value: this.number(value), span: this.between(nameToken, value) }));
  });

  private readonly endpointDecl = this.RULE("endpointDecl", (): EndpointDecl => {
    const start = this.CONSUME(kw("endpoint"));
    const target = this.SUBRULE(this.addressOrName);
    const flags: IToken[] = [];
    const ports: IToken[] = [];
    let last: IToken | { span: Span } = target;
    this.MANY(() =>
      this.OR([
        { ALT: () => flags.push((last = this.CONSUME2(Identifier))) },
        { ALT: () => flags.push((last = this.CONSUME(kw("backup")))) },
        {
          ALT: () => {
            this.CONSUME(kw("port"));
            ports.push((last = this.CONSUME(NumberToken)));
          },
        },
      ]),
    );
    return this.ACTION(() => {
      this.repeated(ports.map((p) => this.tokenSpan(p)), "port");
      const port = ports[0];
      return { kind: "Endpoint", target, flags: flags.map((f) => this.name(f)), port: port && this.number(port), span: this.between(start, last) };
    });
  });

  private readonly addressOrName = this.RULE("addressOrName", (): Name | AddressLiteral => {
    // CONSUME never goes inside ACTION: chevrotain records the grammar without running actions.
    const id = this.OPTION(() => this.CONSUME(Identifier));
    const address = id === undefined ? this.CONSUME(Address) : undefined;
    return this.ACTION(() => (id !== undefined ? this.name(id) : this.address(address as IToken)));
  });

  private readonly rule = this.RULE("rule", (): Rule => {
    const start = this.CONSUME(kw("on"));
    const event = this.CONSUME(Identifier);
    const iface = this.OPTION(() => this.CONSUME2(Identifier));
    const condition = this.OPTION2(() => {
      this.CONSUME(kw("if"));
      return this.SUBRULE(this.orExpr);
    });
    this.CONSUME(kw("then"));
    const actions: Action[] = [];
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => actions.push(this.SUBRULE(this.action)) });
    return this.ACTION(() => ({
      kind: "Rule",
      event: this.name(event),
      iface: iface && this.name(iface),
      condition,
      actions,
      span: this.between(start, actions[actions.length - 1] ?? event),
    }));
  });

  // Conditions: or < and < not < predicate. `not` repeats iteratively, so `not not …`
  // cannot overflow the stack; parentheses are limited before parsing (nesting.ts).
  private readonly orExpr = this.RULE("orExpr", (): Condition => {
    const operands = [this.SUBRULE(this.andExpr)];
    this.MANY(() => {
      this.CONSUME(kw("or"));
      operands.push(this.SUBRULE2(this.andExpr));
    });
    return this.ACTION(() => joined("Or", operands));
  });

  private readonly andExpr = this.RULE("andExpr", (): Condition => {
    const operands = [this.SUBRULE(this.notExpr)];
    this.MANY(() => {
      this.CONSUME(kw("and"));
      operands.push(this.SUBRULE2(this.notExpr));
    });
    return this.ACTION(() => joined("And", operands));
  });

  private readonly notExpr = this.RULE("notExpr", (): Condition => {
    const nots: IToken[] = [];
    this.MANY(() => nots.push(this.CONSUME(kw("not"))));
    const inner = this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          const grouped = this.SUBRULE(this.orExpr);
          this.CONSUME(RParen);
          return grouped;
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
    return this.ACTION(() => {
      if (!inner) return inner;
      let result: Condition = inner;
      for (let i = nots.length - 1; i >= 0; i -= 1) result = { kind: "Not", operand: result, span: span(this.file, (nots[i] as IToken).startOffset, result.span.end) };
      return result;
    });
  });

  private readonly predicate = this.RULE("predicate", (): Predicate => {
    return this.OR([
      {
        ALT: () => {
          const start = this.CONSUME(kw("iface"));
          const names: IToken[] = [];
          let end: IToken = start;
          const list = this.OR2([
            {
              ALT: () => {
                this.CONSUME(kw("in"));
                this.CONSUME(LParen);
                this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => names.push(this.CONSUME(Identifier)) });
                end = this.CONSUME(RParen);
                return true;
              },
            },
            { ALT: () => (names.push((end = this.CONSUME2(Identifier))), false) },
          ]);
          return this.ACTION(() => ({ kind: "Iface" as const, names: names.map((n) => this.name(n)), list, span: this.between(start, end) }));
        },
      },
      { ALT: () => this.SUBRULE(this.endpointPredicate) },
      {
        ALT: () => {
          const start = this.CONSUME(kw("family"));
          const value = this.CONSUME3(Identifier);
          return this.ACTION(() => ({ kind: "Family" as const, value: this.name(value), span: this.between(start, value) }));
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(kw("side"));
          const value = this.CONSUME4(Identifier);
          return this.ACTION(() => ({ kind: "Side" as const, value: this.name(value), span: this.between(start, value) }));
        },
      },
      {
        ALT: () => {
          const word = this.OR4([{ ALT: () => this.CONSUME(kw("backup")) }, { ALT: () => this.CONSUME(kw("active")) }]);
          return this.ACTION(() => flag(this.name(word)));
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(kw("error"));
          const value = this.OR3([{ ALT: () => this.CONSUME5(Identifier) }, { ALT: () => this.CONSUME(NumberToken) }]);
          return this.ACTION(() => ({
            kind: "Error" as const,
            value: value.tokenType === NumberToken ? this.number(value) : this.name(value),
            span: this.between(start, value),
          }));
        },
      },
      {
        ALT: () => {
          const subject = this.CONSUME(kw("subflows"));
          const op = this.CONSUME(Comparator);
          const value = this.CONSUME2(NumberToken);
          return this.ACTION(() => ({ kind: "Compare" as const, subject: this.name(subject), op: op.image as Comparison, value: this.number(value), span: this.between(subject, value) }));
        },
      },
      {
        // A metric comparison (`rtt < 150ms`) or a bare flag word (`stale`).
        ALT: () => {
          const subject = this.CONSUME6(Identifier);
          const compared = this.OPTION(() => ({ op: this.CONSUME2(Comparator), value: this.CONSUME3(NumberToken) }));
          return this.ACTION(() =>
            compared
              ? { kind: "Compare" as const, subject: this.name(subject), op: compared.op.image as Comparison, value: this.number(compared.value), span: this.between(subject, compared.value) }
              : flag(this.name(subject)),
          );
        },
      },
    ]);
  });

  private readonly endpointPredicate = this.RULE("endpointPredicate", (): Predicate => {
    const sideToken = this.OR([{ ALT: () => this.CONSUME(kw("local")) }, { ALT: () => this.CONSUME(kw("remote")) }]);
    const side = sideToken.image === "local" ? ("local" as const) : ("remote" as const);
    return this.OR2([
      {
        ALT: () => {
          this.CONSUME(kw("in"));
          const prefixes: IToken[] = [];
          let end: IToken = sideToken;
          const list = this.OR3([
            {
              ALT: () => {
                this.CONSUME(LParen);
                this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => prefixes.push(this.CONSUME(Address)) });
                end = this.CONSUME(RParen);
                return true;
              },
            },
            { ALT: () => (prefixes.push((end = this.CONSUME2(Address))), false) },
          ]);
          return this.ACTION(() => ({ kind: "AddressIn" as const, side, prefixes: prefixes.map((p) => this.address(p)), list, span: this.between(sideToken, end) }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("port"));
          const op = this.OPTION(() => this.CONSUME(Comparator));
          const value = this.CONSUME(NumberToken);
          return this.ACTION(() => ({
            kind: "Port" as const,
            side,
            op: (op?.image ?? "==") as Comparison,
            explicitOp: op !== undefined,
            value: this.number(value),
            span: this.between(sideToken, value),
          }));
        },
      },
    ]);
  });

  private readonly action = this.RULE("action", (): Action => {
    const action = this.OR([
      { ALT: () => this.SUBRULE(this.createAction) },
      {
        ALT: () => {
          const start = this.CONSUME(kw("destroy"));
          const via = this.OPTION(() => {
            this.CONSUME(kw("via"));
            return this.CONSUME(Identifier);
          });
          return this.ACTION(() => ({ kind: "Destroy" as const, via: via && this.name(via), after: undefined, span: this.between(start, via ?? start) }));
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(kw("announce"));
          const target = this.SUBRULE(this.addressOrName);
          const port = this.OPTION2(() => {
            this.CONSUME(kw("port"));
            return this.CONSUME(NumberToken);
          });
          return this.ACTION(() => ({ kind: "Announce" as const, target, port: port && this.number(port), after: undefined, span: this.between(start, port ?? target) }));
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(kw("withdraw"));
          const target = this.SUBRULE2(this.addressOrName);
          return this.ACTION(() => ({ kind: "Withdraw" as const, target, after: undefined, span: this.between(start, target) }));
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(kw("set"));
          const iface = this.CONSUME2(Identifier);
          const value = this.OR2([{ ALT: () => this.CONSUME(kw("backup")) }, { ALT: () => this.CONSUME(kw("active")) }]);
          return this.ACTION(() => ({ kind: "Set" as const, iface: this.name(iface), value: value.image === "backup" ? ("backup" as const) : ("active" as const), after: undefined, span: this.between(start, value) }));
        },
      },
      {
        ALT: () => {
          const start = this.CONSUME(kw("log"));
          const message = this.CONSUME(StringToken);
          return this.ACTION(() => ({ kind: "Log" as const, message: this.string(message), after: undefined, span: this.between(start, message) }));
        },
      },
    ]);
    const after = this.OPTION3(() => {
      this.CONSUME(kw("after"));
      return this.CONSUME2(NumberToken);
    });
    return this.ACTION(() => (after && action ? { ...action, after: this.number(after), span: span(this.file, action.span.start, after.startOffset + after.image.length) } : action));
  });

  // Options in any order; repeats are reported (E209) and the first one kept.
  private readonly createAction = this.RULE("createAction", (): CreateAction => {
    const start = this.CONSUME(kw("create"));
    const via: IToken[] = [];
    const from: IToken[] = [];
    const to: IToken[] = [];
    const ports: IToken[] = [];
    const backups: IToken[] = [];
    let last: IToken = start;
    this.MANY(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(kw("via"));
            via.push((last = this.CONSUME(Identifier)));
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw("from"));
            from.push((last = this.CONSUME(Address)));
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw("to"));
            to.push((last = this.OR2([{ ALT: () => this.CONSUME2(Address) }, { ALT: () => this.CONSUME(kw("remote")) }, { ALT: () => this.CONSUME2(Identifier) }])));
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw("port"));
            ports.push((last = this.CONSUME(NumberToken)));
          },
        },
        { ALT: () => backups.push((last = this.CONSUME(kw("backup")))) },
      ]),
    );
    return this.ACTION(() => {
      const spans = (tokens: IToken[]) => tokens.map((t) => this.tokenSpan(t));
      this.repeated(spans(via), "via");
      this.repeated(spans(from), "from");
      this.repeated(spans(to), "to");
      this.repeated(spans(ports), "port");
      this.repeated(spans(backups), "backup");
      const target = to[0];
      return {
        kind: "Create",
        via: via[0] && this.name(via[0]),
        from: from[0] && this.address(from[0]),
        to: target && (target.tokenType.name === "Address4" || target.tokenType.name === "Address6" ? this.address(target) : this.name(target)),
        port: ports[0] && this.number(ports[0]),
        backup: backups.length > 0,
        after: undefined,
        span: this.between(start, last),
      };
    });
  });

  private readonly schedulerDecl = this.RULE("schedulerDecl", (): SchedulerDecl => {
    const start = this.CONSUME(kw("scheduler"));
    const id = this.CONSUME(Identifier);
    const selector = this.OPTION(() => {
      this.CONSUME(kw("for"));
      return this.SUBRULE(this.orExpr);
    });
    this.CONSUME(LBrace);
    const steps: Step[] = [];
    this.MANY(() => steps.push(this.SUBRULE(this.step)));
    const end = this.CONSUME(RBrace);
    return this.ACTION(() => ({ kind: "Scheduler", name: this.name(id), selector, steps, span: this.between(start, end) }));
  });

  private readonly step = this.RULE("step", (): Step => {
    return this.OR([
      {
        ALT: () => {
          const start = this.CONSUME(kw("use"));
          return this.OR2([
            {
              ALT: () => {
                const any = this.CONSUME(kw("any"));
                return this.ACTION(() => ({ kind: "Step" as const, mode: "use_any" as const, where: undefined, order: undefined, span: this.between(start, any) }));
              },
            },
            {
              ALT: () => {
                const where = this.OPTION(() => this.SUBRULE(this.whereClause));
                const order = this.OPTION2(() => this.SUBRULE(this.ordering));
                return this.ACTION(() => ({ kind: "Step" as const, mode: "use" as const, where, order, span: span(this.file, start.startOffset, (order ?? where ?? { span: this.tokenSpan(start) }).span.end) }));
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          const start = this.OR3([{ ALT: () => this.CONSUME(kw("redundant")) }, { ALT: () => this.CONSUME(kw("round_robin")) }]);
          const where = this.OPTION3(() => this.SUBRULE2(this.whereClause));
          return this.ACTION(() => ({
            kind: "Step" as const,
            mode: start.image === "redundant" ? ("redundant" as const) : ("round_robin" as const),
            where,
            order: undefined,
            span: span(this.file, start.startOffset, (where ?? { span: this.tokenSpan(start) }).span.end),
          }));
        },
      },
    ]);
  });

  private readonly whereClause = this.RULE("whereClause", (): Condition => {
    this.CONSUME(kw("where"));
    return this.SUBRULE(this.orExpr);
  });

  private readonly ordering = this.RULE("ordering", (): Ordering => {
    this.CONSUME(kw("by"));
    const direction = this.OR([{ ALT: () => this.CONSUME(kw("lowest")) }, { ALT: () => this.CONSUME(kw("highest")) }]);
    const metric = this.CONSUME(Identifier);
    return this.ACTION(() => ({
      kind: "Ordering",
      direction: direction.image === "highest" ? "highest" : "lowest",
      metric: this.name(metric),
      span: this.between(direction, metric),
    }));
  });
}

function joined(kind: "And" | "Or", all: (Condition | undefined)[]): Condition {
  // Operands are missing only after recovery, in a statement that is then dropped.
  const operands = all.filter((c): c is Condition => c !== undefined);
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

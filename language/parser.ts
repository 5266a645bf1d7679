// The grammar, as a chevrotain CST parser with error recovery: after a mistake it
// re-synchronises at the next statement, so one run reports every independent error.
// The concrete syntax tree is turned into the typed syntax tree by build-syntax-tree.ts.
import { CstParser, EOF, type CstNode, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
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
  StringLiteral,
} from "./tokens.js";

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

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === EOF ? `expected ${RULE_DESCRIPTIONS["statement"]} but found ${found(actual)}` : `expected ${label(expected)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) => `unexpected ${found(firstRedundant)}: expected a statement`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((path) => path[0])).filter((t): t is TokenType => !!t);
    const what = RULE_DESCRIPTIONS[ruleName];
    const expected = what ?? oneOf(firsts);
    return `expected ${expected} but found ${found(actual[0] ?? ({ tokenType: EOF, image: "" } as IToken))}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) => {
    const firsts = expectedIterationPaths.map((path) => path[0]).filter((t): t is TokenType => !!t);
    const what = RULE_DESCRIPTIONS[ruleName];
    return `expected ${what ?? oneOf(firsts)} but found ${found(actual[0] ?? ({ tokenType: EOF, image: "" } as IToken))}`;
  },
};

const RULE_DESCRIPTIONS: Record<string, string> = {
  statement: "a statement (interface, limits, endpoint, on, scheduler)",
  action: "an action (create, destroy, announce, withdraw, set, log)",
  predicate: "a condition",
  primary: "a condition",
  step: "a scheduler step (use, redundant, round_robin)",
  limitEntry: "a limit (subflows, add_addr_accepted)",
  addressOrName: "an interface name or an address",
};

export class PolicyParser extends CstParser {
  constructor() {
    super(allTokens, { recoveryEnabled: true, maxLookahead: 3, errorMessageProvider: messages, nodeLocationTracking: "onlyOffset" });
    this.performSelfAnalysis();
  }

  policy = this.RULE("policy", () => {
    this.MANY(() => this.SUBRULE(this.statement));
  });

  statement = this.RULE("statement", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.interfaceDecl) },
      { ALT: () => this.SUBRULE(this.limitsDecl) },
      { ALT: () => this.SUBRULE(this.endpointDecl) },
      { ALT: () => this.SUBRULE(this.rule) },
      { ALT: () => this.SUBRULE(this.schedulerDecl) },
    ]);
  });

  interfaceDecl = this.RULE("interfaceDecl", () => {
    this.CONSUME(kw("interface"));
    this.CONSUME(Identifier);
    this.CONSUME(Equals);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.CONSUME(StringLiteral) });
  });

  limitsDecl = this.RULE("limitsDecl", () => {
    this.CONSUME(kw("limits"));
    this.AT_LEAST_ONE(() => this.SUBRULE(this.limitEntry));
  });

  limitEntry = this.RULE("limitEntry", () => {
    this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(kw("subflows")) }]);
    this.CONSUME(NumberToken);
  });

  endpointDecl = this.RULE("endpointDecl", () => {
    this.CONSUME(kw("endpoint"));
    this.SUBRULE(this.addressOrName);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME2(Identifier, { LABEL: "flag" }) },
        { ALT: () => this.CONSUME(kw("backup"), { LABEL: "flag" }) },
        { ALT: () => this.SUBRULE(this.portOption) },
      ]),
    );
  });

  addressOrName = this.RULE("addressOrName", () => {
    this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(Address) }]);
  });

  portOption = this.RULE("portOption", () => {
    this.CONSUME(kw("port"));
    this.CONSUME(NumberToken);
  });

  rule = this.RULE("rule", () => {
    this.CONSUME(kw("on"));
    this.CONSUME(Identifier, { LABEL: "event" });
    this.OPTION(() => this.CONSUME2(Identifier, { LABEL: "iface" }));
    this.OPTION2(() => {
      this.CONSUME(kw("if"));
      this.SUBRULE(this.orExpr);
    });
    this.CONSUME(kw("then"));
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.action) });
  });

  // Conditions: or < and < not < primary.
  orExpr = this.RULE("orExpr", () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(kw("or"));
      this.SUBRULE2(this.andExpr);
    });
  });

  andExpr = this.RULE("andExpr", () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(kw("and"));
      this.SUBRULE2(this.notExpr);
    });
  });

  // `not` repeats iteratively, not recursively, so `not not ... x` cannot overflow.
  notExpr = this.RULE("notExpr", () => {
    this.MANY(() => this.CONSUME(kw("not")));
    this.SUBRULE(this.primary);
  });

  primary = this.RULE("primary", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.SUBRULE(this.orExpr);
          this.CONSUME(RParen);
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
  });

  predicate = this.RULE("predicate", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.ifacePredicate) },
      { ALT: () => this.SUBRULE(this.endpointPredicate) },
      {
        ALT: () => {
          this.CONSUME(kw("family"));
          this.CONSUME(Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("side"));
          this.CONSUME2(Identifier);
        },
      },
      { ALT: () => this.CONSUME(kw("backup"), { LABEL: "flag" }) },
      { ALT: () => this.CONSUME(kw("active"), { LABEL: "flag" }) },
      {
        ALT: () => {
          this.CONSUME(kw("error"));
          this.OR2([{ ALT: () => this.CONSUME3(Identifier, { LABEL: "errorName" }) }, { ALT: () => this.CONSUME(NumberToken, { LABEL: "errorNumber" }) }]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("subflows"), { LABEL: "subject" });
          this.CONSUME(Comparator);
          this.CONSUME2(NumberToken);
        },
      },
      {
        // A metric comparison (`rtt < 150ms`) or a bare flag word (`stale`).
        ALT: () => {
          this.CONSUME4(Identifier, { LABEL: "subject" });
          this.OPTION(() => {
            this.CONSUME2(Comparator);
            this.CONSUME3(NumberToken);
          });
        },
      },
    ]);
  });

  ifacePredicate = this.RULE("ifacePredicate", () => {
    this.CONSUME(kw("iface"));
    this.OR([
      {
        ALT: () => {
          this.CONSUME(kw("in"));
          this.CONSUME(LParen);
          this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.CONSUME(Identifier) });
          this.CONSUME(RParen);
        },
      },
      { ALT: () => this.CONSUME2(Identifier) },
    ]);
  });

  endpointPredicate = this.RULE("endpointPredicate", () => {
    this.OR([{ ALT: () => this.CONSUME(kw("local"), { LABEL: "side" }) }, { ALT: () => this.CONSUME(kw("remote"), { LABEL: "side" }) }]);
    this.OR2([
      {
        ALT: () => {
          this.CONSUME(kw("in"));
          this.OR3([
            {
              ALT: () => {
                this.CONSUME(LParen);
                this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.CONSUME(Address) });
                this.CONSUME(RParen);
              },
            },
            { ALT: () => this.CONSUME2(Address) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("port"));
          this.OPTION(() => this.CONSUME(Comparator));
          this.CONSUME(NumberToken);
        },
      },
    ]);
  });

  action = this.RULE("action", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.createAction) },
      {
        ALT: () => {
          this.CONSUME(kw("destroy"));
          this.OPTION(() => {
            this.CONSUME(kw("via"));
            this.CONSUME(Identifier, { LABEL: "via" });
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("announce"));
          this.SUBRULE(this.addressOrName);
          this.OPTION2(() => this.SUBRULE(this.portOption));
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("withdraw"));
          this.SUBRULE2(this.addressOrName);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("set"));
          this.CONSUME2(Identifier, { LABEL: "setIface" });
          this.OR2([{ ALT: () => this.CONSUME(kw("backup"), { LABEL: "setValue" }) }, { ALT: () => this.CONSUME(kw("active"), { LABEL: "setValue" }) }]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("log"));
          this.CONSUME(StringLiteral);
        },
      },
    ]);
    this.OPTION3(() => {
      this.CONSUME(kw("after"));
      this.CONSUME(NumberToken, { LABEL: "after" });
    });
  });

  // Options in any order; repeats are reported when the tree is built (E209).
  createAction = this.RULE("createAction", () => {
    this.CONSUME(kw("create"));
    this.MANY(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(kw("via"));
            this.CONSUME(Identifier, { LABEL: "via" });
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw("from"));
            this.CONSUME(Address, { LABEL: "from" });
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw("to"));
            this.OR2([
              { ALT: () => this.CONSUME2(Address, { LABEL: "to" }) },
              { ALT: () => this.CONSUME(kw("remote"), { LABEL: "to" }) },
              { ALT: () => this.CONSUME2(Identifier, { LABEL: "to" }) },
            ]);
          },
        },
        { ALT: () => this.SUBRULE(this.portOption) },
        { ALT: () => this.CONSUME(kw("backup")) },
      ]),
    );
  });

  schedulerDecl = this.RULE("schedulerDecl", () => {
    this.CONSUME(kw("scheduler"));
    this.CONSUME(Identifier);
    this.OPTION(() => {
      this.CONSUME(kw("for"));
      this.SUBRULE(this.orExpr);
    });
    this.CONSUME(LBrace);
    this.MANY(() => this.SUBRULE(this.step));
    this.CONSUME(RBrace);
  });

  step = this.RULE("step", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(kw("use"), { LABEL: "mode" });
          this.OR2([
            { ALT: () => this.CONSUME(kw("any")) },
            {
              ALT: () => {
                this.OPTION(() => this.SUBRULE(this.whereClause));
                this.OPTION2(() => {
                  this.CONSUME(kw("by"));
                  this.OR3([{ ALT: () => this.CONSUME(kw("lowest"), { LABEL: "direction" }) }, { ALT: () => this.CONSUME(kw("highest"), { LABEL: "direction" }) }]);
                  this.CONSUME(Identifier, { LABEL: "metric" });
                });
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("redundant"), { LABEL: "mode" });
          this.OPTION3(() => this.SUBRULE2(this.whereClause));
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw("round_robin"), { LABEL: "mode" });
          this.OPTION4(() => this.SUBRULE3(this.whereClause));
        },
      },
    ]);
  });

  whereClause = this.RULE("whereClause", () => {
    this.CONSUME(kw("where"));
    this.SUBRULE(this.orExpr);
  });
}

let parser: PolicyParser | undefined;

/** The one parser instance: building it analyses the grammar, which costs a few ms. */
export function policyParser(): PolicyParser {
  parser ??= new PolicyParser();
  return parser;
}

export type { CstNode };

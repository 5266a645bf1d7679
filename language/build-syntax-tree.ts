// The concrete syntax tree from chevrotain, turned into the typed syntax tree.
// A statement the parser had to repair is left out: its syntax error is already
// reported, and checking a guessed statement would only add noise.
import type { CstElement, CstNode, IToken } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import { TerminatedString } from "./tokens.js";
import { span, type SourceFile, type Span } from "./source.js";
import type {
  Action,
  AddressLiteral,
  Comment,
  Condition,
  CreateAction,
  EndpointDecl,
  InterfaceDecl,
  LimitsDecl,
  Name,
  NumberLiteral,
  PolicyFile,
  Predicate,
  Rule,
  SchedulerDecl,
  Statement,
  Step,
  StringLiteral,
} from "./syntax-tree.js";
import type { Comparison } from "./vocabulary.js";

type Children = CstNode["children"];

export function buildSyntaxTree(
  file: SourceFile,
  root: CstNode,
  comments: Comment[],
  hadSyntaxErrors: boolean,
): { tree: PolicyFile; diagnostics: Diagnostic[] } {
  const builder = new TreeBuilder(file);
  const statements: Statement[] = [];
  for (const node of nodes(root.children, "statement")) {
    if (hadSyntaxErrors && wasRepaired(node)) continue;
    const statement = builder.statement(node);
    if (statement) statements.push(statement);
  }
  return { tree: { kind: "File", file, statements, comments }, diagnostics: builder.diagnostics };
}

function wasRepaired(node: CstNode): boolean {
  if (node.recoveredNode) return true;
  for (const elements of Object.values(node.children)) {
    for (const element of elements) {
      if (isToken(element) ? element.isInsertedInRecovery === true || Number.isNaN(element.startOffset) : wasRepaired(element)) return true;
    }
  }
  return false;
}

function isToken(element: CstElement): element is IToken {
  return (element as IToken).image !== undefined;
}

function nodes(children: Children, key: string): CstNode[] {
  return (children[key] ?? []) as CstNode[];
}

function node(children: Children, key: string): CstNode | undefined {
  return children[key]?.[0] as CstNode | undefined;
}

function tokens(children: Children, key: string): IToken[] {
  return (children[key] ?? []) as IToken[];
}

function token(children: Children, key: string): IToken | undefined {
  return children[key]?.[0] as IToken | undefined;
}

class TreeBuilder {
  readonly diagnostics: Diagnostic[] = [];
  constructor(private readonly file: SourceFile) {}

  private tokenSpan(t: IToken): Span {
    return span(this.file, t.startOffset, t.startOffset + t.image.length);
  }

  private nodeSpan(cst: CstNode): Span {
    const at = cst.location;
    if (!at || Number.isNaN(at.startOffset) || at.endOffset === undefined || Number.isNaN(at.endOffset)) return span(this.file, 0, 0);
    return span(this.file, at.startOffset, at.endOffset + 1);
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
    for (const match of body.matchAll(/\\(.)/g)) {
      if (match[1] !== '"' && match[1] !== "\\") {
        const at = t.startOffset + 1 + (match.index ?? 0);
        this.diagnostics.push(error("E211", span(this.file, at, at + 2), `unknown escape '\\${match[1]}' in a string`, { hints: ['only \\" and \\\\ are escapes'] }));
      }
    }
    return { kind: "String", value: body.replace(/\\(.)/g, "$1"), terminated, span: this.tokenSpan(t) };
  }

  private addressOrName(cst: CstNode): Name | AddressLiteral | undefined {
    const id = token(cst.children, "Identifier");
    if (id) return this.name(id);
    const address = token(cst.children, "Address");
    return address ? this.address(address) : undefined;
  }

  statement(cst: CstNode): Statement | undefined {
    const c = cst.children;
    const which = node(c, "interfaceDecl") ?? node(c, "limitsDecl") ?? node(c, "endpointDecl") ?? node(c, "rule") ?? node(c, "schedulerDecl");
    if (!which) return undefined;
    switch (which.name) {
      case "interfaceDecl":
        return this.interfaceDecl(which);
      case "limitsDecl":
        return this.limitsDecl(which);
      case "endpointDecl":
        return this.endpointDecl(which);
      case "rule":
        return this.rule(which);
      default:
        return this.schedulerDecl(which);
    }
  }

  private interfaceDecl(cst: CstNode): InterfaceDecl | undefined {
    const id = token(cst.children, "Identifier");
    if (!id) return undefined;
    return {
      kind: "Interface",
      name: this.name(id),
      patterns: tokens(cst.children, "StringLiteral").map((t) => this.string(t)),
      span: this.nodeSpan(cst),
    };
  }

  private limitsDecl(cst: CstNode): LimitsDecl {
    const entries = nodes(cst.children, "limitEntry").flatMap((entry) => {
      const nameToken = token(entry.children, "Identifier") ?? token(entry.children, "kw_subflows");
      const value = token(entry.children, "Number");
      if (!nameToken || !value) return [];
      return [{ kind: "Limit" as const, name: this.name(nameToken), value: this.number(value), span: this.nodeSpan(entry) }];
    });
    return { kind: "Limits", entries, span: this.nodeSpan(cst) };
  }

  private endpointDecl(cst: CstNode): EndpointDecl | undefined {
    const targetNode = node(cst.children, "addressOrName");
    const target = targetNode && this.addressOrName(targetNode);
    if (!target) return undefined;
    const ports = nodes(cst.children, "portOption");
    this.reportRepeats(ports, "port");
    const portToken = ports[0] && token(ports[0].children, "Number");
    return {
      kind: "Endpoint",
      target,
      flags: tokens(cst.children, "flag")
        .sort((a, b) => a.startOffset - b.startOffset)
        .map((t) => this.name(t)),
      port: portToken && this.number(portToken),
      span: this.nodeSpan(cst),
    };
  }

  private rule(cst: CstNode): Rule | undefined {
    const event = token(cst.children, "event");
    if (!event) return undefined;
    const iface = token(cst.children, "iface");
    const conditionNode = node(cst.children, "orExpr");
    const actions = nodes(cst.children, "action").map((a) => this.action(a));
    if (actions.some((a) => a === undefined)) return undefined;
    return {
      kind: "Rule",
      event: this.name(event),
      iface: iface && this.name(iface),
      condition: conditionNode && this.condition(conditionNode),
      actions: actions as Action[],
      span: this.nodeSpan(cst),
    };
  }

  condition(cst: CstNode): Condition {
    switch (cst.name) {
      case "orExpr":
      case "andExpr": {
        const operands = nodes(cst.children, cst.name === "orExpr" ? "andExpr" : "notExpr").map((n) => this.condition(n));
        if (operands.length === 1 && operands[0]) return operands[0];
        return { kind: cst.name === "orExpr" ? "Or" : "And", operands, span: this.nodeSpan(cst) };
      }
      case "notExpr": {
        const primary = node(cst.children, "primary");
        let result: Condition = primary ? this.condition(primary) : this.missing(cst);
        const nots = tokens(cst.children, "kw_not").sort((a, b) => b.startOffset - a.startOffset);
        for (const not of nots) result = { kind: "Not", operand: result, span: span(this.file, not.startOffset, result.span.end) };
        return result;
      }
      case "primary": {
        const inner = node(cst.children, "orExpr") ?? node(cst.children, "predicate");
        return inner ? this.condition(inner) : this.missing(cst);
      }
      default:
        return this.predicate(cst);
    }
  }

  /** Only reached for repaired input, which buildSyntaxTree filters out; kept total anyway. */
  private missing(cst: CstNode): Predicate {
    return { kind: "Flag", name: { kind: "Name", text: "", span: this.nodeSpan(cst) }, span: this.nodeSpan(cst) };
  }

  private predicate(cst: CstNode): Predicate {
    const c = cst.children;
    const whole = this.nodeSpan(cst);
    const ifaceNode = node(c, "ifacePredicate");
    if (ifaceNode) {
      return { kind: "Iface", names: tokens(ifaceNode.children, "Identifier").map((t) => this.name(t)), list: !!token(ifaceNode.children, "kw_in"), span: whole };
    }
    const endpointNode = node(c, "endpointPredicate");
    if (endpointNode) {
      const ec = endpointNode.children;
      const side = token(ec, "side")?.image === "local" ? "local" : "remote";
      if (token(ec, "kw_port")) {
        const op = token(ec, "Comparator");
        const value = token(ec, "Number");
        return {
          kind: "Port",
          side,
          op: (op?.image ?? "==") as Comparison,
          explicitOp: !!op,
          value: value ? this.number(value) : this.number({ image: "NaN", startOffset: whole.end } as IToken),
          span: whole,
        };
      }
      return { kind: "AddressIn", side, prefixes: tokens(ec, "Address").map((t) => this.address(t)), list: !!token(ec, "LParen"), span: whole };
    }
    if (token(c, "kw_family")) return { kind: "Family", value: this.name(token(c, "Identifier") as IToken), span: whole };
    if (token(c, "kw_side")) return { kind: "Side", value: this.name(token(c, "Identifier") as IToken), span: whole };
    if (token(c, "kw_error")) {
      const named = token(c, "errorName");
      const numbered = token(c, "errorNumber");
      return { kind: "Error", value: named ? this.name(named) : this.number(numbered as IToken), span: whole };
    }
    const flag = token(c, "flag");
    if (flag) return { kind: "Flag", name: this.name(flag), span: whole };
    const subject = token(c, "subject") as IToken;
    const op = token(c, "Comparator");
    const value = token(c, "Number");
    if (!op || !value) return { kind: "Flag", name: this.name(subject), span: whole };
    return { kind: "Compare", subject: this.name(subject), op: op.image as Comparison, value: this.number(value), span: whole };
  }

  private action(cst: CstNode): Action | undefined {
    const c = cst.children;
    const afterToken = token(c, "after");
    const after = afterToken && this.number(afterToken);
    const whole = this.nodeSpan(cst);
    const create = node(c, "createAction");
    if (create) return this.createAction(create, after, whole);
    if (token(c, "kw_destroy")) {
      const via = token(c, "via");
      return { kind: "Destroy", via: via && this.name(via), after, span: whole };
    }
    if (token(c, "kw_announce") || token(c, "kw_withdraw")) {
      const targetNode = node(c, "addressOrName");
      const target = targetNode && this.addressOrName(targetNode);
      if (!target) return undefined;
      if (token(c, "kw_withdraw")) return { kind: "Withdraw", target, after, span: whole };
      const portToken = node(c, "portOption") && token((node(c, "portOption") as CstNode).children, "Number");
      return { kind: "Announce", target, port: portToken && this.number(portToken), after, span: whole };
    }
    if (token(c, "kw_set")) {
      const iface = token(c, "setIface");
      const value = token(c, "setValue");
      if (!iface || !value) return undefined;
      return { kind: "Set", iface: this.name(iface), value: value.image === "backup" ? "backup" : "active", after, span: whole };
    }
    const message = token(c, "StringLiteral");
    if (!message) return undefined;
    return { kind: "Log", message: this.string(message), after, span: whole };
  }

  private createAction(cst: CstNode, after: NumberLiteral | undefined, whole: Span): CreateAction {
    const c = cst.children;
    const via = tokens(c, "via");
    const from = tokens(c, "from");
    const to = tokens(c, "to");
    const ports = nodes(c, "portOption");
    const backups = tokens(c, "kw_backup");
    this.reportRepeats(via, "via");
    this.reportRepeats(from, "from");
    this.reportRepeats(to, "to");
    this.reportRepeats(ports, "port");
    this.reportRepeats(backups, "backup");
    const toToken = to[0];
    const portToken = ports[0] && token(ports[0].children, "Number");
    return {
      kind: "Create",
      via: via[0] && this.name(via[0]),
      from: from[0] && this.address(from[0]),
      to: toToken && (toToken.tokenType.name === "Address4" || toToken.tokenType.name === "Address6" ? this.address(toToken) : this.name(toToken)),
      port: portToken && this.number(portToken),
      backup: backups.length > 0,
      after,
      span: whole,
    };
  }

  private reportRepeats(elements: (IToken | CstNode)[], option: string): void {
    for (const repeated of elements.slice(1)) {
      const at = isToken(repeated) ? this.tokenSpan(repeated) : this.nodeSpan(repeated);
      this.diagnostics.push(error("E209", at, `'${option}' given more than once`, { hints: [`keep one '${option}'`] }));
    }
  }

  private schedulerDecl(cst: CstNode): SchedulerDecl | undefined {
    const id = token(cst.children, "Identifier");
    if (!id) return undefined;
    const selector = node(cst.children, "orExpr");
    return {
      kind: "Scheduler",
      name: this.name(id),
      selector: selector && this.condition(selector),
      steps: nodes(cst.children, "step").map((s) => this.step(s)),
      span: this.nodeSpan(cst),
    };
  }

  private step(cst: CstNode): Step {
    const c = cst.children;
    const modeToken = token(c, "mode") as IToken;
    const where = node(c, "whereClause");
    const whereCondition = where && node(where.children, "orExpr");
    const direction = token(c, "direction");
    const metric = token(c, "metric");
    const mode = modeToken.image === "use" ? (token(c, "kw_any") ? "use_any" : "use") : (modeToken.image as "redundant" | "round_robin");
    return {
      kind: "Step",
      mode,
      where: whereCondition && this.condition(whereCondition),
      order:
        direction && metric
          ? {
              kind: "Ordering",
              direction: direction.image === "highest" ? "highest" : "lowest",
              metric: this.name(metric),
              span: span(this.file, direction.startOffset, metric.startOffset + metric.image.length),
            }
          : undefined,
      span: this.nodeSpan(cst),
    };
  }
}

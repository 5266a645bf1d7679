// The log lines about one action: each carries the event, the rule (file:line), the
// action and the token, as a pino child logger would put them, but the fields are
// merged only when a line is written. A child logger per action (pino serialises
// its bindings at creation) cost more than the rest of the action.
import type { SourceRef } from "../../compiler/model.js";
import type { Logger } from "./logger.js";

type Level = "debug" | "info" | "warn";

export class ActionLog {
  constructor(
    private readonly logger: Logger,
    private readonly fields: { readonly event: string; readonly rule: string; readonly action: string; readonly token?: string },
  ) {}

  debug(extra: object, message: string): void {
    this.write("debug", extra, message);
  }

  info(extra: object, message: string): void {
    this.write("info", extra, message);
  }

  warn(extra: object, message: string): void {
    this.write("warn", extra, message);
  }

  private write(level: Level, extra: object, message: string): void {
    if (!this.logger.isLevelEnabled(level)) return;
    this.logger[level]({ ...this.fields, ...extra }, message);
  }
}

const ruleTexts = new WeakMap<SourceRef, string>();

/** `file:line` of a rule or action, made once per source position. */
export function ruleText(at: SourceRef): string {
  let text = ruleTexts.get(at);
  if (text === undefined) {
    text = `${at.file}:${at.line}`;
    ruleTexts.set(at, text);
  }
  return text;
}

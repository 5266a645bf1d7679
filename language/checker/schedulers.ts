// Pass: scheduler blocks. `for` selects connections, `where` filters subflows, `by`
// orders them; at most one scheduler may serve as the default (no `for`).
import { error, warning } from "../diagnostics.js";
import { didYouMean } from "../suggest.js";
import type { SchedulerDecl } from "../syntax-tree.js";
import { METRIC_BY_NAME, METRICS, type ConditionKey } from "../vocabulary.js";
import { checkCondition } from "./conditions.js";
import type { CheckContext } from "./context.js";

const CONNECTION_KEYS: ConditionKey[] = ["local", "remote", "local_port", "remote_port", "family", "side"];
const SUBFLOW_KEYS: ConditionKey[] = [...CONNECTION_KEYS, "iface", "backup", "stale", "subflows", "metric"];

export function checkSchedulers(context: CheckContext): void {
  let defaultScheduler: SchedulerDecl | undefined;
  for (const file of context.files) {
    for (const statement of file.statements) {
      if (statement.kind !== "Scheduler") continue;
      if (statement.selector) {
        checkCondition(context, statement.selector, {
          allowed: new Set(CONNECTION_KEYS),
          where: "in a scheduler's 'for'",
          code: "E502",
          hint: "a scheduler's 'for' selects connections: use addresses, ports, family or side",
        });
      } else if (defaultScheduler) {
        context.report(
          error("E500", statement.name.span, `'${statement.name.text}' and '${defaultScheduler.name.text}' are both default schedulers (no 'for')`, {
            related: [{ span: defaultScheduler.name.span, message: "the first default scheduler" }],
            hints: ["give one of them a 'for CONDITION'"],
          }),
        );
      } else defaultScheduler = statement;
      checkSteps(context, statement);
    }
  }
}

function checkSteps(context: CheckContext, scheduler: SchedulerDecl): void {
  if (scheduler.steps.length === 0) {
    context.report(error("E503", scheduler.name.span, `scheduler '${scheduler.name.text}' has no steps, so it would never send`, { hints: ["add a step such as 'use any'"] }));
    return;
  }
  let catchAll: string | undefined;
  for (const step of scheduler.steps) {
    if (catchAll) {
      context.report(warning("W604", step.span, `this step is never reached: '${catchAll}' before it always finds a subflow when there is one`, { hints: ["remove it, or move it before that step"] }));
    }
    if (step.where) checkCondition(context, step.where, {
        allowed: new Set(SUBFLOW_KEYS),
        where: "in a scheduler step",
        code: "E502",
        hint: "a step tests subflows: iface, backup, active, stale, metrics, subflows, or the connection's addresses, ports, family, side",
      });
    if (step.order && !METRIC_BY_NAME.has(step.order.metric.text)) {
      context.report(
        error("E501", step.order.metric.span, `'${step.order.metric.text}' is not a metric to order by`, {
          hints: [...didYouMean(step.order.metric.text, METRICS.map((m) => m.name)), `metrics: ${METRICS.map((m) => m.name).join(" ")}`],
        }),
      );
    }
    if (!catchAll && !step.where) catchAll = step.mode === "use_any" ? "use any" : step.mode === "use" ? "use" : step.mode;
  }
}

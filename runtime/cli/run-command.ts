// `mptcp-policy run`: the daemon. It refuses to start, with one line and exit 1,
// when it could not work: no CAP_NET_ADMIN, MPTCP off, unsafe or broken policy files.
import type { LevelWithSilent } from "pino";
import { DEFAULT_CONFIG, loadPolicy } from "../daemon/policy-source.js";
import { DEFAULT_STATE_DIR } from "../daemon/saved-state.js";
import { hasNetAdmin, mptcpProblem } from "../daemon/preflight.js";
import type { Logger } from "../daemon/logger.js";
import { parseListenAddress, type ListenAddress } from "../daemon/metrics-server.js";
import type { Command } from "./command.js";
import { UsageError } from "./errors.js";
import { writeErr } from "./output.js";

/** `100ms`, `1s`: 10 ms to 60 s, as milliseconds. */
function parseInterval(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  const ms = match ? Number(match[1]) * (match[2] === "s" ? 1000 : 1) : NaN;
  if (!(ms >= 10 && ms <= 60_000)) throw new UsageError(`${flag} must be a duration from 10ms to 60s, such as 100ms or 1s (got '${text}')`);
  return ms;
}

export const runCommand: Command = {
  name: "run",
  summary: "run the daemon: enforce a policy on this network namespace",
  usage: `Usage: mptcp-policy run [--config PATH] [--dry-run] [--log-level LEVEL] [--insecure-permissions] [--sample-interval D] [--scheduler-interval D] [--metrics ADDR:PORT]

Configures the kernel's MPTCP path manager for the policy in PATH (default
${DEFAULT_CONFIG}), follows the kernel's MPTCP events and the interfaces of the
network namespace it runs in, and carries out the rules. Logs are JSON lines
(pretty on a terminal). SIGHUP or a changed file reloads the policy; a policy with
errors is rejected and the running one stays. SIGTERM/SIGINT restore the path
manager, limits and endpoints found at start, then exit 0.

Options:
  --config PATH            a policy file or directory (default ${DEFAULT_CONFIG})
  --dry-run                decide and log, send nothing to the kernel
  --log-level LEVEL        fatal, error, warn, info (default), debug, trace, silent
  --insecure-permissions   accept policy files not owned by root or writable by others
  --no-watch               reload on SIGHUP only, not when files change
  --state-dir DIR          where the state found at start is kept until it is
                           restored, so a restart after a crash still restores it
                           (default ${DEFAULT_STATE_DIR})
  --sample-interval D      how often subflows are sampled for subflow_stale and
                           subflow_recovered, e.g. 100ms (default), 1s; only
                           while a rule has one of these events
  --scheduler-fallback M   approximate (default): where the kernel lacks the BPF
                           scheduler hook, mark subflows backup or active to
                           approximate the scheduler blocks, from live subflow
                           metrics; off: leave them alone
  --scheduler-interval D   how often the approximation samples the metrics and
                           re-decides, e.g. 500ms (default), 250ms, 2s
  --metrics ADDR:PORT      serve Prometheus metrics on http://ADDR:PORT/metrics
                           (off unless given), e.g. 127.0.0.1:9101, [::1]:9101;
                           see docs/operations.md
  -h, --help               show this help`,
  options: {
    config: { type: "string", default: DEFAULT_CONFIG },
    "dry-run": { type: "boolean", default: false },
    "log-level": { type: "string", default: "info" },
    "insecure-permissions": { type: "boolean", default: false },
    "no-watch": { type: "boolean", default: false },
    "scheduler-fallback": { type: "string", default: "approximate" },
    "state-dir": { type: "string", default: DEFAULT_STATE_DIR },
    "sample-interval": { type: "string", default: "100ms" },
    "scheduler-interval": { type: "string", default: "500ms" },
    metrics: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  async run(values) {
    // Loaded here, not at start-up: other commands never pay for pino and netlink.
    const { Daemon } = await import("../daemon/daemon.js");
    const { createLogger, LOG_LEVELS } = await import("../daemon/logger.js");
    const level = String(values["log-level"]) as LevelWithSilent;
    if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
    const config = String(values["config"]);
    const fallback = values["scheduler-fallback"];
    if (fallback !== "approximate" && fallback !== "off") throw new UsageError("--scheduler-fallback must be 'approximate' or 'off'");
    const sampleIntervalMs = parseInterval(String(values["sample-interval"]), "--sample-interval");
    const schedulerIntervalMs = parseInterval(String(values["scheduler-interval"]), "--scheduler-interval");
    const metricsAt = values["metrics"] === undefined ? undefined : parseListenAddress(String(values["metrics"]));
    if (values["metrics"] !== undefined && !metricsAt)
      throw new UsageError(`--metrics must be ADDR:PORT, such as 127.0.0.1:9101 or [::1]:9101 (got '${String(values["metrics"])}')`);
    const refuse = (reason: string) => {
      writeErr(`mptcp-policy: ${reason}`);
      return 1;
    };
    if (!hasNetAdmin()) return refuse("needs CAP_NET_ADMIN to configure MPTCP: run as root or grant the capability (see examples/mptcp-policy.service)");
    const mptcp = mptcpProblem();
    if (mptcp) return refuse(mptcp);
    const loaded = loadPolicy(config, { insecurePermissions: values["insecure-permissions"] === true });
    if (!loaded.ok) {
      if (loaded.problems.length > 1) for (const problem of loaded.problems.slice(0, -1)) writeErr(problem);
      return refuse(`${loaded.problems[loaded.problems.length - 1] ?? "the policy could not be loaded"}`);
    }
    const logger = createLogger(level, process.stdout);
    for (const warning of loaded.warnings) logger.warn(warning);
    // The listener comes first: a port in use is a refusal to start, before the kernel is touched.
    const metrics = metricsAt ? await startMetrics(metricsAt, logger) : undefined;
    if (typeof metrics === "string") return refuse(metrics);
    // Under systemd (Type=notify): readiness, reload, stop, status and the watchdog.
    const { SystemdNotifier } = await import("../daemon/systemd.js");
    const { combineObservers } = await import("../daemon/metrics-observer.js");
    const systemd = SystemdNotifier.fromEnvironment(config, logger);
    const observer = combineObservers([metrics?.observer, systemd]);
    const daemon = new Daemon(
      {
        config,
        dryRun: values["dry-run"] === true,
        insecurePermissions: values["insecure-permissions"] === true,
        watch: values["no-watch"] !== true,
        schedulerFallback: fallback,
        stateDir: String(values["state-dir"]),
        sampleIntervalMs,
        schedulerIntervalMs,
        ...(observer ? { observer } : {}),
      },
      logger,
    );
    // Signals are handled from the start: a SIGHUP during start-up must not kill the
    // daemon (its default action), and a SIGTERM must still restore what was changed.
    let started = false;
    let stopped: ((status: number) => void) | undefined;
    const done = new Promise<number>((resolve) => (stopped = resolve));
    process.on("SIGHUP", () => {
      if (!started) {
        logger.info("SIGHUP during start-up: the policy just loaded is the current one");
        return;
      }
      systemd?.reloading();
      void daemon.reload("SIGHUP").then((ok) => systemd?.reloaded(ok));
    });
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void daemon.stop(signal).then(() => (metrics?.server.close(), stopped?.(0))));
    try {
      await daemon.start(loaded.model);
    } catch (error) {
      await daemon.stop("start failed");
      metrics?.server.close();
      return refuse(`could not start: ${(error as Error).message}`);
    }
    metrics?.observer.policyLoaded(loaded.files);
    started = true;
    systemd?.ready();
    daemon.watchFiles();
    return done;
  },
};

/** The metrics and their listener, or the one-line reason it could not listen. */
async function startMetrics(at: ListenAddress, logger: Logger) {
  const { DaemonMetrics } = await import("../daemon/metrics.js");
  const { serveMetrics } = await import("../daemon/metrics-server.js");
  const observer = new DaemonMetrics(logger);
  try {
    const server = await serveMetrics(observer.registry, at);
    logger.info({ address: at.host, port: at.port }, "metrics served at /metrics");
    return { observer, server };
  } catch (error) {
    return `--metrics ${at.host.includes(":") ? `[${at.host}]` : at.host}:${at.port}: cannot listen (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
}

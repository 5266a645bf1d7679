// systemd integration of `run` (Type=notify): READY=1 once the daemon follows events,
// RELOADING=1 then READY=1 around a reload, STOPPING=1, STATUS= lines, and WATCHDOG=1
// at half of WATCHDOG_USEC from a timer of the event loop, so a daemon whose loop is
// stuck stops pinging and systemd restarts it. Without $NOTIFY_SOCKET nothing is done.
// The datagrams are sent by a tiny addon (systemd-notify.c): see docs/operations.md.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "./logger.js";
import type { DaemonObserver, DaemonView } from "./metrics-observer.js";

type Send = (socket: string, message: string) => number;

/** STATUS= is refreshed this often when there is no watchdog to ride on. */
const STATUS_INTERVAL_MS = 5000;
/** The test-only hang (docs/operations.md): set in the unit's environment by the lab test, never by default. */
const TEST_HANG_VARIABLE = "MPTCP_POLICY_TEST_HANG_ON_SIGUSR2";

/** The addon next to the bundle (dist/), or next to the sources' dist when run from them. */
function loadSend(): Send | string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "mptcp-policy-notify.node"), join(here, "..", "..", "dist", "mptcp-policy-notify.node")];
  const require = createRequire(import.meta.url);
  for (const path of candidates) {
    try {
      return (require(path) as { notify: Send }).notify;
    } catch {
      // try the next
    }
  }
  return `${candidates[0]} is missing or does not load (build it with 'npm run build:cli'; it needs gcc and Node's headers)`;
}

export class SystemdNotifier implements DaemonObserver {
  private view: DaemonView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;
  /** The last reload was rejected: the status line says so until a policy is loaded. */
  private rejected = false;

  private constructor(
    private readonly socket: string,
    private readonly send: Send,
    private readonly watchdogUs: number | undefined,
    private readonly config: string,
    private readonly logger: Logger,
  ) {}

  /** The notifier systemd asked for ($NOTIFY_SOCKET), or undefined outside systemd. */
  static fromEnvironment(config: string, logger: Logger, env: NodeJS.ProcessEnv = process.env): SystemdNotifier | undefined {
    const socket = env["NOTIFY_SOCKET"];
    if (!socket) return undefined;
    const send = loadSend();
    if (typeof send === "string") {
      logger.error(`cannot notify systemd (NOTIFY_SOCKET is set): ${send}`);
      return undefined;
    }
    // The watchdog is ours only if it names this process (or no process at all).
    const pid = env["WATCHDOG_PID"];
    const usec = Number(env["WATCHDOG_USEC"]);
    const watchdogUs = usec > 0 && (pid === undefined || Number(pid) === process.pid) ? usec : undefined;
    if (env[TEST_HANG_VARIABLE] === "1") armTestHang(logger);
    return new SystemdNotifier(socket, send, watchdogUs, config, logger);
  }

  started(view: DaemonView): void {
    this.view = view;
  }

  /** The daemon follows events: READY=1, then the watchdog and the status line. */
  ready(): void {
    this.notify(`READY=1\nSTATUS=${this.status()}`);
    if (this.timer) return;
    const interval = this.watchdogUs !== undefined ? this.watchdogUs / 2000 : STATUS_INTERVAL_MS;
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
    if (this.watchdogUs !== undefined) this.logger.info({ interval_ms: interval }, "systemd watchdog: pinging from the event loop");
  }

  /** Before a reload asked by SIGHUP (`systemctl reload`). */
  reloading(): void {
    this.notify(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}\nSTATUS=reloading the policy`);
  }

  /** After that reload, whether the new policy was taken or rejected. */
  reloaded(ok: boolean): void {
    this.rejected = !ok;
    this.notify(`READY=1\nSTATUS=${this.status()}`);
  }

  stopped(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.notify("STOPPING=1\nSTATUS=stopping: restoring the kernel's state");
  }

  private tick(): void {
    this.notify(`${this.watchdogUs !== undefined ? "WATCHDOG=1\n" : ""}STATUS=${this.status()}`);
  }

  private status(): string {
    const strategy = this.view?.strategy() ?? "?";
    const connections = this.view?.table.connections.size ?? 0;
    const rules = this.view?.rules() ?? 0;
    const note = this.rejected ? "last reload rejected, the running policy stays: " : "";
    return `${note}policy ${this.config} (${rules} rule${rules === 1 ? "" : "s"}), ${strategy} path manager, ${connections} connection${connections === 1 ? "" : "s"}`;
  }

  private notify(message: string): void {
    const error = this.send(this.socket, message);
    // Said once: a socket that went away must not flood the log at every ping.
    if (error !== 0 && !this.failed) this.logger.warn({ errno: error, socket: this.socket }, "could not notify systemd");
    this.failed = error !== 0;
  }

  event(): void {}
  ruleFired(): void {}
  action(): void {}
  kernelError(): void {}
  resync(): void {}
  policyLoaded(): void {
    this.rejected = false;
  }
  reloadFailed(): void {
    this.rejected = true;
  }
}

/**
 * Test only: with MPTCP_POLICY_TEST_HANG_ON_SIGUSR2=1 in the environment, SIGUSR2
 * blocks the event loop for good (a wait that never ends, no CPU spent), as a bug
 * that never returns would: the watchdog test needs a daemon that really hangs.
 */
function armTestHang(logger: Logger): void {
  process.on("SIGUSR2", () => {
    logger.warn(`SIGUSR2 with ${TEST_HANG_VARIABLE}=1: blocking the event loop (test only)`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  });
}

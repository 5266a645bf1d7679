// The daemon's log: pino JSON lines for journald and machines, pretty lines when a
// person watches a terminal. Every action line carries the rule (file:line) behind it.
import { pino, type Logger, type LevelWithSilent } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function createLogger(level: LevelWithSilent, destination: NodeJS.WritableStream = process.stdout): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  const isTty = (destination as NodeJS.WriteStream).isTTY === true;
  if (isTty) return pino(options, pretty({ colorize: !process.env["NO_COLOR"], sync: true, destination, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l" }));
  const fd = (destination as NodeJS.WriteStream & { fd?: unknown }).fd;
  return pino(options, typeof fd === "number" ? pino.destination({ dest: fd, sync: true }) : destination);
}

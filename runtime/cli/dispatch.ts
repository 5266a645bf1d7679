// Running one command from its arguments, and the exit status of a run: shared by the
// CLI's main entry and the start-up snapshot of `check` (check-snapshot.ts).
import { parseArgs } from "node:util";
import type { Command } from "./command.js";
import { InputError, UsageError } from "./errors.js";
import { writeErr, writeOut } from "./output.js";

/** Parse `args` with the command's options and run it (or print its help). */
export function dispatch(command: Command, args: string[]): number | Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new UsageError(`${command.name}: ${(cause as Error).message.split("\n")[0]}`);
  }
  if (parsed.values["help"] === true) {
    writeOut(command.usage);
    return 0;
  }
  return command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

/** Run, and set the process's exit status: usage and input errors are one line and 2, a bug of ours one line and 70. */
export async function exitWith(run: () => number | Promise<number>): Promise<void> {
  let status: number;
  try {
    status = await run();
  } catch (cause) {
    if (cause instanceof UsageError || cause instanceof InputError) {
      writeErr(`mptcp-policy: ${cause.message}`);
      status = 2;
    } else {
      // A bug of ours: still one line for the user; the stack only on request.
      writeErr(`mptcp-policy: internal error: ${(cause as Error)?.message ?? String(cause)}`);
      if (process.env["MPTCP_POLICY_DEBUG"]) writeErr(String((cause as Error)?.stack));
      status = 70;
    }
  }
  process.exitCode = status;
}

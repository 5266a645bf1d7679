// Pass: `mptcp for CONDITION`. The condition runs when a socket is created, in the
// kernel, before the socket has an address, a peer or subflows: it may test only the
// process creating it (program, unit, cgroup, user) and the socket's family.
import type { CheckContext } from "./context.js";
import { checkCondition } from "./conditions.js";
import { SOCKET_CREATION_CONDITIONS } from "../vocabulary.js";

const PLACE = { allowed: new Set(SOCKET_CREATION_CONDITIONS), where: "in 'mptcp for'", code: "E700" } as const;

export function checkProgramSelections(context: CheckContext): void {
  for (const file of context.files) {
    for (const statement of file.statements) if (statement.kind === "Mptcp") checkCondition(context, statement.condition, PLACE);
  }
}

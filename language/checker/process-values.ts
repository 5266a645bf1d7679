// The values of `program`, `unit`, `cgroup` and `user` tests: each must be something
// a task creating a socket can have, or the selection could never match.
import { error, type Diagnostic } from "../diagnostics.js";
import { parseProgramPattern } from "../program-pattern.js";
import type { ProcessCondition } from "../syntax-tree.js";
import { checkInteger } from "./values.js";

type Report = (d: Diagnostic) => void;

/** Unit types that have a cgroup of their own while they run (systemd.unit(5)). */
export const UNIT_TYPES = ["service", "scope", "slice", "socket", "mount", "swap"] as const;
/** systemd's rule for unit names: these bytes, at most 255 of them (UNIT_NAME_MAX 256). */
const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+$/;
const UNIT_NAME_MAX = 255;
/** PATH_MAX: a longer cgroup path cannot be opened. */
const CGROUP_PATH_MAX = 4095;
/** (uid_t)-1 is "no user" to the kernel; every other 32-bit value is a uid. */
export const UID_MAX = 4_294_967_294;

export function checkProcessValue(p: ProcessCondition, report: Report): void {
  if (p.test === "user") {
    if (p.value.kind === "Number") checkInteger(p.value, "a user id", 0, UID_MAX, report);
    return;
  }
  if (p.value.kind !== "String") return;
  const text = p.value.value;
  const span = p.value.span;
  switch (p.test) {
    case "program": {
      const parsed = parseProgramPattern(text);
      if ("problem" in parsed)
        report(error("E701", span, parsed.problem, { hints: ['a program is its name as `ps -o comm` shows it (at most 15 bytes), with * ? [..] globs, e.g. "curl", "python3*"'] }));
      return;
    }
    case "unit": {
      const problem = unitProblem(text);
      if (problem) report(error("E702", span, problem, { hints: ['a unit is named with its type, e.g. "nginx.service", "user@1000.service", "app.slice"'] }));
      return;
    }
    case "cgroup": {
      const problem = cgroupProblem(text);
      if (problem) report(error("E703", span, problem, { hints: ['a cgroup is a cgroup v2 path from the root of the hierarchy, e.g. "/system.slice/nginx.service"'] }));
      return;
    }
  }
}

function unitProblem(name: string): string | undefined {
  if (name === "") return "a unit name cannot be empty";
  if (name.length > UNIT_NAME_MAX) return `a unit name has at most ${UNIT_NAME_MAX} characters`;
  if (!UNIT_NAME.test(name)) return `'${name}' is not a systemd unit name: it may hold letters, digits and : _ . \\ @ - only`;
  const type = name.slice(name.lastIndexOf(".") + 1);
  if (!name.includes(".") || !(UNIT_TYPES as readonly string[]).includes(type))
    return `'${name}' names no unit type with a cgroup: end it in .${UNIT_TYPES.join(", .")}`;
  return undefined;
}

function cgroupProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return `'${path}' is not a cgroup path: it must start at the root, with '/'`;
  if (path.length > CGROUP_PATH_MAX) return `a cgroup path has at most ${CGROUP_PATH_MAX} characters`;
  if (/[\x00-\x1f\x7f]/.test(path)) return "a cgroup path cannot hold control characters";
  const parts = path.split("/").slice(1);
  if (path !== "/" && parts.some((p) => p === "" || p === "." || p === ".."))
    return `'${path}' is not a plain cgroup path: no empty, '.' or '..' parts, and no '/' at the end`;
  return undefined;
}

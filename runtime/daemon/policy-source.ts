// Where the daemon's policy comes from: a directory (all its *.policy files) or one
// file, read and checked in full before anything is applied. Changes are noticed on
// SIGHUP and by watching the files; a policy with errors never replaces a working one.
import { statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { compilePolicy } from "../../compiler/pipeline.js";
import type { PolicyModel } from "../../compiler/model.js";
import { render, type Diagnostic } from "../../language/diagnostics.js";
import { findPolicies, readPolicyFile } from "../cli/load-policies.js";
import { permissionProblems } from "./preflight.js";

export const DEFAULT_CONFIG = "/etc/mptcp-policy";

export type LoadResult = { readonly ok: true; readonly model: PolicyModel; readonly files: readonly string[]; readonly warnings: readonly string[] } | { readonly ok: false; readonly problems: readonly string[] };

export function loadPolicy(config: string, options: { insecurePermissions: boolean }): LoadResult {
  let files: readonly string[];
  try {
    const groups = findPolicies([config]);
    if (groups.length !== 1) return { ok: false, problems: [`${config}: expected one policy, found ${groups.length} policy directories`] };
    files = groups[0]?.files ?? [];
  } catch (cause) {
    return { ok: false, problems: [(cause as Error).message] };
  }
  if (!options.insecurePermissions) {
    const problems = permissionProblems([...new Set([...files.map((f) => dirname(f)), ...files])]);
    if (problems.length > 0) return { ok: false, problems };
  }
  let result;
  try {
    result = compilePolicy(files.map(readPolicyFile));
  } catch (cause) {
    return { ok: false, problems: [(cause as Error).message] };
  }
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (!result.model || errors.length > 0) return { ok: false, problems: errors.map(oneLine) };
  return { ok: true, model: result.model, files, warnings: result.diagnostics.map(oneLine) };
}

/** A diagnostic as one log line: location, code, message. */
function oneLine(d: Diagnostic): string {
  return render(d).split("\n")[0] ?? d.message;
}

/** Calls `changed` (debounced) when a policy file or the directory changes. */
export function watchPolicy(config: string, changed: () => void, debounceMs = 300): FSWatcher | undefined {
  let timer: NodeJS.Timeout | undefined;
  // Editors replace files by renaming, so a single file is watched through its directory.
  const isDirectory = statSync(config, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const target = isDirectory ? config : dirname(config);
  try {
    const watcher = watch(target, { persistent: false }, (_event, name) => {
      if (!isDirectory && name !== null && name !== basename(config)) return;
      clearTimeout(timer);
      timer = setTimeout(changed, debounceMs);
    });
    watcher.on("error", () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}

// Finding and reading policy files. A file argument is a policy of its own; a
// directory holding *.policy files is one policy made of all of them (like
// /etc/mptcp-policy/); a directory holding none stands for each of its
// subdirectories that does, so `check examples/` checks every bundled example.
import { readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { PolicySource } from "../../compiler/pipeline.js";
import { InputError } from "./errors.js";

/** Larger than any sane policy; refusing it keeps memory bounded. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface PolicyGroup {
  /** The path the user gave, or the directory found under it. */
  readonly origin: string;
  readonly files: readonly string[];
}

export function findPolicies(paths: readonly string[]): PolicyGroup[] {
  return paths.flatMap((path) => {
    const stats = statOrFail(path);
    if (stats.isDirectory()) {
      const groups = directoryPolicies(path);
      if (groups.length === 0) throw new InputError(`${path}: no *.policy files in this directory`);
      return groups;
    }
    return [{ origin: path, files: [path] }];
  });
}

function directoryPolicies(dir: string): PolicyGroup[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  const files = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith(".policy") && !e.name.startsWith("."))
    .map((e) => join(dir, e.name));
  if (files.length > 0) return [{ origin: dir, files }];
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).flatMap((e) => directoryPolicies(join(dir, e.name)));
}

function statOrFail(path: string): Stats {
  try {
    return statSync(path);
  } catch (cause) {
    throw new InputError(`${path}: ${describeFsError(cause)}`);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export function readPolicyFile(path: string): PolicySource {
  let bytes: Buffer;
  try {
    if (statSync(path).size > MAX_FILE_BYTES) throw new InputError(`${path}: larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; not a policy file`);
    bytes = readFileSync(path);
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new InputError(`${path}: ${describeFsError(cause)}`);
  }
  try {
    return { name: path, text: decoder.decode(bytes) };
  } catch {
    throw new InputError(`${path}: not valid UTF-8 (${describeBadByte(bytes)})`);
  }
}

/** Where the first invalid sequence is, as line and column, so the message has a position. */
function describeBadByte(bytes: Buffer): string {
  const text = new TextDecoder("utf-8").decode(bytes);
  const bad = text.indexOf("\uFFFD");
  const lines = text.slice(0, Math.max(0, bad)).split("\n");
  return `invalid byte sequence at line ${lines.length}, column ${(lines[lines.length - 1]?.length ?? 0) + 1}`;
}

export function describeFsError(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "EROFS":
      return "read-only file system";
    case "ENOSPC":
      return "no space left on device";
    default:
      return code ?? String(cause);
  }
}

// What the daemon found at start, kept on disk until it has put it back: after a
// crash or `kill -9` the next start restores the state from before the first run,
// not the state the dead daemon left. One file per network namespace.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SavedState } from "./kernel-setup.js";

export const DEFAULT_STATE_DIR = "/run/mptcp-policy";

export class SavedStateFile {
  readonly path: string;

  constructor(dir: string = DEFAULT_STATE_DIR) {
    // The namespace's inode number names it for as long as it exists.
    const netns = statSync("/proc/self/ns/net").ino;
    this.path = join(dir, `saved-state-netns-${netns}.json`);
  }

  /** The state a previous run saved and did not restore, if any. */
  read(): SavedState | undefined {
    try {
      return JSON.parse(readFileSync(this.path, "utf8")) as SavedState;
    } catch {
      return undefined;
    }
  }

  write(state: SavedState): void {
    mkdirSync(join(this.path, ".."), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, JSON.stringify(state), { mode: 0o600 });
    renameSync(temporary, this.path);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

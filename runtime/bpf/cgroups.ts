// Cgroups as the socket hook names them: the id of a cgroup v2 (the inode number of
// its directory, which is the kernel's cgroup id on 64-bit kernels) and its depth
// below the root, for bpf_get_current_ancestor_cgroup_id(). A systemd unit's cgroup is
// the directory named after the unit; it is found by walking the tree, so no command
// (systemctl) ever gets a name from a policy.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CgroupRef } from "../../compiler/programs/layout.js";

export interface FoundCgroup {
  /** The path from the hierarchy's root, as /proc/PID/cgroup shows it. */
  readonly path: string;
  readonly id: bigint;
  readonly level: number;
}

export type CgroupLookup = { readonly found: FoundCgroup } | { readonly missing: string };

/** Most directories looked at for one unit: a busy host has a few thousand cgroups. */
const WALK_LIMIT = 20_000;

/** Where the cgroup v2 hierarchy is mounted (usually /sys/fs/cgroup), from mountinfo. */
export function cgroup2Mount(mountinfo = "/proc/self/mountinfo"): string | undefined {
  let text: string;
  try {
    text = readFileSync(mountinfo, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER
    const [before, after] = line.split(" - ");
    if (!before || !after || after.split(" ")[0] !== "cgroup2") continue;
    const mountPoint = before.split(" ")[4];
    if (mountPoint) return mountPoint.replace(/\\040/g, " ");
  }
  return undefined;
}

/**
 * Run `lookup` on the cgroup v2 hierarchy. Where this mount namespace has none mounted
 * (`ip netns exec` remounts /sys, and /sys/fs/cgroup with it), it is mounted on a
 * private directory for the lookup and unmounted after: cgroup ids are the kernel's,
 * the same through any mount.
 */
export function withCgroup2Root<T>(lookup: (root: string | undefined) => T): T {
  const mounted = cgroup2Mount();
  if (mounted !== undefined) return lookup(mounted);
  const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-cgroup2-"));
  try {
    const mount = spawnSync("mount", ["-t", "cgroup2", "cgroup2", dir], { stdio: "ignore" });
    if (mount.status !== 0) return lookup(undefined);
    try {
      return lookup(dir);
    } finally {
      spawnSync("umount", [dir], { stdio: "ignore" });
    }
  } finally {
    try {
      rmdirSync(dir);
    } catch {
      // Still a mount point if umount failed: leave the empty directory rather than guess.
    }
  }
}

export function findCgroup(ref: CgroupRef, root = cgroup2Mount()): CgroupLookup {
  if (root === undefined) return { missing: "no cgroup v2 hierarchy is mounted" };
  if (ref.kind === "cgroup") return byPath(root, ref.path);
  const path = unitPath(root, ref.name);
  return path === undefined ? { missing: `unit ${ref.name} has no cgroup (is it running?)` } : byPath(root, path);
}

function byPath(root: string, path: string): CgroupLookup {
  try {
    const stat = statSync(join(root, path), { bigint: true });
    if (!stat.isDirectory()) return { missing: `${path} is not a cgroup` };
    const level = path === "/" ? 0 : path.split("/").length - 1;
    return { found: { path, id: stat.ino, level } };
  } catch {
    return { missing: `cgroup ${path} does not exist` };
  }
}

/** The shallowest directory named after the unit (the system manager's before a user's). */
function unitPath(root: string, unit: string): string | undefined {
  let level = ["/"];
  let seen = 0;
  while (level.length > 0 && seen < WALK_LIMIT) {
    const next: string[] = [];
    for (const dir of level) {
      let entries;
      try {
        entries = readdirSync(join(root, dir), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const path = dir === "/" ? `/${e.name}` : `${dir}/${e.name}`;
        if (e.name === unit) return path;
        next.push(path);
        seen += 1;
      }
    }
    level = next;
  }
  return undefined;
}

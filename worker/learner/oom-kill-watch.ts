// Tells whether the kernel's out-of-memory killer killed a process, from the `oom_kill` counter of the
// memory cgroup it ran in (cgroup v2 `memory.events`, v1 `memory.oom_control`). In a container with a
// memory limit that is how a learner that outgrows its memory dies: a bare SIGKILL, no error of its
// own. The cgroup and its counter are read when a request starts (the process may have been moved
// since it was spawned); without a cgroup memory controller the watch knows nothing and the crash
// stays a crash.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface OomKill {
  /** The memory cgroup's directory. */
  cgroup: string;
  /** Its memory limit, or null when it has none. */
  limitBytes: number | null;
}

interface Noted {
  dir: string;
  version: 1 | 2;
  kills: number;
}

export interface CgroupRoots {
  proc: string;
  sys: string;
}

const SYSTEM: CgroupRoots = { proc: "/proc", sys: "/sys/fs/cgroup" };

function read(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** The memory cgroup directory of a process (v1 memory controller first, as hybrid systems mount it). */
export function memoryCgroupOf(pid: number, roots: CgroupRoots = SYSTEM): { dir: string; version: 1 | 2 } | null {
  const table = read(path.join(roots.proc, String(pid), "cgroup"));
  if (!table) return null;
  const entries = table
    .trim()
    .split("\n")
    .map((line) => {
      const [id, controllers, ...rest] = line.split(":");
      return { id, controllers: controllers?.split(",") ?? [], path: rest.join(":") };
    });
  const v1 = entries.find((e) => e.controllers.includes("memory"));
  if (v1) {
    const dir = path.join(roots.sys, "memory", v1.path);
    if (existsSync(path.join(dir, "memory.oom_control"))) return { dir, version: 1 };
  }
  const v2 = entries.find((e) => e.id === "0" && e.controllers.length === 1 && e.controllers[0] === "");
  if (v2) {
    for (const base of [roots.sys, path.join(roots.sys, "unified")]) {
      const dir = path.join(base, v2.path);
      if (existsSync(path.join(dir, "memory.events"))) return { dir, version: 2 };
    }
  }
  return null;
}

function oomKills(dir: string, version: 1 | 2): number | null {
  const text = read(path.join(dir, version === 1 ? "memory.oom_control" : "memory.events"));
  const match = text?.match(/^oom_kill (\d+)$/m);
  return match ? Number(match[1]) : null;
}

function limitOf(dir: string, version: 1 | 2): number | null {
  const text = read(path.join(dir, version === 1 ? "memory.limit_in_bytes" : "memory.max"))?.trim();
  if (!text || text === "max") return null;
  const bytes = Number(text);
  // v1 writes "no limit" as the largest page-aligned 64-bit value.
  return Number.isFinite(bytes) && bytes < 2 ** 62 ? bytes : null;
}

export class OomKillWatch {
  private noted: Noted | null = null;

  constructor(
    private readonly pid: number,
    private readonly roots: CgroupRoots = SYSTEM,
  ) {}

  /** Remember the process's cgroup and its OOM-kill count now (call while the process is alive). */
  note(): void {
    const cgroup = memoryCgroupOf(this.pid, this.roots);
    const kills = cgroup ? oomKills(cgroup.dir, cgroup.version) : null;
    if (cgroup && kills !== null) this.noted = { ...cgroup, kills };
  }

  /** The OOM kill in the noted cgroup since the last note, if there was one. */
  killSinceNote(): OomKill | null {
    if (!this.noted) return null;
    const kills = oomKills(this.noted.dir, this.noted.version);
    if (kills === null || kills <= this.noted.kills) return null;
    return { cgroup: this.noted.dir, limitBytes: limitOf(this.noted.dir, this.noted.version) };
  }
}

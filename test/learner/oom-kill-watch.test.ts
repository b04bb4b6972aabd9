// OomKillWatch reads a process's memory cgroup from /proc/<pid>/cgroup and the cgroup's oom_kill
// counter. The layouts below are the ones Linux ships: cgroup v1 (a memory controller line), v2
// (one "0::" line, unified hierarchy at the root), and hybrid (v2 mounted at /sys/fs/cgroup/unified
// while memory stays on v1). The real kernel path is measured by `npm run bench -- learner-oom`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { memoryCgroupOf, OomKillWatch } from "../../worker/learner/oom-kill-watch.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function fakeSystem(procCgroup: string, files: Record<string, string>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-cgroup-"));
  dirs.push(root);
  const roots = { proc: path.join(root, "proc"), sys: path.join(root, "sys") };
  fs.mkdirSync(path.join(roots.proc, "42"), { recursive: true });
  fs.writeFileSync(path.join(roots.proc, "42", "cgroup"), procCgroup);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(roots.sys, file)), { recursive: true });
    fs.writeFileSync(path.join(roots.sys, file), text);
  }
  const write = (file: string, text: string) => fs.writeFileSync(path.join(roots.sys, file), text);
  return { roots, write };
}

describe("OomKillWatch", () => {
  it("cgroup v2: notices an OOM kill from memory.events and reports the limit", () => {
    const { roots, write } = fakeSystem("0::/jobs/learner\n", {
      "jobs/learner/memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n",
      "jobs/learner/memory.max": "419430400\n",
    });
    expect(memoryCgroupOf(42, roots)).toEqual({ dir: path.join(roots.sys, "jobs/learner"), version: 2 });
    const watch = new OomKillWatch(42, roots);
    watch.note();
    expect(watch.killSinceNote()).toBeNull();
    write("jobs/learner/memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n");
    expect(watch.killSinceNote()).toEqual({ cgroup: path.join(roots.sys, "jobs/learner"), limitBytes: 419430400 });
    write("jobs/learner/memory.max", "max\n");
    expect(watch.killSinceNote()?.limitBytes).toBeNull();
  });

  it("cgroup v1 and hybrid systems: the memory controller's memory.oom_control", () => {
    const { roots, write } = fakeSystem("9:name=systemd:/\n4:memory:/docker/abc\n0::/\n", {
      "memory/docker/abc/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n",
      "memory/docker/abc/memory.limit_in_bytes": "9223372036854771712\n",
      "unified/memory.events": "oom_kill 0\n",
    });
    expect(memoryCgroupOf(42, roots)?.version).toBe(1);
    const watch = new OomKillWatch(42, roots);
    watch.note();
    write("memory/docker/abc/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n");
    // v1's "no limit" is the largest page-aligned 64-bit value.
    expect(watch.killSinceNote()).toEqual({ cgroup: path.join(roots.sys, "memory/docker/abc"), limitBytes: null });
  });

  it("knows nothing without a memory controller or a /proc entry", () => {
    const { roots } = fakeSystem("0::/\n", {});
    expect(memoryCgroupOf(42, roots)).toBeNull();
    expect(memoryCgroupOf(43, roots)).toBeNull();
    const watch = new OomKillWatch(43, roots);
    watch.note();
    expect(watch.killSinceNote()).toBeNull();
  });
});

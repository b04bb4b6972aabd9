// CPU time spent by this process and by the Postgres cluster behind a connection. On a shared,
// busy machine wall-clock throughput swings with other people's load; CPU seconds per unit of work
// do not, so the benchmarks report both.
import { readFileSync, readdirSync } from "node:fs";
import type pg from "pg";

const TICKS_PER_S = 100; // USER_HZ on Linux

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from #3 (state) on
  } catch {
    return null;
  }
}

/**
 * Postgres CPU seconds (user + system) of the postmaster and every process it started, including
 * backends that have exited since (their time moves into the postmaster's cutime/cstime).
 */
function clusterCpuSeconds(postmaster: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const f = statFields(pid);
    if (!f) continue;
    // f[1] = ppid, f[11..14] = utime, stime, cutime, cstime (fields 4 and 14-17 of /proc/pid/stat)
    if (pid === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    else if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS_PER_S;
}

export interface CpuMeter {
  /**
   * Since the meter was made: CPU seconds of this Node process and of the Postgres cluster, and
   * the seconds this process's main thread was ready to run but waited for a CPU (other
   * processes, ours or not, had them): a measure of how contended the machine was.
   */
  read(): { node_s: number; postgres_s: number; node_waited_s: number };
}

/** Seconds the main thread has waited, runnable, for a CPU (schedstat field 2), or NaN. */
function mainThreadWaitSeconds(): number {
  try {
    return Number(readFileSync("/proc/self/schedstat", "utf8").split(" ")[1]) / 1e9;
  } catch {
    return Number.NaN;
  }
}

/** Null where /proc is unreadable (not Linux, or Postgres runs elsewhere). */
export async function cpuMeter(pool: pg.Pool): Promise<(() => CpuMeter) | null> {
  const backend = (await pool.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
  const f = statFields(backend);
  if (!f) return null;
  const postmaster = Number(f[1]);
  return () => {
    const node0 = process.cpuUsage();
    const pg0 = clusterCpuSeconds(postmaster);
    const wait0 = mainThreadWaitSeconds();
    return {
      read: () => {
        const node = process.cpuUsage(node0);
        return {
          node_s: (node.user + node.system) / 1e6,
          postgres_s: clusterCpuSeconds(postmaster) - pg0,
          node_waited_s: mainThreadWaitSeconds() - wait0,
        };
      },
    };
  };
}

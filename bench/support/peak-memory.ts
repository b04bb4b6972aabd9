// Peak memory of processes while a benchmark runs: resident memory from /proc (VmHWM, the kernel's own
// high-water mark, so nothing between samples is missed) and, on an NVIDIA GPU, device memory per
// process sampled from nvidia-smi every `intervalMs` (a peak between two samples can be missed).
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Whether nvidia-smi lists at least one GPU; the reason when it does not. */
export function nvidiaGpu(): { present: true; name: string } | { present: false; reason: string } {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { encoding: "utf8", timeout: 10_000 }).trim();
    return out ? { present: true, name: out.split("\n")[0] } : { present: false, reason: "nvidia-smi lists no GPU" };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      present: false,
      reason: code === "ENOENT" ? "no nvidia-smi on PATH (no NVIDIA driver)" : `nvidia-smi failed: ${(error as Error).message}`,
    };
  }
}

/** The kernel's peak resident set of a live process, in MiB (null once it has exited). */
export function peakRssMib(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmHWM:"));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export class GpuMemorySampler {
  private readonly peaks = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;

  constructor(private readonly intervalMs = 250) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  private async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const { stdout } = await run("nvidia-smi", ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"], { timeout: 5_000 });
      for (const line of stdout.trim().split("\n")) {
        const [pid, mib] = line.split(",").map((x) => Number(x.trim()));
        if (Number.isFinite(pid) && Number.isFinite(mib)) this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, mib));
      }
    } catch {
      // a missed sample; the next one comes in intervalMs
    } finally {
      this.sampling = false;
    }
  }

  /** Peak device memory of `pid` in MiB seen so far (0 if it never held any). */
  peakMib(pid: number | undefined): number {
    return pid === undefined ? 0 : (this.peaks.get(pid) ?? 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sample();
  }
}

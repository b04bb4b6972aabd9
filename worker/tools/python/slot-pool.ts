// A fixed number of sandbox slots handed out first come, first served. Each slot owns a uid, so
// concurrent sandboxes never share a per-uid kernel budget.

export class SlotAbortedError extends Error {
  override name = "SlotAbortedError";
}

export class SlotPool {
  private readonly free: number[];
  private readonly waiters: Array<(slot: number) => void> = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slot count must be a positive integer, got ${size}`);
    this.free = Array.from({ length: size }, (_, slot) => slot);
  }

  get available(): number {
    return this.free.length;
  }

  /** Resolves with a slot index; rejects with SlotAbortedError if `signal` fires while waiting. */
  acquire(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return Promise.reject(new SlotAbortedError("aborted before a sandbox slot was free"));
    const slot = this.free.shift();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new SlotAbortedError("aborted while waiting for a sandbox slot"));
      };
      const grant = (granted: number) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(granted);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  release(slot: number): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}

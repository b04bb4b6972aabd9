// Run progress (step, stage, shots) is a latest value, not a stream: only the newest report matters,
// and an older one must never land after a newer one. Reports were sent independently, each retried on
// its own, so one retried through a server restart could arrive after the later ones and leave the run
// at an old step for good. Here one report is in flight at a time; whatever comes meanwhile replaces
// the waiting one, and `flush` resolves once the newest has been delivered (or given up on).
import type { RunProgressInput } from "../../client-sdk/src/index.js";

export class ProgressReporter {
  private waiting: RunProgressInput | null = null;
  private sending: Promise<void> | null = null;

  constructor(
    private readonly send: (progress: RunProgressInput) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  report(progress: RunProgressInput): void {
    this.waiting = progress;
    this.sending ??= this.drain();
  }

  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting) {
        const next = this.waiting;
        this.waiting = null;
        await this.send(next).catch(this.onError);
      }
    } finally {
      this.sending = null;
    }
  }
}

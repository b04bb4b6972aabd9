// A one-waiter wake-up call: notify() ends the current (or next) wait(), so a notify that comes
// before the wait is not lost. Used to cut short an idle poll or a batch's linger.
export class Wakeup {
  private pending = false;
  private resolver: (() => void) | null = null;

  notify(): void {
    if (this.resolver) {
      const resolve = this.resolver;
      this.resolver = null;
      resolve();
    } else this.pending = true;
  }

  /** Resolves on notify() or after `ms` (never times out without `ms`). */
  wait(ms?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        if (timer) clearTimeout(timer);
        if (this.resolver === done) this.resolver = null;
        resolve();
      };
      const timer = ms === undefined ? null : setTimeout(done, ms);
      this.resolver = done;
    });
  }
}

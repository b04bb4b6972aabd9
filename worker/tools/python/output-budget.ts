// One byte budget shared by stdout and stderr: whatever a run prints, at most `limit` bytes are kept.

export class OutputBudget {
  private used = 0;
  readonly stdout: Buffer[] = [];
  readonly stderr: Buffer[] = [];
  constructor(private readonly limit: number) {}

  /** Keeps what fits of `chunk`; returns false once the budget is exceeded. */
  add(target: Buffer[], chunk: Buffer): boolean {
    const room = this.limit - this.used;
    if (chunk.length <= room) {
      target.push(chunk);
      this.used += chunk.length;
      return true;
    }
    if (room > 0) target.push(chunk.subarray(0, room));
    this.used = this.limit;
    return false;
  }

  text(): { stdout: string; stderr: string } {
    return { stdout: Buffer.concat(this.stdout).toString("utf8"), stderr: Buffer.concat(this.stderr).toString("utf8") };
  }
}

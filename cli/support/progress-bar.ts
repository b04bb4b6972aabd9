// A progress bar drawn by hand (no dependency): redrawn in place on a terminal, a few plain lines
// (every 25%) otherwise, so logs of piped runs stay readable.
export function bar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.floor(ratio * width);
  const partial = ratio * width - full;
  const eighths = " ▏▎▍▌▋▊▉";
  const tail = full < width ? eighths[Math.floor(partial * 8)] : "";
  return `[${"█".repeat(full)}${tail}${" ".repeat(Math.max(0, width - full - tail.length))}] ${Math.floor(ratio * 100)
    .toString()
    .padStart(3)}%`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export class ProgressBar {
  private lastDraw = 0;
  private lastQuarter = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly format: (n: number) => string = formatBytes,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, force = false): void {
    const line = `${this.label} ${bar(done, this.total)} ${this.format(done)} / ${this.format(this.total)}`;
    if (this.tty) {
      const now = Date.now();
      if (!force && now - this.lastDraw < 80) return;
      this.lastDraw = now;
      this.stream.write(`\r\u001b[2K${line}`);
      return;
    }
    const quarter = this.total > 0 ? Math.floor((done / this.total) * 4) : 4;
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.stream.write(line + "\n");
    }
  }

  finish(done = this.total): void {
    this.update(done, true);
    if (this.tty) this.stream.write("\n");
  }
}

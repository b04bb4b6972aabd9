// An on-disk FIFO of JSON lines: the tail of an outbox stream once memory is full. Writes are
// synchronous (an enqueue must not wait), reads come back in the order written, and the file is
// truncated whenever it has been read to the end so a long outage does not leave a growing file.
import fs from "node:fs";

const CHUNK = 64 * 1024;

export class SpillFile {
  private fd: number;
  private writeOffset = 0;
  private readOffset = 0;
  private unread = 0;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, "w+", 0o600);
  }

  /** Lines written and not read yet. */
  get count(): number {
    return this.unread;
  }

  get bytesOnDisk(): number {
    return this.writeOffset - this.readOffset;
  }

  /** Append one line (it must not contain a newline: JSON.stringify output never does). */
  append(line: string): void {
    const data = Buffer.from(line + "\n", "utf8");
    let written = 0;
    while (written < data.length) written += fs.writeSync(this.fd, data, written, data.length - written, this.writeOffset + written);
    this.writeOffset += data.length;
    this.unread++;
  }

  /** Up to `maxLines` lines (stopping early once `maxBytes` is reached), oldest first. */
  read(maxLines: number, maxBytes = Number.POSITIVE_INFINITY): string[] {
    const lines: string[] = [];
    let bytes = 0;
    let partial: Buffer[] = [];
    let position = this.readOffset;
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (lines.length < maxLines && bytes < maxBytes && position < this.writeOffset) {
      const n = fs.readSync(this.fd, buffer, 0, Math.min(CHUNK, this.writeOffset - position), position);
      let start = 0;
      for (let i = 0; i < n && lines.length < maxLines && bytes < maxBytes; i++) {
        if (buffer[i] !== 0x0a) continue;
        const piece = Buffer.concat([...partial, buffer.subarray(start, i)]);
        partial = [];
        lines.push(piece.toString("utf8"));
        bytes += piece.length + 1;
        this.readOffset += piece.length + 1;
        start = i + 1;
      }
      if (lines.length >= maxLines || bytes >= maxBytes) break;
      partial.push(Buffer.from(buffer.subarray(start, n)));
      position += n;
    }
    this.unread -= lines.length;
    if (this.unread === 0) this.reset();
    return lines;
  }

  private reset(): void {
    fs.ftruncateSync(this.fd, 0);
    this.readOffset = 0;
    this.writeOffset = 0;
  }

  /** Close and delete the file (whatever it still holds is dropped). */
  remove(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
    fs.rmSync(this.path, { force: true });
  }
}

// Writes a GGUF whose tensors are produced while it is written: the header first (tensor offsets follow
// from dims and types), then each tensor in blocks of a few megabytes straight to the file descriptor.
// Memory stays at one block whatever the model's size. Written to a temp file and renamed, like
// gguf/writer.ts, so a reader never sees half a model.
import fs from "node:fs";
import { ggmlTypeTraits } from "../gguf/ggml-types.js";
import type { EncodedGgufHeader, GgufTensorHeader } from "../gguf/writer.js";
import type { WeightStream } from "./seeded-weights.js";

export interface StreamedTensor extends GgufTensorHeader {
  /** Called once, when the writer reaches this tensor. */
  open(): WeightStream;
}

/** 8 MiB: large enough that each write is cheap, small enough to stay in cache-friendly territory. */
export const DEFAULT_BLOCK_BYTES = 8 << 20;

function writeAll(fd: number, buffer: Uint8Array, length: number): void {
  let done = 0;
  while (done < length) done += fs.writeSync(fd, buffer, done, length - done);
}

/** Write the file (header from encodeGgufHeader over the same tensors) atomically; returns its size in bytes. */
export function writeStreamedGguf(path: string, encoded: EncodedGgufHeader, tensors: StreamedTensor[], blockBytes = DEFAULT_BLOCK_BYTES): number {
  const { header, layout, dataBytes } = encoded;
  if (layout.length !== tensors.length) throw new Error("the header describes other tensors than those to write");
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = fs.openSync(tmp, "w");
  try {
    writeAll(fd, header, header.length);
    const block = new Uint8Array(blockBytes);
    let written = 0;
    tensors.forEach((t, i) => {
      const traits = ggmlTypeTraits(t.type)!;
      // Whole ggml blocks and an even count of values per write (seeded-weights.ts draws values in pairs).
      const unit = traits.blockSize % 2 === 0 ? traits.blockSize : 2 * traits.blockSize;
      const valuesPerWrite = Math.max(unit, Math.floor(blockBytes / ((traits.typeSize * unit) / traits.blockSize) / unit) * unit);
      const stream = t.open();
      let remaining = t.dims.reduce((a, b) => a * b, 1);
      const target = layout[i].offset;
      if (written < target) {
        block.fill(0, 0, target - written);
        writeAll(fd, block, target - written);
        written = target;
      }
      while (remaining > 0) {
        const n = Math.min(remaining, valuesPerWrite);
        const bytes = (n / traits.blockSize) * traits.typeSize;
        const out = bytes <= block.length ? block : new Uint8Array(bytes);
        stream.fill(out, n);
        writeAll(fd, out, bytes);
        written += bytes;
        remaining -= n;
      }
    });
    if (written < dataBytes) {
      block.fill(0, 0, dataBytes - written);
      writeAll(fd, block, dataBytes - written);
    }
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, path);
  return header.length + dataBytes;
}

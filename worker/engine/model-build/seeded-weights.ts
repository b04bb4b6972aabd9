// Fast seeded random weights, generated straight into a tensor's storage type block by block, so a
// multi-gigabyte model is written at disk speed without ever existing as float32 in memory.
//
// Each value is a lookup in a 65,536-entry table of N(0, std) quantiles already encoded in the storage
// type (F32/F16/BF16 bits, or Q8_0 quants), indexed by 16 bits of an xorshift32 stream: one shift-xor
// triple per two values instead of a Box-Muller per float. The distribution is a normal discretised to
// 65,536 levels, which is all random test weights need. Same seed and tensor index => same bytes, no
// matter how the writer splits the tensor (chunks hold an even number of values and whole blocks).
import os from "node:os";
import { floatToBf16, floatToHalf } from "../gguf/encode.js";
import { GgmlType } from "../gguf/ggml-types.js";

export type WeightInit = { std: number } | { constant: number };

/** Produces a tensor's data in order: each call writes the next `elements` values' bytes at out[0..]. */
export interface WeightStream {
  fill(out: Uint8Array, elements: number): void;
}

/** Q8_0 quants are N(0, Q8_STD), clipped to ±127, with the block scale d = std / Q8_STD. */
const Q8_STD = 127 / 3;
const TABLE_SIZE = 65_536;

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

let standardNormal: Float64Array | undefined;
function quantiles(): Float64Array {
  if (!standardNormal) {
    standardNormal = new Float64Array(TABLE_SIZE);
    for (let i = 0; i < TABLE_SIZE; i++) standardNormal[i] = normalQuantile((i + 0.5) / TABLE_SIZE);
  }
  return standardNormal;
}

function encodedTable(type: number, std: number): Uint16Array | Uint32Array | Uint8Array {
  const z = quantiles();
  switch (type) {
    case GgmlType.F32: {
      const t = new Float32Array(TABLE_SIZE);
      for (let i = 0; i < TABLE_SIZE; i++) t[i] = z[i] * std;
      return new Uint32Array(t.buffer);
    }
    case GgmlType.F16:
    case GgmlType.BF16: {
      const encode = type === GgmlType.F16 ? floatToHalf : floatToBf16;
      const t = new Uint16Array(TABLE_SIZE);
      for (let i = 0; i < TABLE_SIZE; i++) t[i] = encode(z[i] * std);
      return t;
    }
    case GgmlType.Q8_0: {
      // Two quants per 16-bit index, each from 8 bits: int8 has only 255 levels anyway.
      const q = new Uint8Array(256);
      for (let i = 0; i < 256; i++) q[i] = Math.max(-127, Math.min(127, Math.round(normalQuantile((i + 0.5) / 256) * Q8_STD))) & 0xff;
      const t = new Uint16Array(TABLE_SIZE);
      for (let i = 0; i < TABLE_SIZE; i++) t[i] = q[i & 0xff] | (q[i >>> 8] << 8);
      return t;
    }
    default:
      throw new Error(`no random weights for ggml type ${type}`);
  }
}

/** splitmix32 of (seed, index): a well-mixed, non-zero xorshift32 start state per tensor. */
function initialState(seed: number, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b9) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 0x6d2b79f5 : z;
}

function constantStream(type: number, value: number): WeightStream {
  if (type !== GgmlType.F32) throw new Error("constant tensors are stored as F32");
  return {
    fill(out, elements) {
      new Float32Array(out.buffer, out.byteOffset, elements).fill(value);
    },
  };
}

/** The data of tensor number `index` of a model written with `seed`. */
export function weightStream(type: number, init: WeightInit, seed: number, index: number): WeightStream {
  // Values are stored through typed arrays, which use the machine's byte order; GGUF is little-endian.
  if (os.endianness() !== "LE") throw new Error("writing random weights needs a little-endian machine");
  if ("constant" in init) return constantStream(type, init.constant);
  let x = initialState(seed, index) | 0;
  if (type === GgmlType.Q8_0) {
    const quantPairs = encodedTable(type, init.std) as Uint16Array;
    const scale = floatToHalf(init.std / Q8_STD);
    return {
      fill(out, elements) {
        // A block is 34 bytes (F16 scale + 32 quants), so every block and its quants start 2-aligned.
        const words = new Uint16Array(out.buffer, out.byteOffset, (elements / 32) * 17);
        let o = 0;
        for (let block = 0; block < elements / 32; block++) {
          words[o++] = scale;
          for (let i = 0; i < 8; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            words[o] = quantPairs[x & 0xffff];
            words[o + 1] = quantPairs[x >>> 16];
            o += 2;
          }
        }
      },
    };
  }
  const table = encodedTable(type, init.std);
  if (type === GgmlType.F32) {
    const t = table as Uint32Array;
    return {
      fill(out, elements) {
        const values = new Uint32Array(out.buffer, out.byteOffset, elements);
        for (let i = 0; i < elements; i += 2) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          values[i] = t[x & 0xffff];
          if (i + 1 < elements) values[i + 1] = t[x >>> 16];
        }
      },
    };
  }
  const t = table as Uint16Array;
  return {
    fill(out, elements) {
      // Two 16-bit values per 32-bit store (little-endian: the first value in the low half).
      const pairs = new Uint32Array(out.buffer, out.byteOffset, elements >>> 1);
      for (let i = 0; i < pairs.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        pairs[i] = t[x & 0xffff] | (t[x >>> 16] << 16);
      }
      if (elements & 1) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        new Uint16Array(out.buffer, out.byteOffset, elements)[elements - 1] = t[x & 0xffff];
      }
    },
  };
}

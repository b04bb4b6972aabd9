// Float32 -> ggml storage types, rounding exactly as ggml's reference converters do, so a model written
// here holds the same bytes llama.cpp's own tools (and the learner's PyTorch writer) would produce.
import { GgmlType } from "./ggml-types.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function floatToHalf(f: number): number {
  // Round-to-nearest-even conversion through the float32 bit pattern.
  f32[0] = f;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function floatToBf16(f: number): number {
  f32[0] = f;
  const x = u32[0];
  // NaN stays a (quiet) NaN instead of rounding into infinity.
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 64) & 0xffff;
  return ((x + (0x7fff + ((x >>> 16) & 1))) >>> 16) & 0xffff;
}

const Q8_BLOCK = 32;

/** ggml's reference Q8_0: per block of 32, d = amax / 127 (stored F16), q = round-half-away(x / d) in float32. */
function encodeQ8_0(data: Float32Array, out: Buffer): void {
  for (let b = 0; b < data.length / Q8_BLOCK; b++) {
    let amax = 0;
    for (let i = 0; i < Q8_BLOCK; i++) amax = Math.max(amax, Math.abs(data[b * Q8_BLOCK + i]));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const at = b * (Q8_BLOCK + 2);
    out.writeUInt16LE(floatToHalf(d), at);
    for (let i = 0; i < Q8_BLOCK; i++) {
      const x = Math.fround(data[b * Q8_BLOCK + i] * id);
      out.writeInt8(Math.sign(x) * Math.floor(Math.abs(x) + 0.5), at + 2 + i);
    }
  }
}

/** Fill `out` (already sized for the type) with `data` in ggml type `type`. */
export function encodeFloats(type: number, data: Float32Array, out: Buffer): void {
  const n = data.length;
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i < n; i++) out.writeFloatLE(data[i], i * 4);
      return;
    case GgmlType.F16:
      for (let i = 0; i < n; i++) out.writeUInt16LE(floatToHalf(data[i]), i * 2);
      return;
    case GgmlType.BF16:
      for (let i = 0; i < n; i++) out.writeUInt16LE(floatToBf16(data[i]), i * 2);
      return;
    case GgmlType.Q8_0:
      encodeQ8_0(data, out);
      return;
    default:
      throw new Error(`the GGUF writer cannot encode ggml type ${type}`);
  }
}

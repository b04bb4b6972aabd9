// Writes GGUF v3 files: metadata of every value type and F32/F16/BF16/Q8_0 tensors, each tensor's data aligned to
// general.alignment (32 unless set) as llama.cpp requires. Used for the tiny test models and adapters
// written in tests; the Python learner has its own writer for the adapters it trains.
import fs from "node:fs";
import os from "node:os";
import { alignUp, DEFAULT_ALIGNMENT } from "./reader.js";
import { encodeFloats } from "./encode.js";
import { GgmlType, tensorByteSize } from "./ggml-types.js";
import { GgufValueType, type GgufArrayValue, type GgufMetadata, type GgufScalarTypeName, type GgufValue } from "./types.js";

export interface GgufTensorToWrite {
  name: string;
  /** ggml order (dims[0] innermost); data is row-major in the reversed (torch) order. */
  dims: number[];
  type: (typeof GgmlType)[keyof typeof GgmlType];
  data: Float32Array;
}

/** Growable little-endian byte buffer. */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number) {
    this.reserve(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  i8(v: number) {
    this.reserve(1);
    this.buf.writeInt8(v, this.length);
    this.length += 1;
  }
  u16(v: number) {
    this.reserve(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
  }
  i16(v: number) {
    this.reserve(2);
    this.buf.writeInt16LE(v, this.length);
    this.length += 2;
  }
  u32(v: number) {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number) {
    this.reserve(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  f32(v: number) {
    this.reserve(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number) {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  u64(v: bigint | number) {
    this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  i64(v: bigint) {
    this.reserve(8);
    this.buf.writeBigInt64LE(v, this.length);
    this.length += 8;
  }
  string(s: string) {
    // Encoded in place: vocabularies have ~150k strings, and a Buffer plus a BigInt per string add up.
    const n = Buffer.byteLength(s, "utf8");
    this.reserve(8 + n);
    this.buf.writeUInt32LE(n, this.length);
    this.buf.writeUInt32LE(0, this.length + 4);
    this.buf.write(s, this.length + 8, n, "utf8");
    this.length += 8 + n;
  }
  pad(to: number) {
    this.reserve(to - this.length);
    this.buf.fill(0, this.length, to);
    this.length = to;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeScalar(sink: ByteSink, type: GgufScalarTypeName, value: unknown, key: string): void {
  const fail = () => {
    throw new Error(`metadata ${key}: ${String(value)} is not a valid ${type}`);
  };
  switch (type) {
    case "u8":
    case "i8":
    case "u16":
    case "i16":
    case "u32":
    case "i32":
    case "f32":
    case "f64":
      if (typeof value !== "number") fail();
      sink[type](value as number);
      return;
    case "u64":
    case "i64":
      if (typeof value !== "bigint") fail();
      sink[type](value as bigint);
      return;
    case "bool":
      if (typeof value !== "boolean") fail();
      sink.u8(value ? 1 : 0);
      return;
    case "string":
      if (typeof value !== "string") fail();
      sink.string(value as string);
      return;
  }
}

function writeArray(sink: ByteSink, arr: GgufArrayValue, key: string): void {
  sink.u32(GgufValueType[arr.itemType]);
  sink.u64(arr.value.length);
  for (const item of arr.value) {
    if (arr.itemType === "array") writeArray(sink, item as GgufArrayValue, key);
    else writeScalar(sink, arr.itemType, item, key);
  }
}

function writeValue(sink: ByteSink, value: GgufValue, key: string): void {
  sink.u32(GgufValueType[value.type]);
  if (value.type === "array") writeArray(sink, value, key);
  else writeScalar(sink, value.type, value.value, key);
}

function encodeTensor(t: GgufTensorToWrite): Buffer {
  const size = tensorByteSize(t.type, t.dims);
  if (typeof size === "string") throw new Error(`tensor ${t.name}: ${size}`);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) throw new Error(`tensor ${t.name}: ${t.data.length} values for shape [${t.dims.join(", ")}]`);
  if (t.type === GgmlType.F32 && os.endianness() === "LE") {
    return Buffer.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  const out = Buffer.alloc(size);
  encodeFloats(t.type, t.data, out);
  return out;
}

/** A tensor as the header describes it: where its data goes is computed from dims and type. */
export interface GgufTensorHeader {
  name: string;
  dims: number[];
  type: number;
}

export interface EncodedGgufHeader {
  /** Header bytes, padded to the alignment: tensor data starts right after. */
  header: Buffer;
  /** Offset of each tensor's data from the start of the data section, and its size in bytes. */
  layout: { offset: number; byteSize: number }[];
  /** Bytes of the data section, the last tensor padded to the alignment. */
  dataBytes: number;
  alignment: number;
}

/** The header (metadata and tensor infos) of a GGUF file whose tensors are written after it. */
export function encodeGgufHeader(metadata: GgufMetadata, tensors: GgufTensorHeader[]): EncodedGgufHeader {
  const alignmentValue = metadata.get("general.alignment");
  const alignment = alignmentValue?.type === "u32" ? alignmentValue.value : DEFAULT_ALIGNMENT;
  const sink = new ByteSink();
  sink.u32(0x46554747);
  sink.u32(3);
  sink.u64(tensors.length);
  sink.u64(metadata.size);
  for (const [key, value] of metadata) {
    sink.string(key);
    writeValue(sink, value, key);
  }
  const layout: EncodedGgufHeader["layout"] = [];
  let offset = 0;
  for (const t of tensors) {
    const byteSize = tensorByteSize(t.type, t.dims);
    if (typeof byteSize === "string") throw new Error(`tensor ${t.name}: ${byteSize}`);
    sink.string(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(d);
    sink.u32(t.type);
    sink.u64(offset);
    layout.push({ offset, byteSize });
    offset = alignUp(offset + byteSize, alignment);
  }
  sink.pad(alignUp(sink.length, alignment));
  return { header: Buffer.from(sink.bytes()), layout, dataBytes: offset, alignment };
}

/** Serialise a GGUF file to a buffer (whole file in memory: meant for small models and adapters). */
export function encodeGguf(metadata: GgufMetadata, tensors: GgufTensorToWrite[]): Buffer {
  const encoded = tensors.map(encodeTensor);
  const { header, alignment } = encodeGgufHeader(metadata, tensors);
  const parts: Buffer[] = [header];
  let written = 0;
  encoded.forEach((data) => {
    parts.push(data);
    written += data.length;
    const padded = alignUp(written, alignment);
    if (padded > written) parts.push(Buffer.alloc(padded - written));
    written = padded;
  });
  return Buffer.concat(parts);
}

/** Write atomically (temp file + rename) so a reader never sees a half-written model or adapter. */
export function writeGguf(path: string, metadata: GgufMetadata, tensors: GgufTensorToWrite[]): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, encodeGguf(metadata, tensors));
  fs.renameSync(tmp, path);
}

/** Constructors for typed metadata values. */
export const gguf = {
  u8: (value: number): GgufValue => ({ type: "u8", value }),
  i8: (value: number): GgufValue => ({ type: "i8", value }),
  u16: (value: number): GgufValue => ({ type: "u16", value }),
  i16: (value: number): GgufValue => ({ type: "i16", value }),
  u32: (value: number): GgufValue => ({ type: "u32", value }),
  i32: (value: number): GgufValue => ({ type: "i32", value }),
  f32: (value: number): GgufValue => ({ type: "f32", value }),
  f64: (value: number): GgufValue => ({ type: "f64", value }),
  u64: (value: bigint): GgufValue => ({ type: "u64", value }),
  i64: (value: bigint): GgufValue => ({ type: "i64", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  arr: (itemType: GgufArrayValue["itemType"], value: GgufArrayValue["value"]): GgufArrayValue => ({ type: "array", itemType, value }),
};

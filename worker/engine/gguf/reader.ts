// Reads a GGUF file's header, metadata and tensor infos without loading tensor data. The header is
// read through a growing window, so a 150k-token vocabulary costs a few MB and tensor data is never
// touched. Every read is bounds-checked: a truncated or corrupt file raises GgufFormatError instead
// of reaching the native loader, which aborts the whole process on some malformed inputs.
import fs from "node:fs";
import { tensorByteSize } from "./ggml-types.js";
import {
  GgufValueType,
  type GgufArrayValue,
  type GgufFile,
  type GgufMetadata,
  type GgufScalarTypeName,
  type GgufTensorInfo,
  type GgufValue,
} from "./types.js";

export class GgufFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GgufFormatError";
  }
}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const DEFAULT_ALIGNMENT = 32;
// ggml refuses more dimensions than this.
const MAX_DIMS = 4;

const typeNameById = new Map<number, GgufScalarTypeName | "array">(
  Object.entries(GgufValueType).map(([name, id]) => [id, name as GgufScalarTypeName | "array"]),
);

// Smallest encoded size of one item per type: lets a corrupt count be rejected before looping on it.
const minItemBytes: Record<GgufScalarTypeName | "array", number> = {
  u8: 1,
  i8: 1,
  bool: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
  string: 8,
  array: 12,
};

/** Sequential little-endian reader over a file, loading it in chunks as the parser advances. */
class WindowedFileReader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  position = 0;

  constructor(
    private readonly fd: number,
    readonly fileSize: number,
  ) {}

  private ensure(bytes: number, what: string): void {
    const end = this.position + bytes;
    if (end > this.fileSize) {
      throw new GgufFormatError(`file is truncated: it ends at byte ${this.fileSize} while reading ${what} at byte ${this.position}`);
    }
    if (this.position >= this.bufferStart && end <= this.bufferStart + this.buffer.length) return;
    const size = Math.min(Math.max(bytes, 1 << 20), this.fileSize - this.position);
    const chunk = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = fs.readSync(this.fd, chunk, read, size - read, this.position + read);
      if (n === 0) break;
      read += n;
    }
    if (read < bytes) throw new GgufFormatError(`could not read ${what} at byte ${this.position}`);
    this.buffer = chunk.subarray(0, read);
    this.bufferStart = this.position;
  }

  private take(bytes: number, what: string): number {
    this.ensure(bytes, what);
    const at = this.position - this.bufferStart;
    this.position += bytes;
    return at;
  }

  u8(what: string) {
    const at = this.take(1, what);
    return this.buffer.readUInt8(at);
  }
  i8(what: string) {
    const at = this.take(1, what);
    return this.buffer.readInt8(at);
  }
  u16(what: string) {
    const at = this.take(2, what);
    return this.buffer.readUInt16LE(at);
  }
  i16(what: string) {
    const at = this.take(2, what);
    return this.buffer.readInt16LE(at);
  }
  u32(what: string) {
    const at = this.take(4, what);
    return this.buffer.readUInt32LE(at);
  }
  i32(what: string) {
    const at = this.take(4, what);
    return this.buffer.readInt32LE(at);
  }
  f32(what: string) {
    const at = this.take(4, what);
    return this.buffer.readFloatLE(at);
  }
  f64(what: string) {
    const at = this.take(8, what);
    return this.buffer.readDoubleLE(at);
  }
  u64(what: string) {
    const at = this.take(8, what);
    return this.buffer.readBigUInt64LE(at);
  }
  i64(what: string) {
    const at = this.take(8, what);
    return this.buffer.readBigInt64LE(at);
  }

  /** A u64 that must fit a JS number and the bytes left in the file (counts, lengths, offsets). */
  count(what: string, minBytesEach: number): number {
    const value = this.u64(what);
    const left = BigInt(this.fileSize - this.position);
    if (value * BigInt(minBytesEach) > left) {
      throw new GgufFormatError(`file is truncated or corrupt: ${what} ${value} does not fit in the ${left} bytes left`);
    }
    return Number(value);
  }

  string(what: string): string {
    const length = this.count(`length of ${what}`, 1);
    const at = this.take(length, what);
    return this.buffer.toString("utf8", at, at + length);
  }
}

function readScalar(r: WindowedFileReader, type: GgufScalarTypeName, what: string): number | bigint | boolean | string {
  switch (type) {
    case "u8":
      return r.u8(what);
    case "i8":
      return r.i8(what);
    case "u16":
      return r.u16(what);
    case "i16":
      return r.i16(what);
    case "u32":
      return r.u32(what);
    case "i32":
      return r.i32(what);
    case "f32":
      return r.f32(what);
    case "f64":
      return r.f64(what);
    case "u64":
      return r.u64(what);
    case "i64":
      return r.i64(what);
    case "bool": {
      const b = r.u8(what);
      if (b > 1) throw new GgufFormatError(`${what}: bool byte ${b} is neither 0 nor 1`);
      return b === 1;
    }
    case "string":
      return r.string(what);
  }
}

function readTypeId(r: WindowedFileReader, what: string): GgufScalarTypeName | "array" {
  const id = r.u32(`value type of ${what}`);
  const name = typeNameById.get(id);
  if (!name) throw new GgufFormatError(`${what} has unknown value type ${id}`);
  return name;
}

function readArray(r: WindowedFileReader, what: string): GgufArrayValue {
  const itemType = readTypeId(r, `items of ${what}`);
  const n = r.count(`item count of ${what}`, minItemBytes[itemType]);
  const value: GgufArrayValue["value"] = new Array(n);
  for (let i = 0; i < n; i++) {
    value[i] = itemType === "array" ? readArray(r, `${what}[${i}]`) : readScalar(r, itemType, what);
  }
  return { type: "array", itemType, value };
}

function readValue(r: WindowedFileReader, key: string): GgufValue {
  const type = readTypeId(r, key);
  if (type === "array") return readArray(r, key);
  return { type, value: readScalar(r, type, key) } as GgufValue;
}

/** Parse a GGUF file's header. Throws GgufFormatError on anything malformed (including truncation). */
export function readGguf(path: string): GgufFile {
  const fd = fs.openSync(path, "r");
  try {
    const fileSize = fs.fstatSync(fd).size;
    const r = new WindowedFileReader(fd, fileSize);
    if (fileSize < 4 || r.u32("magic") !== MAGIC) throw new GgufFormatError("not a GGUF file (bad magic)");
    const version = r.u32("version");
    if (version !== 2 && version !== 3) throw new GgufFormatError(`unsupported GGUF version ${version} (2 or 3 expected)`);
    const tensorCount = r.count("tensor count", 24);
    const kvCount = r.count("metadata count", 12);

    const metadata: GgufMetadata = new Map();
    for (let i = 0; i < kvCount; i++) {
      const key = r.string(`metadata key #${i}`);
      if (metadata.has(key)) throw new GgufFormatError(`duplicate metadata key ${key}`);
      metadata.set(key, readValue(r, key));
    }

    const alignmentValue = metadata.get("general.alignment");
    let alignment = DEFAULT_ALIGNMENT;
    if (alignmentValue) {
      if (alignmentValue.type !== "u32" || alignmentValue.value <= 0 || alignmentValue.value % 8 !== 0) {
        throw new GgufFormatError("general.alignment must be a u32 multiple of 8");
      }
      alignment = alignmentValue.value;
    }

    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const name = r.string(`name of tensor #${i}`);
      if (names.has(name)) throw new GgufFormatError(`duplicate tensor ${name}`);
      names.add(name);
      const nDims = r.u32(`dimension count of ${name}`);
      if (nDims < 1 || nDims > MAX_DIMS) throw new GgufFormatError(`tensor ${name} has ${nDims} dimensions (1..${MAX_DIMS})`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const dim = r.u64(`dimension ${d} of ${name}`);
        if (dim < 1n || dim > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError(`tensor ${name} has invalid dimension ${dim}`);
        dims.push(Number(dim));
      }
      const type = r.u32(`type of ${name}`);
      const offset = r.u64(`offset of ${name}`);
      if (offset > BigInt(fileSize)) throw new GgufFormatError(`file is truncated: tensor ${name} starts beyond the end of the file`);
      const byteSize = tensorByteSize(type, dims);
      if (typeof byteSize === "string") throw new GgufFormatError(`tensor ${name}: ${byteSize}`);
      tensors.push({ name, dims, type, offset: Number(offset), byteSize });
    }

    const dataOffset = alignUp(r.position, alignment);
    return { path, version, metadata, tensors, alignment, dataOffset, fileSize };
  } finally {
    fs.closeSync(fd);
  }
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/** Read an F32, F16 or BF16 tensor's data as float32 (tests and small tools; not for big models). */
export function readTensorData(file: GgufFile, tensor: GgufTensorInfo): Float32Array {
  const start = file.dataOffset + tensor.offset;
  if (start + tensor.byteSize > file.fileSize) throw new GgufFormatError(`tensor ${tensor.name} extends beyond the end of the file`);
  const bytes = Buffer.alloc(tensor.byteSize);
  const fd = fs.openSync(file.path, "r");
  try {
    fs.readSync(fd, bytes, 0, tensor.byteSize, start);
  } finally {
    fs.closeSync(fd);
  }
  const n = tensor.dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (tensor.type === 0) {
    for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(i * 4);
  } else if (tensor.type === 1) {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes.readUInt16LE(i * 2));
  } else if (tensor.type === 30) {
    const view = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < n; i++) {
      view.setUint32(0, bytes.readUInt16LE(i * 2) << 16);
      out[i] = view.getFloat32(0);
    }
  } else {
    throw new GgufFormatError(`tensor ${tensor.name}: reading type ${tensor.type} is not supported`);
  }
  return out;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Metadata helpers: typed access with undefined when the key is absent or of another kind. */
export function metaNumber(metadata: GgufMetadata, key: string): number | undefined {
  const v = metadata.get(key);
  if (!v) return undefined;
  if (typeof v.value === "number") return v.value;
  if (typeof v.value === "bigint") return Number(v.value);
  return undefined;
}

export function metaString(metadata: GgufMetadata, key: string): string | undefined {
  const v = metadata.get(key);
  return v && v.type === "string" ? v.value : undefined;
}

export function metaArray(metadata: GgufMetadata, key: string): GgufArrayValue | undefined {
  const v = metadata.get(key);
  return v && v.type === "array" ? v : undefined;
}

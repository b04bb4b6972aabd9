// In-memory shapes of a GGUF file (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md).
// Metadata values keep their on-disk type so a file can be read and written back byte for byte.

/** On-disk value type ids of GGUF metadata. */
export const GgufValueType = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

export type GgufScalarTypeName = Exclude<keyof typeof GgufValueType, "array">;
export type GgufNumberTypeName = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
export type GgufBigIntTypeName = "u64" | "i64";

export type GgufScalarValue =
  | { type: GgufNumberTypeName; value: number }
  | { type: GgufBigIntTypeName; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string };

/**
 * Arrays are homogeneous. Items of scalar arrays are plain JS values (number, bigint, boolean, string);
 * items of nested arrays (allowed by the spec, unused by llama.cpp) are GgufArrayValue objects.
 */
export interface GgufArrayValue {
  type: "array";
  itemType: GgufScalarTypeName | "array";
  value: Array<number | bigint | boolean | string | GgufArrayValue>;
}

export type GgufValue = GgufScalarValue | GgufArrayValue;

/** Insertion-ordered, so a written file lists keys in the order they were set. */
export type GgufMetadata = Map<string, GgufValue>;

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension, i.e. a torch [out, in] weight is [in, out]. */
  dims: number[];
  /** ggml_type id (see ggml-types.ts). */
  type: number;
  /** Offset of the tensor's data relative to the start of the data section. */
  offset: number;
  /** Bytes the tensor's data occupies (from dims and the type's block size). */
  byteSize: number;
}

export interface GgufFile {
  path: string;
  version: number;
  metadata: GgufMetadata;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute file offset where tensor data starts. */
  dataOffset: number;
  fileSize: number;
}

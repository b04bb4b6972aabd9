// ggml tensor types: block size (elements per block) and bytes per block. Needed to know how many bytes
// each tensor occupies, so a truncated file is caught before llama.cpp reads past its end. The figures
// match ggml's type traits in the llama.cpp build node-llama-cpp 3.22 ships (checked against
// getTypeSizeForGgmlType/getBlockSizeForGgmlType of its bindings).

export const GgmlType = { F32: 0, F16: 1, Q8_0: 8, BF16: 30 } as const;

/**
 * How the model writers (tiny-model.ts, model-build/) can store a model's matrices: the tensor type and
 * the general.file_type llama.cpp records for it (LLAMA_FTYPE_ALL_F32 / MOSTLY_F16 / MOSTLY_BF16 /
 * MOSTLY_Q8_0). Norms and biases stay F32 whatever the choice.
 */
export const MATRIX_STORAGE = {
  f32: { tensorType: GgmlType.F32, fileType: 0 },
  f16: { tensorType: GgmlType.F16, fileType: 1 },
  bf16: { tensorType: GgmlType.BF16, fileType: 32 },
  q8_0: { tensorType: GgmlType.Q8_0, fileType: 7 },
} as const;

interface GgmlTypeTraits {
  name: string;
  blockSize: number;
  typeSize: number;
}

const traits: Record<number, GgmlTypeTraits> = {
  0: { name: "F32", blockSize: 1, typeSize: 4 },
  1: { name: "F16", blockSize: 1, typeSize: 2 },
  2: { name: "Q4_0", blockSize: 32, typeSize: 18 },
  3: { name: "Q4_1", blockSize: 32, typeSize: 20 },
  6: { name: "Q5_0", blockSize: 32, typeSize: 22 },
  7: { name: "Q5_1", blockSize: 32, typeSize: 24 },
  8: { name: "Q8_0", blockSize: 32, typeSize: 34 },
  9: { name: "Q8_1", blockSize: 32, typeSize: 36 },
  10: { name: "Q2_K", blockSize: 256, typeSize: 84 },
  11: { name: "Q3_K", blockSize: 256, typeSize: 110 },
  12: { name: "Q4_K", blockSize: 256, typeSize: 144 },
  13: { name: "Q5_K", blockSize: 256, typeSize: 176 },
  14: { name: "Q6_K", blockSize: 256, typeSize: 210 },
  15: { name: "Q8_K", blockSize: 256, typeSize: 292 },
  16: { name: "IQ2_XXS", blockSize: 256, typeSize: 66 },
  17: { name: "IQ2_XS", blockSize: 256, typeSize: 74 },
  18: { name: "IQ3_XXS", blockSize: 256, typeSize: 98 },
  19: { name: "IQ1_S", blockSize: 256, typeSize: 50 },
  20: { name: "IQ4_NL", blockSize: 32, typeSize: 18 },
  21: { name: "IQ3_S", blockSize: 256, typeSize: 110 },
  22: { name: "IQ2_S", blockSize: 256, typeSize: 82 },
  23: { name: "IQ4_XS", blockSize: 256, typeSize: 136 },
  24: { name: "I8", blockSize: 1, typeSize: 1 },
  25: { name: "I16", blockSize: 1, typeSize: 2 },
  26: { name: "I32", blockSize: 1, typeSize: 4 },
  27: { name: "I64", blockSize: 1, typeSize: 8 },
  28: { name: "F64", blockSize: 1, typeSize: 8 },
  29: { name: "IQ1_M", blockSize: 256, typeSize: 56 },
  30: { name: "BF16", blockSize: 1, typeSize: 2 },
  34: { name: "TQ1_0", blockSize: 256, typeSize: 54 },
  35: { name: "TQ2_0", blockSize: 256, typeSize: 66 },
  39: { name: "MXFP4", blockSize: 32, typeSize: 17 },
  40: { name: "NVFP4", blockSize: 64, typeSize: 36 },
  41: { name: "Q1_0", blockSize: 128, typeSize: 18 },
  42: { name: "Q2_0", blockSize: 64, typeSize: 18 },
};

export function ggmlTypeTraits(type: number): GgmlTypeTraits | undefined {
  return traits[type];
}

export function ggmlTypeName(type: number): string {
  return traits[type]?.name ?? `unknown type ${type}`;
}

/**
 * Bytes of a tensor of this type and shape, or an error message when the shape cannot be stored in
 * this type (rows must hold whole blocks) or the type is unknown.
 */
export function tensorByteSize(type: number, dims: number[]): number | string {
  const t = traits[type];
  if (!t) return `unknown ggml type ${type}`;
  const rowLength = dims[0] ?? 1;
  if (rowLength % t.blockSize !== 0) {
    return `row length ${rowLength} is not a multiple of the ${t.name} block size ${t.blockSize}`;
  }
  let elements = 1;
  for (const d of dims) elements *= d;
  return (elements / t.blockSize) * t.typeSize;
}

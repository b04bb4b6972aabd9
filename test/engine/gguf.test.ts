// GGUF reader/writer round trips, the tiny model's layout, and validation of bad model and adapter
// files (no llama.cpp here: validation must catch these before the native loader sees them).
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidModelError } from "../../worker/engine/errors.js";
import { metaArray, metaNumber, metaString, readGguf, readTensorData } from "../../worker/engine/gguf/reader.js";
import type { GgufMetadata } from "../../worker/engine/gguf/types.js";
import { validateAdapterFile, validateModelFile } from "../../worker/engine/gguf/validate.js";
import { encodeGguf, gguf, writeGguf } from "../../worker/engine/gguf/writer.js";
import { byteToUnicode } from "../../worker/engine/byte-vocab.js";
import { TINY_VOCAB_SIZE, writeTinyModel } from "../../worker/engine/tiny-model.js";
import { makeTempDir, rewriteGguf, tensor, writeRandomLora } from "./helpers.js";

const tmp = makeTempDir("gguf");
const file = (name: string) => path.join(tmp.dir, name);
let tinyPath: string;

beforeAll(() => {
  tinyPath = file("tiny.gguf");
  writeTinyModel({ out: tinyPath, seed: 7 });
});
afterAll(() => tmp.cleanup());

function expectInvalid(run: () => unknown, file: string, ...fragments: string[]): InvalidModelError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidModelError);
  const error = caught as InvalidModelError;
  expect(error.file).toBe(file);
  expect(error.message).toContain(file);
  for (const f of fragments) expect(error.message).toContain(f);
  return error;
}

describe("GGUF reader and writer", () => {
  it("round-trips metadata of every type and F32/F16 tensors with alignment", () => {
    const metadata: GgufMetadata = new Map([
      ["general.architecture", gguf.str("llama")],
      ["general.alignment", gguf.u32(64)],
      ["t.u8", gguf.u8(255)],
      ["t.i8", gguf.i8(-128)],
      ["t.u16", gguf.u16(65535)],
      ["t.i16", gguf.i16(-32768)],
      ["t.u32", gguf.u32(4294967295)],
      ["t.i32", gguf.i32(-2147483648)],
      ["t.f32", gguf.f32(0.5)],
      ["t.f64", gguf.f64(Math.PI)],
      ["t.u64", gguf.u64(2n ** 64n - 1n)],
      ["t.i64", gguf.i64(-(2n ** 63n))],
      ["t.bool", gguf.bool(true)],
      ["t.string", gguf.str("héllo \u0000 wörld ✓")],
      ["t.strings", gguf.arr("string", ["a", "", "ü"])],
      ["t.empty", gguf.arr("string", [])],
      ["t.i32s", gguf.arr("i32", [-1, 0, 1])],
      ["t.nested", gguf.arr("array", [gguf.arr("u8", [1, 2]), gguf.arr("u8", [])])],
    ]);
    const f32 = Float32Array.from({ length: 3 * 5 }, (_, i) => i / 7 - 1);
    const f16 = Float32Array.from([0, 1, -2, 0.5, 65504, 1e-7, -0.333251953125]);
    const path1 = file("roundtrip.gguf");
    writeGguf(path1, metadata, [
      { name: "a", dims: [3, 5], type: 0, data: f32 },
      { name: "b", dims: [7], type: 1, data: f16 },
    ]);

    const read = readGguf(path1);
    expect(read.version).toBe(3);
    expect(read.alignment).toBe(64);
    expect([...read.metadata.keys()]).toEqual([...metadata.keys()]);
    for (const [key, value] of metadata) expect(read.metadata.get(key)).toEqual(value);
    expect(read.dataOffset % 64).toBe(0);
    for (const t of read.tensors) expect(t.offset % 64).toBe(0);
    expect(read.tensors.map((t) => [t.name, t.dims, t.type, t.byteSize])).toEqual([
      ["a", [3, 5], 0, 60],
      ["b", [7], 1, 14],
    ]);
    expect(Array.from(readTensorData(read, read.tensors[0]))).toEqual(Array.from(f32));
    const halves = readTensorData(read, read.tensors[1]);
    // 1e-7 is below F16's smallest subnormal step (6e-8 rounds to 1 step); the rest are exact in F16.
    expect(Array.from(halves)).toEqual([0, 1, -2, 0.5, 65504, 2 ** -24 * 2, -0.333251953125]);

    // Reading and writing back reproduces the file byte for byte.
    const again = encodeGguf(
      read.metadata,
      read.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type as 0 | 1, data: readTensorData(read, t) })),
    );
    expect(Buffer.compare(again, fs.readFileSync(path1))).toBe(0);
  });

  it("writes the tiny model deterministically with the documented layout", () => {
    const again = file("tiny-again.gguf");
    writeTinyModel({ out: again, seed: 7 });
    expect(Buffer.compare(fs.readFileSync(again), fs.readFileSync(tinyPath))).toBe(0);
    const other = file("tiny-other.gguf");
    writeTinyModel({ out: other, seed: 8 });
    expect(Buffer.compare(fs.readFileSync(other), fs.readFileSync(tinyPath))).not.toBe(0);

    const g = readGguf(tinyPath);
    expect(metaString(g.metadata, "general.architecture")).toBe("llama");
    expect(metaString(g.metadata, "tokenizer.ggml.model")).toBe("gpt2");
    expect(metaString(g.metadata, "tokenizer.ggml.pre")).toBe("qwen2");
    const tokens = metaArray(g.metadata, "tokenizer.ggml.tokens")!.value as string[];
    expect(tokens.length).toBe(TINY_VOCAB_SIZE);
    expect(tokens.slice(0, 256)).toEqual(byteToUnicode());
    expect(tokens.slice(256)).toEqual(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]);
    expect(tokens[32]).toBe("Ġ"); // GPT-2's space character
    expect(metaArray(g.metadata, "tokenizer.ggml.token_type")!.value.slice(255)).toEqual([1, 3, 3, 3]);
    expect(metaArray(g.metadata, "tokenizer.ggml.merges")!.value).toEqual([]);
    expect(metaNumber(g.metadata, "tokenizer.ggml.eos_token_id")).toBe(256);
    const names = g.tensors.map((t) => t.name);
    for (const n of ["token_embd.weight", "blk.1.attn_q.weight", "blk.1.ffn_down.weight", "output_norm.weight", "output.weight"]) {
      expect(names).toContain(n);
    }
    const byName = new Map(g.tensors.map((t) => [t.name, t]));
    expect(byName.get("blk.0.attn_k.weight")!.dims).toEqual([128, 64]); // [in, out]: 2 KV heads of 32
    expect(byName.get("blk.0.ffn_down.weight")!.dims).toEqual([384, 128]);

    const tied = file("tiny-tied.gguf");
    writeTinyModel({ out: tied, tiedEmbeddings: true, weightType: "f16", layers: 1 });
    const t = validateModelFile(tied);
    expect(t.tensors.has("output.weight")).toBe(false);
    expect(t.tensors.get("blk.0.attn_q.weight")!.type).toBe(1);
    expect(t.tensors.get("blk.0.attn_norm.weight")!.type).toBe(0);
  });

  it("writes qwen2/qwen3 tensors, a wider head, filler tokens and BF16/Q8_0 matrices", () => {
    const qwen2 = validateModelFile(writeTinyModel({ out: file("qwen2.gguf"), arch: "qwen2", dim: 64, ff: 128, weightType: "bf16", std: 0.08 }).path);
    expect(qwen2.architecture).toBe("qwen2");
    expect(qwen2.tensors.get("blk.0.attn_q.weight")!.type).toBe(30);
    expect(qwen2.tensors.get("blk.1.attn_v.bias")!.type).toBe(0);

    const info = writeTinyModel({
      out: file("qwen3.gguf"),
      arch: "qwen3",
      dim: 64,
      heads: 4,
      headDim: 32,
      ff: 128,
      vocabSize: 300,
      weightType: "q8_0",
    });
    expect(info.vocabSize).toBe(300);
    const qwen3 = validateModelFile(info.path);
    expect(qwen3.tensors.get("blk.0.attn_q.weight")!.type).toBe(8);
    expect(qwen3.tensors.get("blk.0.attn_q_norm.weight")!.dims).toEqual([32]);
    const g = readGguf(info.path);
    expect(metaNumber(g.metadata, "qwen3.attention.key_length")).toBe(32);
    expect(metaArray(g.metadata, "tokenizer.ggml.tokens")!.value.slice(-1)).toEqual(["[tok299]"]);
    expect(() => writeTinyModel({ out: file("x.gguf"), dim: 48, heads: 4, weightType: "q8_0" })).toThrow(/q8_0/);
  });

  it("rejects bad options for the tiny model", () => {
    expect(() => writeTinyModel({ out: file("x.gguf"), dim: 130 })).toThrow(/divisible/);
    expect(() => writeTinyModel({ out: file("x.gguf"), heads: 4, kvHeads: 3 })).toThrow(/kv-heads/);
    expect(() => writeTinyModel({ out: file("x.gguf"), layers: 0 })).toThrow(/layers/);
  });
});

describe("model validation", () => {
  const variant = (name: string, edit: Parameters<typeof rewriteGguf>[2]) => {
    const p = file(name);
    rewriteGguf(tinyPath, p, edit);
    return p;
  };

  it("accepts the tiny model and summarises it", () => {
    const s = validateModelFile(tinyPath);
    expect(s).toMatchObject({
      architecture: "llama",
      embeddingLength: 128,
      blockCount: 2,
      headCount: 4,
      headCountKv: 2,
      headDimK: 32,
      vocabSize: 259,
      eosTokenId: 256,
    });
    expect(s.chatTemplate).toContain("<|im_start|>");
  });

  it("names what is missing or wrong", () => {
    const noFf = variant("no-ff.gguf", (g) => g.metadata.delete("llama.feed_forward_length"));
    expectInvalid(() => validateModelFile(noFf), noFf, "missing llama.feed_forward_length");

    const noHeads = variant("no-heads.gguf", (g) => g.metadata.delete("llama.attention.head_count"));
    expectInvalid(() => validateModelFile(noHeads), noHeads, "missing llama.attention.head_count");

    const badKv = variant("bad-kv.gguf", (g) => g.metadata.set("llama.attention.head_count_kv", gguf.u32(3)));
    expectInvalid(() => validateModelFile(badKv), badKv, "head_count_kv (3) does not divide head_count (4)");

    const noMerges = variant("no-merges.gguf", (g) => g.metadata.delete("tokenizer.ggml.merges"));
    expectInvalid(() => validateModelFile(noMerges), noMerges, "tokenizer.ggml.merges");

    const noEps = variant("no-eps.gguf", (g) => g.metadata.delete("llama.attention.layer_norm_rms_epsilon"));
    expectInvalid(() => validateModelFile(noEps), noEps, "layer_norm_rms_epsilon");

    const otherArch = variant("gpt2.gguf", (g) => g.metadata.set("general.architecture", gguf.str("gpt2")));
    expectInvalid(() => validateModelFile(otherArch), otherArch, "architecture gpt2 is not supported");

    const wrongShape = variant("wrong-shape.gguf", (g) => {
      const t = tensor(g, "blk.1.attn_k.weight");
      t.dims = [128, 32];
      t.data = t.data.subarray(0, 128 * 32);
    });
    expectInvalid(() => validateModelFile(wrongShape), wrongShape, "tensor blk.1.attn_k.weight has shape [128, 32], expected [128, 64]");

    const missingTensor = variant("missing-tensor.gguf", (g) => {
      g.tensors = g.tensors.filter((t) => t.name !== "blk.0.ffn_up.weight");
    });
    expectInvalid(() => validateModelFile(missingTensor), missingTensor, "missing tensor blk.0.ffn_up.weight");

    const badVocab = variant("bad-vocab.gguf", (g) => {
      const tokens = g.metadata.get("tokenizer.ggml.tokens")!;
      if (tokens.type === "array") tokens.value = tokens.value.slice(0, 200);
    });
    expectInvalid(() => validateModelFile(badVocab), badVocab, "token_type has 259 entries for 200 tokens");
  });

  it("rejects truncated files, non-GGUF files and missing files", () => {
    const whole = fs.readFileSync(tinyPath);
    const truncated = file("truncated.gguf");
    fs.writeFileSync(truncated, whole.subarray(0, whole.length - 1000));
    expectInvalid(() => validateModelFile(truncated), truncated, "file is truncated: tensor output.weight");

    const headerOnly = file("header-only.gguf");
    fs.writeFileSync(headerOnly, whole.subarray(0, 1500));
    expectInvalid(() => validateModelFile(headerOnly), headerOnly, "file is truncated or corrupt: item count of tokenizer.ggml.tokens");
    const cutInString = file("cut-in-string.gguf");
    fs.writeFileSync(cutInString, whole.subarray(0, 12));
    expectInvalid(() => validateModelFile(cutInString), cutInString, "file is truncated: it ends at byte 12 while reading tensor count");

    const text = file("not-a-model.gguf");
    fs.writeFileSync(text, "this is not a model, just text\n".repeat(10));
    expectInvalid(() => validateModelFile(text), text, "not a GGUF file");

    const empty = file("empty.gguf");
    fs.writeFileSync(empty, "");
    expectInvalid(() => validateModelFile(empty), empty, "not a GGUF file");

    expectInvalid(() => validateModelFile(file("nope.gguf")), file("nope.gguf"), "does not exist");

    // A huge count in a corrupt header is refused without trying to allocate it.
    const hugeCount = Buffer.from(whole);
    hugeCount.writeBigUInt64LE(2n ** 60n, 16);
    const huge = file("huge-count.gguf");
    fs.writeFileSync(huge, hugeCount);
    expectInvalid(() => validateModelFile(huge), huge, "metadata count");
  });
});

describe("adapter validation", () => {
  it("accepts a well-formed LoRA and reports its rank and alpha", () => {
    const p = file("lora.gguf");
    writeRandomLora({ base: tinyPath, out: p, rank: 4, alpha: 8, seed: 1 });
    const a = validateAdapterFile(p, validateModelFile(tinyPath));
    expect(a.alpha).toBe(8);
    expect(new Set(a.ranks.values())).toEqual(new Set([4]));
    expect(a.ranks.size).toBe(14); // 7 matrices x 2 blocks
  });

  it("names what is wrong with a bad adapter", () => {
    const base = validateModelFile(tinyPath);
    const good = file("lora-good.gguf");
    writeRandomLora({ base: tinyPath, out: good, rank: 4, alpha: 8, seed: 2, targets: ["attn_q"] });
    const variant = (name: string, edit: Parameters<typeof rewriteGguf>[2]) => {
      const p = file(name);
      rewriteGguf(good, p, edit);
      return p;
    };

    const noAlpha = variant("lora-no-alpha.gguf", (g) => g.metadata.delete("adapter.lora.alpha"));
    expectInvalid(() => validateAdapterFile(noAlpha, base), noAlpha, "missing adapter.lora.alpha");

    const wrongArch = variant("lora-arch.gguf", (g) => g.metadata.set("general.architecture", gguf.str("qwen2")));
    expectInvalid(() => validateAdapterFile(wrongArch, base), wrongArch, "does not match the base model's llama");

    const notAdapter = variant("lora-type.gguf", (g) => g.metadata.set("general.type", gguf.str("model")));
    expectInvalid(() => validateAdapterFile(notAdapter, base), notAdapter, 'general.type must be "adapter"');

    const wrongShape = variant("lora-shape.gguf", (g) => {
      const t = tensor(g, "blk.0.attn_q.weight.lora_b");
      t.dims = [4, 64];
      t.data = t.data.subarray(0, 4 * 64);
    });
    expectInvalid(
      () => validateAdapterFile(wrongShape, base),
      wrongShape,
      "blk.0.attn_q.weight.lora_b has shape [4, 64] but the base blk.0.attn_q.weight has output size 128",
    );

    const unpaired = variant("lora-unpaired.gguf", (g) => {
      g.tensors = g.tensors.filter((t) => t.name !== "blk.1.attn_q.weight.lora_a");
    });
    expectInvalid(() => validateAdapterFile(unpaired, base), unpaired, "blk.1.attn_q.weight has lora_b but no lora_a");

    const unknownTarget = variant("lora-target.gguf", (g) => {
      for (const t of g.tensors) t.name = t.name.replace("attn_q", "attn_z");
    });
    expectInvalid(() => validateAdapterFile(unknownTarget, base), unknownTarget, "blk.0.attn_z.weight does not exist in the base model");

    const model = tinyPath;
    expectInvalid(() => validateAdapterFile(model, base), model, 'general.type must be "adapter"');

    const whole = fs.readFileSync(good);
    const truncated = file("lora-truncated.gguf");
    fs.writeFileSync(truncated, whole.subarray(0, whole.length - 100));
    expectInvalid(() => validateAdapterFile(truncated, base), truncated, "truncated");
  });
});

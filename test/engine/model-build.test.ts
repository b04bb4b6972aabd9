// `icrl model build`: published shapes (sizes checked against the models' own parameter counts without
// writing them), the vocabulary as llama.cpp's converter writes it, seeded streaming weights, and the
// command's output and exit codes through the real binary.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { GgmlType } from "../../worker/engine/gguf/ggml-types.js";
import { readGguf, readTensorData } from "../../worker/engine/gguf/reader.js";
import { buildModel, planModel } from "../../worker/engine/model-build/build-model.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import { writeStreamedGguf } from "../../worker/engine/model-build/streaming-writer.js";
import { TokenType } from "../../worker/engine/model-build/vocabulary.js";
import { makeTempDir } from "./helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const tmp = makeTempDir("model-build");
afterAll(() => tmp.cleanup());
const file = (name: string) => path.join(tmp.dir, name);

function metaValue(plan: ReturnType<typeof planModel>, key: string): unknown {
  const v = plan.metadata.get(key);
  if (!v) throw new Error(`no ${key}`);
  return v.value;
}

describe("published shapes (planned, not written)", () => {
  // Parameter counts of the Hugging Face checkpoints (safetensors totals; Llama 3.2's 32 RoPE factors are ours).
  it.each([
    ["qwen2.5-0.5b", 494_032_768, 151_936, "qwen2"],
    ["qwen2.5-3b", 3_085_938_688, 151_936, "qwen2"],
    ["qwen2.5-7b", 7_615_616_512, 152_064, "qwen2"],
    ["qwen3-8b", 8_190_735_360, 151_936, "qwen3"],
    ["llama-3.2-1b", 1_235_814_400 + 32, 128_256, "llama"],
  ] as const)("%s has %i parameters and %i embedding rows", (shape, parameters, rows, architecture) => {
    const plan = planModel({ shape, type: "bf16" });
    expect(plan.parameters).toBe(parameters);
    expect(plan.vocabSize).toBe(rows);
    expect(metaValue(plan, "general.architecture")).toBe(architecture);
    const embd = plan.tensors.find((t) => t.name === "token_embd.weight")!;
    expect(embd.dims).toEqual([plan.shape.hidden, rows]);
    expect(plan.tensors.some((t) => t.name === "output.weight")).toBe(!plan.shape.tiedEmbeddings);
    // BF16 matrices, F32 vectors: the file is 2 bytes per matrix value plus 4 per vector value, plus the header.
    const vectorValues = plan.tensors.filter((t) => t.dims.length === 1).reduce((s, t) => s + t.dims[0], 0);
    const data = 2 * (parameters - vectorValues) + 4 * vectorValues;
    expect(plan.bytes - data).toBeGreaterThan(0);
    expect(plan.bytes - data).toBeLessThan(12_000_000); // the header: vocabulary, merges, chat template
    expect(plan.header.header.length + plan.header.dataBytes).toBe(plan.bytes);
  });

  it("gives Qwen2.5-7B untied output, Qwen3 q/k norms, Qwen2 biases, Llama 3.2 its RoPE factors", () => {
    const q7 = planModel({ shape: "qwen2.5-7b" });
    expect(q7.tensors.map((t) => t.name)).toEqual(expect.arrayContaining(["output.weight", "blk.27.attn_q.bias", "blk.0.attn_v.bias"]));
    const q3 = planModel({ shape: "qwen3-8b" });
    expect(q3.tensors.find((t) => t.name === "blk.35.attn_k_norm.weight")?.dims).toEqual([128]);
    expect(metaValue(q3, "qwen3.attention.key_length")).toBe(128);
    expect(metaValue(q3, "qwen3.context_length")).toBe(40_960);
    const l = planModel({ shape: "llama-3.2-1b" });
    expect(metaValue(l, "llama.rope.freq_base")).toBe(500_000);
    expect(l.tensors[0]).toMatchObject({ name: "rope_freqs.weight", dims: [32], type: GgmlType.F32 });
    // Llama 3 scaling: high frequencies kept (1), low ones divided by the factor (32), a smooth ramp between.
    const factors = new Float32Array(32);
    l.tensors[0].open().fill(new Uint8Array(factors.buffer), 32);
    expect([factors[0], factors[14], factors[31]]).toEqual([1, 1, 32]);
    expect(factors[15]).toBeGreaterThan(1);
    expect(factors[15]).toBeLessThan(32);
  });

  it("pads the vocabulary as convert_hf_to_gguf.py does and types added tokens for llama.cpp", () => {
    const qwen25 = planModel({ shape: "qwen2.5-0.5b", tokenizer: "qwen2.5" });
    const tokens = metaValue(qwen25, "tokenizer.ggml.tokens") as string[];
    const types = metaValue(qwen25, "tokenizer.ggml.token_type") as number[];
    expect(tokens).toHaveLength(151_936);
    expect([tokens[151_644], types[151_644]]).toEqual(["<|im_start|>", TokenType.CONTROL]);
    expect([tokens[151_657], types[151_657]]).toEqual(["<tool_call>", TokenType.USER_DEFINED]);
    expect([tokens[151_659], types[151_659]]).toEqual(["<|fim_prefix|>", TokenType.CONTROL]); // not special, but looks it
    // Qwen2.5 stops at <|file_sep|> (151664): Qwen3's <think> is padding there.
    expect([tokens[151_667], types[151_667]]).toEqual(["[PAD151667]", TokenType.UNUSED]);
    expect([tokens[151_935], types[151_935]]).toEqual(["[PAD151935]", TokenType.UNUSED]);
    expect(types[1000]).toBe(TokenType.NORMAL);
    expect(metaValue(qwen25, "tokenizer.ggml.pre")).toBe("qwen2");
    expect(metaValue(qwen25, "tokenizer.ggml.eos_token_id")).toBe(151_645);
    expect(metaValue(qwen25, "tokenizer.ggml.padding_token_id")).toBe(151_643);
    expect(metaValue(qwen25, "tokenizer.ggml.add_bos_token")).toBe(false);
    expect(metaValue(qwen25, "tokenizer.chat_template")).toContain("You are Qwen, created by Alibaba Cloud.");
    expect((metaValue(qwen25, "tokenizer.ggml.merges") as string[])[0]).toBe("Ġ Ġ");

    const qwen3 = planModel({ shape: "qwen3-8b" });
    const q3Tokens = metaValue(qwen3, "tokenizer.ggml.tokens") as string[];
    const q3Types = metaValue(qwen3, "tokenizer.ggml.token_type") as number[];
    expect([q3Tokens[151_667], q3Types[151_667]]).toEqual(["<think>", TokenType.USER_DEFINED]);
    expect([q3Tokens[151_669], q3Types[151_669]]).toEqual(["[PAD151669]", TokenType.UNUSED]);
    expect(metaValue(qwen3, "tokenizer.chat_template")).toContain("enable_thinking");

    const llama = planModel({ shape: "llama-3.2-1b" });
    const lTypes = metaValue(llama, "tokenizer.ggml.token_type") as number[];
    expect(lTypes.slice(128_000).every((t) => t === TokenType.CONTROL)).toBe(true);
    expect(metaValue(llama, "tokenizer.ggml.pre")).toBe("llama-bpe");
    expect(metaValue(llama, "tokenizer.ggml.bos_token_id")).toBe(128_000);
    expect(metaValue(llama, "tokenizer.ggml.eos_token_id")).toBe(128_009);
    expect(metaValue(llama, "tokenizer.ggml.add_bos_token")).toBe(true);
  });

  it("refuses a tokenizer with more tokens than the shape has rows, and an unknown storage type", () => {
    expect(() => planModel({ shape: "llama-3.2-1b", tokenizer: "qwen3" })).toThrow(
      "--shape llama-3.2-1b has 128256 embedding rows but the qwen3 tokenizer has 151669 tokens: use --tokenizer llama3",
    );
    expect(() => planModel({ shape: "qwen2.5-0.5b", type: "q4" as never })).toThrow(RangeError);
  });
});

describe("written files", () => {
  it("are identical for the same options and seed, different for another seed, whatever the block size", () => {
    for (const type of ["f16", "bf16", "q8_0", "f32"] as const) {
      const a = buildModel({ shape: "tiny", tokenizer: "byte", type, seed: 3, out: file(`a-${type}.gguf`) });
      buildModel({ shape: "tiny", tokenizer: "byte", type, seed: 3, out: file(`b-${type}.gguf`) });
      buildModel({ shape: "tiny", tokenizer: "byte", type, seed: 4, out: file(`c-${type}.gguf`) });
      const plan = planModel({ shape: "tiny", tokenizer: "byte", type, seed: 3 });
      writeStreamedGguf(file(`d-${type}.gguf`), plan.header, plan.tensors, 4096); // many small writes
      const bytes = fs.readFileSync(file(`a-${type}.gguf`));
      expect(a.bytes).toBe(bytes.length);
      expect(a.bytes).toBe(plan.bytes);
      expect(fs.readFileSync(file(`b-${type}.gguf`)).equals(bytes)).toBe(true);
      expect(fs.readFileSync(file(`d-${type}.gguf`)).equals(bytes)).toBe(true);
      expect(fs.readFileSync(file(`c-${type}.gguf`)).equals(bytes)).toBe(false);
    }
    expect(fs.readdirSync(tmp.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("with --tokenizer byte, carry exactly the tokenizer of `icrl model tiny` (one vocabulary source for both)", () => {
    writeTinyModel({ out: file("tiny.gguf") });
    buildModel({ shape: "tiny", tokenizer: "byte", out: file("built-byte.gguf") });
    const tokenizerKeys = (f: string) => [...readGguf(f).metadata].filter(([key]) => key.startsWith("tokenizer."));
    expect(tokenizerKeys(file("built-byte.gguf"))).toEqual(tokenizerKeys(file("tiny.gguf")));
  });

  it("hold weights of the intended scale, norms of 1, and read back as the planned tensors", () => {
    buildModel({ shape: "tiny", tokenizer: "byte", type: "f16", out: file("scale.gguf") });
    const g = readGguf(file("scale.gguf"));
    const values = (name: string) => readTensorData(g, g.tensors.find((t) => t.name === name)!);
    const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
    const q = values("blk.0.attn_q.weight");
    expect(std(q)).toBeCloseTo(1 / Math.sqrt(128), 2);
    expect(Math.abs(mean(q))).toBeLessThan(0.01);
    expect(std(values("blk.1.ffn_down.weight"))).toBeCloseTo(1 / Math.sqrt(384), 2);
    expect(new Set(values("blk.0.attn_norm.weight"))).toEqual(new Set([1]));
    expect(g.tensors.map((t) => t.name)).toEqual(planModel({ shape: "tiny", tokenizer: "byte" }).tensors.map((t) => t.name));
  });
});

describe("icrl model build", () => {
  function icrl(...args: string[]) {
    const r = spawnSync(process.execPath, [path.join(root, "bin", "icrl.js"), ...args], { encoding: "utf8", timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("prints what it wrote as one JSON line, and the file validates", () => {
    const out = file("cli.gguf");
    const r = icrl("model", "build", "--shape", "tiny", "--tokenizer", "qwen2.5", "--type", "q8_0", "--seed", "9", "-o", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ path: out, bytes: fs.statSync(out).size, vocabSize: 151_665, shape: "tiny", tokenizer: "qwen2.5", type: "q8_0" });
    expect(info.parameters).toBe(planModel({ shape: "tiny", tokenizer: "qwen2.5" }).parameters);
    expect(info.seconds).toBeGreaterThan(0);
    expect(info.mbPerSecond).toBeGreaterThan(0);
    const v = icrl("model", "validate", out);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({
      kind: "model",
      architecture: "qwen2",
      vocabSize: 151_665,
      tokenizer: "gpt2",
      hasChatTemplate: true,
    });
  });

  it("exits 2 with the fix for bad options and 1 when the file cannot be written", () => {
    const badShape = icrl("model", "build", "--shape", "qwen9", "-o", file("x.gguf"));
    expect(badShape.code).toBe(2);
    expect(badShape.stderr).toContain("--shape must be one of tiny, qwen2.5-0.5b");
    const mismatch = icrl("model", "build", "--shape", "llama-3.2-1b", "--tokenizer", "qwen3", "-o", file("x.gguf"));
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/^icrl model build: .*use --tokenizer llama3 \(the shape's own, also the default\)\n$/);
    fs.writeFileSync(file("not-a-dir"), "");
    const io = icrl("model", "build", "-o", path.join(file("not-a-dir"), "m.gguf"));
    expect(io.code).toBe(1);
    expect(io.stderr).toMatch(/^icrl model build: .*not-a-dir/);
    expect(fs.existsSync(file("x.gguf"))).toBe(false);
  });
});

// LoRA hot-loading: an adapter acts exactly like merged weights, scale 0 / null restore the base,
// rewriting the same path is never stale, open groups keep their version, and 100 versions do not
// grow memory (node-llama-cpp would otherwise keep every adapter until the model is disposed).
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidModelError } from "../../worker/engine/errors.js";
import { loadLlamaEngine, type LlamaEngine } from "../../worker/engine/llama-engine.js";
import { writeTinyModel } from "../../worker/engine/tiny-model.js";
import type { GenerateOptions } from "../../worker/engine/types.js";
import { makeTempDir, maxAbsDiff, rewriteGguf, tensor, writeMergedModel, writeRandomLora } from "./helpers.js";

const tmp = makeTempDir("adapters");
const file = (name: string) => path.join(tmp.dir, name);
const modelPath = file("tiny.gguf");
const adapterDir = file("versions");
let engine: LlamaEngine;
let tokens: number[];

const greedy: GenerateOptions = { maxTokens: 8, stopStrings: [], sampling: { temperature: 0 } };

async function greedyTurn(e: LlamaEngine, prompt: number[]): Promise<number[]> {
  const group = await e.openGroup(1, { tokensPerSequence: 96 });
  group.sequences[0].append(prompt);
  const turn = await group.sequences[0].generate(greedy);
  await group.dispose();
  return turn.tokens;
}

const privateCopies = () => fs.readdirSync(adapterDir).flatMap((d) => fs.readdirSync(path.join(adapterDir, d)));

beforeAll(async () => {
  writeTinyModel({ out: modelPath, seed: 4 });
  fs.mkdirSync(adapterDir);
  engine = await loadLlamaEngine({ modelPath, threads: 1, exact: true, contextSize: 96, adapterDir });
  tokens = engine.tokenize(engine.formatChat([{ role: "user", content: "What is the capital of France?" }]), { specialTokens: true });
});
afterAll(async () => {
  await engine?.dispose();
  tmp.cleanup();
});

describe("LoRA adapters", () => {
  it("act like the merged weights; scale 0 and null restore the base", async () => {
    const base = await engine.logProbs(tokens);
    const baseGreedy = await greedyTurn(engine, tokens);
    const loraPath = file("lora.gguf");
    const lora = writeRandomLora({ base: modelPath, out: loraPath, rank: 4, alpha: 8, seed: 1 });

    await engine.setAdapter(loraPath);
    expect(engine.adapterVersion).toBeGreaterThan(0);
    const adapted = await engine.logProbs(tokens);
    expect(maxAbsDiff(adapted, base)).toBeGreaterThan(1e-2);
    const adaptedGreedy = await greedyTurn(engine, tokens);

    // W + (alpha / r) B A folded into a plain model gives the same log-probs and the same greedy text.
    writeMergedModel(modelPath, file("merged.gguf"), lora, 4, 8, 1);
    const merged = await loadLlamaEngine({ modelPath: file("merged.gguf"), threads: 1, exact: true, contextSize: 96 });
    expect(maxAbsDiff(adapted, await merged.logProbs(tokens))).toBeLessThan(1e-4);
    expect(await greedyTurn(merged, tokens)).toEqual(adaptedGreedy);
    await merged.dispose();

    await engine.setAdapter(loraPath, 2);
    expect(maxAbsDiff(await engine.logProbs(tokens), adapted)).toBeGreaterThan(1e-2);

    await engine.setAdapter(loraPath, 0);
    expect(maxAbsDiff(await engine.logProbs(tokens), base)).toBeLessThan(1e-6);

    await engine.setAdapter(null);
    expect(engine.adapterVersion).toBe(0);
    expect(maxAbsDiff(await engine.logProbs(tokens), base)).toBeLessThan(1e-6);
    expect(await greedyTurn(engine, tokens)).toEqual(baseGreedy);
  });

  it("uses the new weights when a new version is written to the same path", async () => {
    const source = file("learner-output.gguf");
    writeRandomLora({ base: modelPath, out: source, rank: 4, alpha: 8, seed: 11 });
    await engine.setAdapter(source);
    const first = await engine.logProbs(tokens);

    // A group still running on the first version keeps it loaded while the second one arrives.
    const running = await engine.openGroup(1, { tokensPerSequence: 64 });
    writeRandomLora({ base: modelPath, out: source, rank: 4, alpha: 8, seed: 12 });
    await engine.setAdapter(source);
    const second = await engine.logProbs(tokens);
    expect(maxAbsDiff(first, second)).toBeGreaterThan(1e-2);
    await running.dispose();

    const elsewhere = file("seed12.gguf");
    writeRandomLora({ base: modelPath, out: elsewhere, rank: 4, alpha: 8, seed: 12 });
    await engine.setAdapter(elsewhere);
    expect(maxAbsDiff(await engine.logProbs(tokens), second)).toBeLessThan(1e-6);
  });

  it("keeps an open group on the version it was opened with, and frees it on close", async () => {
    const a = file("a.gguf");
    const b = file("b.gguf");
    writeRandomLora({ base: modelPath, out: a, rank: 4, alpha: 8, seed: 21 });
    writeRandomLora({ base: modelPath, out: b, rank: 4, alpha: 8, seed: 22 });
    await engine.setAdapter(a);
    const expectedA = await greedyTurn(engine, tokens);

    const group = await engine.openGroup(1, { tokensPerSequence: 96 });
    await engine.setAdapter(b); // the group still holds version a
    expect(privateCopies().length).toBe(2);
    group.sequences[0].append(tokens);
    expect((await group.sequences[0].generate(greedy)).tokens).toEqual(expectedA);
    expect(await greedyTurn(engine, tokens)).not.toEqual(expectedA);
    await group.dispose();
    expect(privateCopies().length).toBe(1); // only the current version is left
  });

  it("rejects a malformed adapter and keeps the current one", async () => {
    const good = file("good.gguf");
    writeRandomLora({ base: modelPath, out: good, rank: 4, alpha: 8, seed: 31 });
    await engine.setAdapter(good);
    const before = await engine.logProbs(tokens);
    const version = engine.adapterVersion;

    const bad = file("bad.gguf");
    rewriteGguf(good, bad, (g) => {
      const t = tensor(g, "blk.0.attn_v.weight.lora_a");
      t.dims = [100, 4];
      t.data = t.data.subarray(0, 400);
    });
    const attempt = engine.setAdapter(bad);
    await expect(attempt).rejects.toBeInstanceOf(InvalidModelError);
    await expect(attempt).rejects.toThrow("blk.0.attn_v.weight.lora_a has shape [100, 4]");
    await expect(attempt).rejects.toMatchObject({ file: bad, kind: "adapter" });
    await expect(engine.setAdapter(file("missing.gguf"))).rejects.toBeInstanceOf(InvalidModelError);
    expect(privateCopies().length).toBe(1);
    expect(engine.adapterVersion).toBe(version);
    expect(maxAbsDiff(await engine.logProbs(tokens), before)).toBe(0);
  });

  it("can release versions by reloading the model instead", async () => {
    const reloading = await loadLlamaEngine({
      modelPath,
      threads: 1,
      exact: true,
      contextSize: 96,
      adapterRelease: "reload",
      reloadModelEveryAdapters: 3,
    });
    const source = file("reload-stream.gguf");
    for (let v = 0; v < 8; v++) {
      writeRandomLora({ base: modelPath, out: source, rank: 4, alpha: 8, seed: 300 + v });
      await reloading.setAdapter(source);
      await greedyTurn(reloading, tokens);
      await engine.setAdapter(source);
      expect(maxAbsDiff(await reloading.logProbs(tokens), await engine.logProbs(tokens))).toBeLessThan(1e-6);
    }
    expect(reloading.modelLoads).toBeGreaterThan(1);
    await reloading.dispose();
  });

  it("hot-loads 100 versions from one path with bounded memory", async () => {
    const source = file("stream.gguf");
    // Collect JS garbage (written buffers) first, so RSS reflects what the native side keeps.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const rss = () => {
      gc();
      return process.memoryUsage().rss / 2 ** 20;
    };
    let previous: number[] = [];
    let rssBefore = 0;
    for (let v = 0; v < 100; v++) {
      // rank 64 on every matrix: 1.2 MB per version, so keeping versions would show clearly
      writeRandomLora({ base: modelPath, out: source, rank: 64, alpha: 64, seed: 100 + v, range: 0.05 });
      await engine.setAdapter(source);
      // Opening a group loads the version natively; logProbs below checks it is the one applied.
      const group = await engine.openGroup(1, { tokensPerSequence: 64 });
      await group.dispose();
      if (v % 10 === 0) {
        const current = await engine.logProbs(tokens);
        if (previous.length) expect(maxAbsDiff(current, previous)).toBeGreaterThan(1e-3);
        previous = current;
      }
      if (v === 20) rssBefore = rss();
    }
    const growth = rss() - rssBefore;
    if (process.env.SHOW_RSS) console.log("rss growth over 80 versions (MB):", growth);
    // Measured: ~20-40 MB of allocator churn from creating contexts (the same without any adapter);
    // keeping every version adds > 2 MB per version (> 170 MB here).
    expect(growth).toBeLessThan(80);
    expect(privateCopies().length).toBe(1);
  });
});

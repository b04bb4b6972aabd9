import { writeTinyModel } from "./tiny-model.js";
import { validateModelFile, validateAdapterFile } from "./gguf/validate.js";
import { writeLoraAdapter, seededValues } from "./gguf/lora-writer.js";
import { loadLlama } from "./llama-loader.js";
import fs from "node:fs";
let t = Date.now();
const info = writeTinyModel({ out: "/tmp/exp/tiny.gguf" });
console.log(info, Date.now() - t);
t = Date.now();
const s = validateModelFile("/tmp/exp/tiny.gguf");
console.log(s.architecture, s.vocabSize, Date.now() - t);
const mk = (p: string, seed: number) => {
  const tensors = [];
  for (let i = 0; i < 2; i++) for (const n of ["attn_q", "attn_v", "ffn_up", "ffn_down"]) {
    const w = s.tensors.get(`blk.${i}.${n}.weight`)!;
    tensors.push({ target: w.name, inputs: w.dims[0], outputs: w.dims[1], a: seededValues(8 * w.dims[0], seed, 0.3), b: seededValues(w.dims[1] * 8, seed + 1, 0.3) });
  }
  writeLoraAdapter({ out: p, architecture: "llama", rank: 8, alpha: 16, tensors });
};
mk("/tmp/exp/a0.gguf", 5);
validateAdapterFile("/tmp/exp/a0.gguf", s);
console.log("adapter bytes", fs.statSync("/tmp/exp/a0.gguf").size);
const llama = await loadLlama(false);
const model = await llama.loadModel({ modelPath: "/tmp/exp/tiny.gguf" });
const ctx = await model.createContext({ contextSize: 256, sequences: 1, threads: 1 });
const seq = ctx.getSequence();
const toks = model.tokenize("<|im_start|>user\nhello <search>x</search><|im_end|>", true);
console.log(toks, JSON.stringify(model.detokenize(toks, true)), JSON.stringify(model.detokenize(toks)));
const out: number[] = [];
for await (const tok of seq.evaluate(toks, { temperature: 1, topK: 0, topP: 1, seed: 3 })) { out.push(tok); if (out.length >= 20) break; }
console.log(JSON.stringify(model.detokenize(out)));
await ctx.dispose();
const rss = () => Math.round(process.memoryUsage().rss / 1048576);
console.log("rss0", rss());
t = Date.now();
for (let v = 0; v < Number(process.argv[3] ?? 200); v++) {
  const p = `/tmp/exp/v${v}.gguf`;
  mk(p, v);
  const c = await model.createContext({ contextSize: 256, sequences: 1, threads: 1, ...(process.argv[2] === "nolora" ? {} : { lora: { adapters: [{ filePath: p }] } }) });
  await c.dispose();
  const m: any = model;
  if (process.argv[2] === "free") {
    const l = m._loraAdapters.get(p);
    await l.dispose();
    m._loraAdapters.delete(p);
  }
  fs.unlinkSync(p);
  if (v % 100 === 0) { (globalThis as any).gc?.(); console.log(v, rss(), (model as any)._loraAdapters.size); }
}
console.log("rss end", rss(), Date.now() - t);

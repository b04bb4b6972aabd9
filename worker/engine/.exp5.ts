import { writeTinyModel } from "./tiny-model.js";
import { loadLlamaEngine } from "./llama-engine.js";
writeTinyModel({ out: "/tmp/exp/tiny.gguf" });
const e = await loadLlamaEngine({ modelPath: "/tmp/exp/tiny.gguf", threads: 1, contextSize: 256 });
const toks = Array.from({ length: 50 }, (_, i) => (i * 37 + 11) % 256);
for (const n of [2, 10, 50]) {
  let t = performance.now();
  for (let i = 0; i < 20; i++) await e.logProbs(toks.slice(0, n));
  console.log(n, ((performance.now() - t) / 20).toFixed(2), "ms/call");
}
const sc: any = (e as any).scorer;
let t = performance.now();
for (let i = 0; i < 20; i++) await sc.sequence.clearHistory();
console.log("clear", ((performance.now() - t) / 20).toFixed(2));
t = performance.now();
for (let i = 0; i < 20; i++) { await sc.sequence.clearHistory(); await sc.sequence.evaluateWithoutGeneratingNewTokens(toks); }
console.log("eval50 nologits", ((performance.now() - t) / 20).toFixed(2));
t = performance.now();
for (let i = 0; i < 20; i++) { await sc.sequence.clearHistory(); await sc.sequence.controlledEvaluate(toks.map(x=>[x,{generateNext:{logits:true}}])); }
console.log("eval50 logits", ((performance.now() - t) / 20).toFixed(2));
await e.dispose();

import { writeTinyModel } from "./tiny-model.js";
import { loadLlamaEngine } from "./llama-engine.js";
import { referenceLogProbs } from "../../test/engine/reference-forward.js";
writeTinyModel({ out: "/tmp/exp/tiny.gguf" });
const toks = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 259);
let t = Date.now();
const ref = referenceLogProbs("/tmp/exp/tiny.gguf", toks);
console.log("ref ms", Date.now() - t);
for (const exact of [true, false]) {
  const e = await loadLlamaEngine({ modelPath: "/tmp/exp/tiny.gguf", threads: 1, exact });
  const lp = await e.logProbs(toks);
  console.log(exact, Math.max(...lp.map((v, i) => Math.abs(v - ref[i]))));
  await e.dispose();
}

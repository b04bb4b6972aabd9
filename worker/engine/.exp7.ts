import v8 from "node:v8"; import vm from "node:vm";
import { writeTinyModel } from "./tiny-model.js";
import { loadLlamaEngine } from "./llama-engine.js";
import { writeRandomLora } from "../../test/engine/helpers.js";
v8.setFlagsFromString("--expose-gc"); const gc = vm.runInNewContext("gc");
const rss = () => { gc(); return Math.round(process.memoryUsage().rss / 2 ** 20); };
writeTinyModel({ out: "/tmp/exp/t4.gguf", seed: 4 });
const e = await loadLlamaEngine({ modelPath: "/tmp/exp/t4.gguf", threads: 1, exact: true, contextSize: 96 });
const tokens = e.tokenize("hello world, this is a prompt");
const mode = process.argv[2];
for (let v = 0; v <= 200; v++) {
  writeRandomLora({ base: "/tmp/exp/t4.gguf", out: "/tmp/exp/s.gguf", rank: 16, alpha: 16, seed: 100 + v, range: 0.1 });
  if (mode !== "nolora") await e.setAdapter("/tmp/exp/s.gguf");
  const g = await e.openGroup(2, { tokensPerSequence: 64 });
  if (mode !== "nogen") {
    for (const s of g.sequences) s.append(tokens);
    await Promise.all(g.sequences.map((s) => s.generate({ maxTokens: 3, stopStrings: [], sampling: { temperature: 0 } })));
  }
  await g.dispose();
  if (v % 50 === 0) console.log(mode, v, rss());
}

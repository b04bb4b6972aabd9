import { writeTinyModel } from "./tiny-model.js";
import { loadLlamaEngine } from "./llama-engine.js";
writeTinyModel({ out: "/tmp/exp/t3.gguf", seed: 3 });
const e = await loadLlamaEngine({ modelPath: "/tmp/exp/t3.gguf", threads: 1, contextSize: 256 });
const prompt = e.tokenize(e.formatChat([{ role: "user", content: "Who wrote Hamlet? Use <search> if needed." }]), { specialTokens: true });
for (const tps of [256, prompt.length + 4, prompt.length+10]) {
  const g = await e.openGroup(1, { tokensPerSequence: tps });
  g.sequences[0].append(prompt);
  const r = await g.sequences[0].generate({ maxTokens: 12, stopStrings: [], sampling: { temperature: 0 } });
  console.log(tps, r.tokens, r.finishReason);
  await g.dispose();
}

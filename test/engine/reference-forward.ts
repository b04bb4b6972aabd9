// A float64 llama forward pass written from the GGUF layout alone (the same conventions the Python
// learner follows): RMSNorm, RoPE "NORM" on adjacent pairs, grouped-query attention, SwiGLU. Tests
// compare llama.cpp's log-probs with it to check exact mode and the tiny model's layout.
import { metaNumber, readGguf, readTensorData } from "../../worker/engine/gguf/reader.js";

export function referenceLogProbs(modelPath: string, tokens: number[]): number[] {
  const file = readGguf(modelPath);
  const md = file.metadata;
  const num = (key: string) => {
    const v = metaNumber(md, key);
    if (v === undefined) throw new Error(`missing ${key}`);
    return v;
  };
  const nEmbd = num("llama.embedding_length");
  const nLayer = num("llama.block_count");
  const nHead = num("llama.attention.head_count");
  const nKv = num("llama.attention.head_count_kv");
  const eps = num("llama.attention.layer_norm_rms_epsilon");
  const base = metaNumber(md, "llama.rope.freq_base") ?? 10000;
  const hd = nEmbd / nHead;
  const weights = new Map(file.tensors.map((t) => [t.name, { dims: t.dims, data: readTensorData(file, t) }]));
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`missing ${name}`);
    return t;
  };
  // y = W x for a GGUF weight with dims [in, out] (torch [out, in], row-major).
  const matvec = (name: string, x: Float64Array) => {
    const { dims, data } = w(name);
    const [inputs, outputs] = dims;
    const y = new Float64Array(outputs);
    for (let o = 0; o < outputs; o++) {
      let s = 0;
      for (let i = 0; i < inputs; i++) s += data[o * inputs + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const rmsNorm = (x: Float64Array, name: string) => {
    const g = w(name).data;
    let ms = 0;
    for (const v of x) ms += v * v;
    const scale = 1 / Math.sqrt(ms / x.length + eps);
    return x.map((v, i) => v * scale * g[i]);
  };
  const rope = (v: Float64Array, heads: number, pos: number) => {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < hd / 2; i++) {
        const theta = pos * Math.pow(base, (-2 * i) / hd);
        const a = v[h * hd + 2 * i];
        const b = v[h * hd + 2 * i + 1];
        v[h * hd + 2 * i] = a * Math.cos(theta) - b * Math.sin(theta);
        v[h * hd + 2 * i + 1] = a * Math.sin(theta) + b * Math.cos(theta);
      }
    }
  };

  const embd = w("token_embd.weight").data;
  const xs = tokens.map((t) => Float64Array.from(embd.subarray(t * nEmbd, (t + 1) * nEmbd)));
  for (let l = 0; l < nLayer; l++) {
    const b = `blk.${l}`;
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    const qs: Float64Array[] = [];
    xs.forEach((x, pos) => {
      const h = rmsNorm(x, `${b}.attn_norm.weight`);
      const q = matvec(`${b}.attn_q.weight`, h);
      const k = matvec(`${b}.attn_k.weight`, h);
      rope(q, nHead, pos);
      rope(k, nKv, pos);
      qs.push(q);
      ks.push(k);
      vs.push(matvec(`${b}.attn_v.weight`, h));
    });
    xs.forEach((x, pos) => {
      const attn = new Float64Array(nHead * hd);
      for (let h = 0; h < nHead; h++) {
        const kvh = Math.floor(h / (nHead / nKv));
        const scores: number[] = [];
        for (let j = 0; j <= pos; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += qs[pos][h * hd + d] * ks[j][kvh * hd + d];
          scores.push(s / Math.sqrt(hd));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, c) => a + c, 0);
        for (let j = 0; j <= pos; j++) {
          for (let d = 0; d < hd; d++) attn[h * hd + d] += (e[j] / z) * vs[j][kvh * hd + d];
        }
      }
      const o = matvec(`${b}.attn_output.weight`, attn);
      for (let i = 0; i < nEmbd; i++) x[i] += o[i];
      const h = rmsNorm(x, `${b}.ffn_norm.weight`);
      const gate = matvec(`${b}.ffn_gate.weight`, h);
      const up = matvec(`${b}.ffn_up.weight`, h);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = matvec(`${b}.ffn_down.weight`, act);
      for (let i = 0; i < nEmbd; i++) x[i] += down[i];
    });
  }
  const outName = weights.has("output.weight") ? "output.weight" : "token_embd.weight";
  const result: number[] = [];
  for (let pos = 0; pos < tokens.length - 1; pos++) {
    const logits = matvec(outName, rmsNorm(xs[pos], "output_norm.weight"));
    const max = Math.max(...logits);
    let z = 0;
    for (const v of logits) z += Math.exp(v - max);
    result.push(logits[tokens[pos + 1]] - max - Math.log(z));
  }
  return result;
}

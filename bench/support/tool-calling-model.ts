// A tiny model that really writes search calls, for measuring the rollout loop with tools in play.
// A random model almost never spells "</search>", so its turns end on the token budget and the loop's
// tool path goes unmeasured. This model has the shapes of writeTinyModel (same architecture, sizes,
// byte vocabulary, chat template, hence the same compute per token: llama.cpp's dense kernels do not
// care about the values) but hand-set weights that make it a byte-level bigram (Markov) model:
//   - every layer's matrices are zero, so each block adds nothing to the residual stream and the
//     final hidden state is the current token's embedding;
//   - token t's embedding is sqrt(dim) * e_c, where c is the "state" of t (tokens with the same
//     next-byte distribution share a state), so after RMSNorm the hidden state is exactly that vector;
//   - output row v holds log P(v | state c) / sqrt(dim) in column c, so the logits are log-probs.
// Sampled at temperature 1 with no truncation it writes, turn after turn:
//   FREE TEXT (upper case) "<search>" QUERY (words from QUERY_WORDS) "</search>"
// A bigram cannot remember whether a "<" opens or closes a tag, so "<" is followed by "s" with
// probability OPEN_P and by "/" otherwise: about 30% of turns start with a bare "</search>" (an
// invalid call, corrected by the loop) and valid calls may repeat "<search>" inside the query (the
// parser takes the last opening tag). Free text rarely ends the turn with <|endoftext|>.
import fs from "node:fs";
import {
  readGguf,
  readTensorData,
  gguf,
  writeGguf,
  type GgufTensorToWrite,
  TINY_SPECIAL_TOKENS,
  TINY_VOCAB_SIZE,
  writeTinyModel,
} from "../../worker/engine/files.js";

export const QUERY_WORDS = ["film", "town", "judy"] as const;
const FREE_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Mean free-text length before a tag is about 1 / FREE_TEXT_END. */
const FREE_TEXT_END = 1 / 60;
const FREE_TEXT_EOS = 0.001;
const OPEN_P = 0.7;
/** After a query word: another word (" ") or a tag ("<"). */
const WORD_END_SPACE = 0.5;
/** Logit of a byte that should never follow (e^-40 relative: never sampled in practice). */
const NEVER = -40;

type Distribution = Map<number, number>;
const byte = (c: string) => c.charCodeAt(0);
const uniform = (chars: string | readonly string[], mass: number, into: Distribution = new Map()) => {
  const list = typeof chars === "string" ? [...chars] : chars;
  for (const c of list) into.set(byte(c), (into.get(byte(c)) ?? 0) + mass / list.length);
  return into;
};

/** State of each byte (index into the distributions); bytes not listed use state 0 (free text). */
function bigramStates(): { stateOf: Int32Array; next: Distribution[] } {
  const next: Distribution[] = [];
  const stateOf = new Int32Array(TINY_VOCAB_SIZE); // 0 everywhere: free text, also after any inserted text
  const addState = (dist: Distribution, ...chars: string[]) => {
    next.push(dist);
    for (const c of chars) stateOf[byte(c)] = next.length - 1;
  };
  const freeText = uniform(FREE_TEXT, 1 - FREE_TEXT_END - FREE_TEXT_EOS);
  freeText.set(byte("<"), FREE_TEXT_END);
  freeText.set(TINY_SPECIAL_TOKENS.endOfText, FREE_TEXT_EOS);
  addState(freeText);
  addState(
    new Map([
      [byte("s"), OPEN_P],
      [byte("/"), 1 - OPEN_P],
    ]),
    "<",
  );
  addState(new Map([[byte("s"), 1]]), "/");
  const tag = "search>";
  for (let i = 0; i < tag.length - 1; i++) addState(new Map([[byte(tag[i + 1]), 1]]), tag[i]);
  const wordStarts = QUERY_WORDS.map((w) => w[0]);
  addState(uniform(wordStarts, 1), ">");
  addState(uniform(wordStarts, 1), " ");
  for (const word of QUERY_WORDS) {
    for (let i = 0; i < word.length - 1; i++) addState(new Map([[byte(word[i + 1]), 1]]), word[i]);
  }
  addState(
    new Map([
      [byte(" "), WORD_END_SPACE],
      [byte("<"), 1 - WORD_END_SPACE],
    ]),
    ...QUERY_WORDS.map((w) => w[w.length - 1]),
  );
  // A letter shared by two words or tags would need two distributions: fail loudly instead.
  const finals = new Set(QUERY_WORDS.map((w) => w[w.length - 1]));
  const used = [..."<>/ search", ...QUERY_WORDS.flatMap((w) => [...w.slice(0, -1)]), ...finals];
  if (new Set(used).size !== used.length) throw new Error("query words and tag letters must not share non-final letters");
  return { stateOf, next };
}

export interface ToolCallingModelOptions {
  out: string;
  layers?: number;
  dim?: number;
  context?: number;
  seed?: number;
}

/** Writes the model (writeTinyModel's file with the weights replaced as described above). */
export function writeToolCallingModel(options: ToolCallingModelOptions): string {
  const dim = options.dim ?? 128;
  const scratch = `${options.out}.random`;
  writeTinyModel({ out: scratch, layers: options.layers ?? 2, dim, context: options.context ?? 8192, seed: options.seed ?? 1 });
  try {
    const file = readGguf(scratch);
    const { stateOf, next } = bigramStates();
    if (next.length > dim) throw new Error(`the bigram needs ${next.length} states but dim is ${dim}`);
    const scale = Math.sqrt(dim);
    const tensors: GgufTensorToWrite[] = file.tensors.map((info) => {
      const data = readTensorData(file, info);
      if (info.name === "token_embd.weight") {
        data.fill(0);
        for (let t = 0; t < TINY_VOCAB_SIZE; t++) data[t * dim + stateOf[t]] = scale;
      } else if (info.name === "output.weight") {
        for (let v = 0; v < TINY_VOCAB_SIZE; v++) {
          for (let c = 0; c < dim; c++) {
            const p = next[c]?.get(v) ?? 0;
            data[v * dim + c] = (p > 0 ? Math.log(p) : NEVER) / scale;
          }
        }
      } else if (info.dims.length === 2) {
        data.fill(0); // attention and feed-forward matrices: the blocks pass the residual through
      }
      return { name: info.name, dims: info.dims, type: info.type as GgufTensorToWrite["type"], data };
    });
    const metadata = new Map(file.metadata);
    metadata.set("general.name", gguf.str(`icrl-tiny-bigram-search-${dim}`));
    writeGguf(options.out, metadata, tensors);
  } finally {
    fs.rmSync(scratch, { force: true });
  }
  return options.out;
}

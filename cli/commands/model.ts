// `icrl model`: model files. `tiny` writes a small random llama GGUF (tests, demos, learner checks);
// `validate` checks a model (or an adapter against its base) the way the engine does before loading.
// Only light modules are imported: nothing here loads llama.cpp.
import { InvalidArgumentError, type Command } from "commander";
import { InvalidModelError, validateAdapterFile, validateModelFile, writeTinyModel } from "../../worker/engine/files.js";

const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`--${name} must be a non-negative integer`);
    return n;
  };
}

interface TinyOptions {
  out?: string;
  layers: number;
  dim: number;
  heads: number;
  kvHeads: number;
  ff: number;
  context: number;
  seed: number;
  tied?: boolean;
  f16?: boolean;
}

export function register(program: Command): void {
  const model = program.command("model").description("create and check GGUF model files");

  model
    .command("tiny")
    .description("write a small llama-architecture GGUF with seeded random weights and a byte-level tokenizer")
    .requiredOption("-o, --out <file>", "output .gguf path")
    .option("--layers <n>", "transformer blocks", integer("layers"), 2)
    .option("--dim <n>", "embedding size", integer("dim"), 128)
    .option("--heads <n>", "attention heads", integer("heads"), 4)
    .option("--kv-heads <n>", "key/value heads (grouped-query attention)", integer("kv-heads"), 2)
    .option("--ff <n>", "feed-forward size", integer("ff"), 384)
    .option("--context <n>", "context length", integer("context"), 2048)
    .option("--seed <n>", "weight seed (same options and seed give an identical file)", integer("seed"), 1)
    .option("--tied", "tie the output projection to the token embeddings (no output.weight)")
    .option("--f16", "store matrices as F16 instead of F32")
    .addHelpText(
      "after",
      `
The vocabulary has the 256 bytes plus <|endoftext|>, <|im_start|>, <|im_end|> (control tokens) and a
ChatML chat template. Prints {"path", "bytes", "parameters", "vocabSize"} as JSON.
Exit codes: 0 ok, 1 the file could not be written, 2 bad options.`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT))
    .action((options: TinyOptions) => {
      try {
        const info = writeTinyModel({
          out: options.out!,
          layers: options.layers,
          dim: options.dim,
          heads: options.heads,
          kvHeads: options.kvHeads,
          ff: options.ff,
          context: options.context,
          seed: options.seed,
          tiedEmbeddings: options.tied ?? false,
          weightType: options.f16 ? "f16" : "f32",
        });
        process.stdout.write(JSON.stringify(info) + "\n");
      } catch (error) {
        process.stderr.write(`icrl model tiny: ${(error as Error).message}\n`);
        process.exitCode = error instanceof RangeError ? EXIT_BAD_INPUT : EXIT_FAILURE;
      }
    });

  model
    .command("validate")
    .description("check a GGUF model (or a LoRA adapter with --base) before loading it")
    .argument("<file>", "model or adapter .gguf")
    .option("--base <model>", "validate <file> as a LoRA adapter for this base model")
    .addHelpText("after", "\nPrints a JSON summary. Exit codes: 0 valid, 2 invalid file or bad usage.")
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT))
    .action((file: string, options: { base?: string }) => {
      try {
        if (options.base) {
          const base = validateModelFile(options.base);
          const adapter = validateAdapterFile(file, base);
          const ranks = [...new Set(adapter.ranks.values())];
          process.stdout.write(JSON.stringify({ file, kind: "adapter", alpha: adapter.alpha, ranks, tensors: adapter.ranks.size }) + "\n");
          return;
        }
        const s = validateModelFile(file);
        process.stdout.write(
          JSON.stringify({
            file,
            kind: "model",
            architecture: s.architecture,
            contextLength: s.contextLength,
            embeddingLength: s.embeddingLength,
            blockCount: s.blockCount,
            headCount: s.headCount,
            headCountKv: s.headCountKv,
            feedForwardLength: s.feedForwardLength,
            vocabSize: s.vocabSize,
            tokenizer: s.tokenizerModel,
            hasChatTemplate: s.chatTemplate !== null,
            bytes: s.file.fileSize,
          }) + "\n",
        );
      } catch (error) {
        if (!(error instanceof InvalidModelError)) throw error;
        process.stderr.write(`icrl model validate: ${error.message}\n`);
        process.exitCode = EXIT_BAD_INPUT;
      }
    });
}

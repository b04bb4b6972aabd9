// `icrl model`: model files. `tiny` writes a small random llama/qwen2/qwen3 GGUF (tests, demos, learner checks);
// `build` writes a published model shape (Qwen2.5, Qwen3, Llama 3.2) with its real tokenizer and random weights,
// or with --pretrain lookup the tiny shape pre-trained on the lookup task;
// `lookup` pre-trains the lookup task's tiny base (the demo's model) with a named tool-use prior and vocabulary;
// `validate` checks a model (or an adapter against its base) the way the engine does before loading.
// Only light modules are imported: nothing here loads llama.cpp.
import { InvalidArgumentError, type Command } from "commander";
import { rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { LOOKUP_PRIOR_NAMES, type LookupPrior } from "../demo/lookup-recipes.js";
import {
  BUILD_TOKENIZERS,
  BUILD_WEIGHT_TYPES,
  buildModel,
  type BuildTokenizer,
  type BuildWeightType,
  InvalidModelError,
  MODEL_SHAPE_NAMES,
  type ModelShapeName,
  TINY_ARCHITECTURES,
  TINY_WEIGHT_TYPES,
  type TinyArchitecture,
  type TinyWeightType,
  validateAdapterFile,
  validateModelFile,
  writeTinyModel,
} from "../../worker/engine/files.js";

/** What `model build --pretrain` can pre-train the tiny shape on. */
const PRETRAIN_TASKS = ["lookup"] as const;
type PretrainTask = (typeof PRETRAIN_TASKS)[number];

const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`--${name} must be a non-negative integer`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError(`--${name} must be a positive number`);
    return n;
  };
}

function share(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`--${name} must be a number from 0 to 1`);
    return n;
  };
}

function oneOf<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`--${name} must be one of ${choices.join(", ")}`);
    return value as T;
  };
}

interface TinyOptions {
  out?: string;
  arch: TinyArchitecture;
  layers: number;
  dim: number;
  heads: number;
  kvHeads: number;
  headDim?: number;
  ff: number;
  context: number;
  vocab?: number;
  ropeBase?: number;
  seed: number;
  tied?: boolean;
  f16?: boolean;
  type?: TinyWeightType;
  std?: number;
  embeddingStd?: number;
}

interface LookupBaseOptions {
  out: string;
  prior: LookupPrior;
  zeroShotSearchRate?: number;
  seed: number;
  tokenizer: BuildTokenizer;
}

/**
 * Pre-train the lookup task's tiny base and print what was written: `icrl model lookup`, and
 * `icrl model build --pretrain lookup`. Needs the learner's torch (checked first, exit 9).
 */
async function writeLookupBase(command: string, options: LookupBaseOptions): Promise<void> {
  const out = path.resolve(options.out);
  const { preflight } = await import("../doctor/preflight.js");
  const { learnerPython } = await import("../doctor/python-torch.js");
  await preflight(command, { python: learnerPython(), dataDir: path.dirname(out) });
  const { buildLookupModel, LOOKUP_PRIORS } = await import("../demo/lookup-model.js");
  const { LearnerDriver } = await import("../../worker/learner/index.js");
  const recipe = LOOKUP_PRIORS[options.prior];
  const zeroShotSearchRate = options.zeroShotSearchRate ?? ("zeroShotSearchRate" in recipe ? recipe.zeroShotSearchRate : undefined);
  // Written next to the target and renamed: a failed build leaves no half-trained file under its name.
  const partial = path.join(path.dirname(out), `.${path.basename(out)}.partial`);
  const started = performance.now();
  const learner = LearnerDriver.start();
  try {
    const results = await buildLookupModel({
      ...recipe,
      zeroShotSearchRate,
      seed: options.seed,
      out: partial,
      learner,
      tokenizer: options.tokenizer,
    });
    await rename(partial, out);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const info = {
      path: out,
      bytes: (await stat(out)).size,
      prior: options.prior,
      tokenizer: options.tokenizer,
      seed: options.seed,
      zeroShotSearchRate: zeroShotSearchRate ?? null,
      steps: results.map((r) => r.steps),
      seconds,
    };
    process.stdout.write(JSON.stringify(info) + "\n");
  } catch (error) {
    await rm(partial, { force: true });
    process.stderr.write(`icrl ${command}: ${(error as Error).message}\n`);
    process.exitCode = EXIT_FAILURE;
  } finally {
    await learner.shutdown();
  }
}

export function register(program: Command): void {
  const model = program.command("model").description("create and check GGUF model files");

  model
    .command("tiny")
    .description("write a small llama/qwen2/qwen3 GGUF with seeded random weights and a byte-level tokenizer")
    .requiredOption("-o, --out <file>", "output .gguf path")
    .option(
      "--arch <name>",
      `architecture: ${TINY_ARCHITECTURES.join(", ")} (qwen2 adds q/k/v biases, qwen3 q/k norms)`,
      oneOf("arch", TINY_ARCHITECTURES),
      "llama",
    )
    .option("--layers <n>", "transformer blocks", integer("layers"), 2)
    .option("--dim <n>", "embedding size", integer("dim"), 128)
    .option("--heads <n>", "attention heads", integer("heads"), 4)
    .option("--kv-heads <n>", "key/value heads (grouped-query attention)", integer("kv-heads"), 2)
    .option("--head-dim <n>", "per-head size (default dim / heads)", integer("head-dim"))
    .option("--ff <n>", "feed-forward size", integer("ff"), 384)
    .option("--context <n>", "context length", integer("context"), 2048)
    .option("--vocab <n>", "vocabulary size: filler tokens after the 259 byte and control tokens", integer("vocab"))
    .option("--rope-base <x>", "RoPE frequency base", positiveNumber("rope-base"))
    .option("--seed <n>", "weight seed (same options and seed give an identical file)", integer("seed"), 1)
    .option("--tied", "tie the output projection to the token embeddings (no output.weight)")
    .option("--f16", "store matrices as F16 instead of F32 (same as --type f16)")
    .option("--type <t>", `matrix storage type: ${TINY_WEIGHT_TYPES.join(", ")}`, oneOf("type", TINY_WEIGHT_TYPES))
    .option(
      "--std <x>",
      "initialise every matrix N(0, x), norms 1 + N(0, 0.1), output N(0, 3/sqrt(dim)) (default: 1/sqrt(fan-in), norms 1)",
      positiveNumber("std"),
    )
    .option("--embedding-std <x>", "standard deviation of the token embeddings", positiveNumber("embedding-std"))
    .addHelpText(
      "after",
      `
The vocabulary has the 256 bytes plus <|endoftext|>, <|im_start|>, <|im_end|> (control tokens), filler
tokens up to --vocab, and a ChatML chat template. The learner's tests use --std 0.08. Prints {"path", "bytes", "parameters", "vocabSize"} as JSON.
Exit codes: 0 ok, 1 the file could not be written, 2 bad options.`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT))
    .action((options: TinyOptions) => {
      try {
        if (options.f16 && options.type && options.type !== "f16") throw new RangeError("--f16 contradicts --type");
        const info = writeTinyModel({
          out: options.out!,
          arch: options.arch,
          layers: options.layers,
          dim: options.dim,
          heads: options.heads,
          kvHeads: options.kvHeads,
          headDim: options.headDim,
          ff: options.ff,
          context: options.context,
          vocabSize: options.vocab,
          ropeFreqBase: options.ropeBase,
          seed: options.seed,
          tiedEmbeddings: options.tied ?? false,
          weightType: options.type ?? (options.f16 ? "f16" : "f32"),
          std: options.std,
          embeddingStd: options.embeddingStd,
        });
        process.stdout.write(JSON.stringify(info) + "\n");
      } catch (error) {
        process.stderr.write(`icrl model tiny: ${(error as Error).message}\n`);
        process.exitCode = error instanceof RangeError ? EXIT_BAD_INPUT : EXIT_FAILURE;
      }
    });

  model
    .command("build")
    .description("write a GGUF of a published model shape with its real tokenizer and seeded random weights")
    .requiredOption("-o, --out <file>", "output .gguf path")
    .option("--shape <name>", `model shape: ${MODEL_SHAPE_NAMES.join(", ")}`, oneOf("shape", MODEL_SHAPE_NAMES), "tiny")
    .option(
      "--tokenizer <name>",
      `vocabulary and chat template: ${BUILD_TOKENIZERS.join(", ")} (default: the shape's own; tiny: byte)`,
      oneOf("tokenizer", BUILD_TOKENIZERS),
    )
    .option(
      "--type <t>",
      `matrix storage type: ${BUILD_WEIGHT_TYPES.join(", ")} (default f16; f32 with --pretrain)`,
      oneOf("type", BUILD_WEIGHT_TYPES),
    )
    .option("--seed <n>", "weight seed (same options and seed give an identical file)", integer("seed"), 1)
    .option(
      "--pretrain <task>",
      `pre-train the tiny shape instead of leaving it random: ${PRETRAIN_TASKS.join(", ")} (the demo's base, as icrl model lookup --prior demo)`,
      oneOf("pretrain", PRETRAIN_TASKS),
    )
    .addHelpText(
      "after",
      `
Shapes have the published hyper-parameters (layers, sizes, heads, tied output, RoPE base, context, embedding
rows incl. padding); tiny is 2 layers x 128 with the tokenizer's architecture (byte: llama, qwen2.5: qwen2,
qwen3: qwen3, llama3: llama). Weights are written in blocks as they are generated: a 7B shape needs ~15 GB
of disk, not of memory. Prints {"path", "bytes", "parameters", "vocabSize", "shape", "tokenizer", "type",
"seconds", "mbPerSecond"} as JSON.
--pretrain lookup (tiny only, F32) pre-trains the weights on the lookup task's episodes with the learner
(python3 with torch), with the chosen vocabulary and its chat template, e.g.
  icrl model build --tokenizer qwen3 --pretrain lookup -o .icrl/models/lookup-qwen3.gguf
and prints what icrl model lookup prints; icrl model lookup has the other priors.
Exit codes: 0 ok, 1 the file could not be written, 2 bad options, 9 torch is missing (--pretrain).`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT))
    .action(
      async (options: {
        out: string;
        shape: ModelShapeName;
        tokenizer?: BuildTokenizer;
        type?: BuildWeightType;
        seed: number;
        pretrain?: PretrainTask;
      }) => {
        if (options.pretrain) {
          // Pre-training rewrites F32/F16 tensors in float32 over a few hundred steps: it is made for the
          // tiny shape, and its file is the one the learning tests train (F32).
          const refuse = (why: string) => {
            process.stderr.write(`icrl model build: ${why}\n`);
            process.exit(EXIT_BAD_INPUT);
          };
          if (options.shape !== "tiny") refuse(`--pretrain ${options.pretrain} builds the tiny shape only; drop --shape ${options.shape}`);
          if (options.type !== undefined && options.type !== "f32") refuse(`--pretrain writes F32 weights; drop --type ${options.type}`);
          await writeLookupBase("model build", { out: options.out, prior: "demo", seed: options.seed, tokenizer: options.tokenizer ?? "byte" });
          return;
        }
        try {
          const info = buildModel({
            out: options.out,
            shape: options.shape,
            tokenizer: options.tokenizer,
            type: options.type ?? "f16",
            seed: options.seed,
          });
          process.stdout.write(JSON.stringify(info) + "\n");
        } catch (error) {
          process.stderr.write(`icrl model build: ${(error as Error).message}\n`);
          process.exitCode = error instanceof RangeError ? EXIT_BAD_INPUT : EXIT_FAILURE;
        }
      },
    );

  model
    .command("lookup")
    .description("pre-train the lookup task's tiny base model (the demo's) with a chosen prior for using the search tool")
    .requiredOption("-o, --out <file>", "output .gguf path")
    .option("--prior <name>", `pre-training recipe: ${LOOKUP_PRIOR_NAMES.join(", ")}`, oneOf("prior", LOOKUP_PRIOR_NAMES), "demo")
    .option(
      "--zero-shot-search-rate <share>",
      "share of the zero-shot pre-training episodes that search, 0 to 1 (default: the recipe's)",
      share("zero-shot-search-rate"),
    )
    .option("--seed <n>", "builder seed: weights, episodes, batches (same options and seed give an identical file)", integer("seed"), 1)
    .option(
      "--tokenizer <name>",
      `vocabulary and chat template: ${BUILD_TOKENIZERS.join(", ")} (byte: the demo's model; the others on icrl model build's tiny shape)`,
      oneOf("tokenizer", BUILD_TOKENIZERS),
      "byte",
    )
    .addHelpText(
      "after",
      `
Priors: demo is the demo's and the learning test's base (at seed 1 it searches in 4% of zero-shot samples and
20% of 3-shot ones; other seeds differ widely); never-searching practically never searches without worked
examples (0 of 256 samples at seeds 1-3) but does with them (76-99%), so zero-shot tool use has to come from
training (BENCHMARKS.md, "lookup-prior"); two-hop is the demo's recipe on episodes of which half take two
searches (the two-hop task of REPLICATION.md; --zero-shot-search-rate does not apply to it).
With a real tokenizer only the output rows of the tokens the episodes use are trained, the others written as
zeros (exact at the full vocabulary: BENCHMARKS.md, "learning").
Pre-training runs the learner (python3 with torch) on one thread: 1-8 minutes. Prints {"path", "bytes",
"prior", "tokenizer", "seed", "zeroShotSearchRate", "steps", "seconds"} as JSON.
Exit codes: 0 ok, 1 the build failed, 2 bad options, 9 torch is missing (see icrl doctor).`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT))
    .action(async (options: { out: string; prior: LookupPrior; zeroShotSearchRate?: number; seed: number; tokenizer: BuildTokenizer }) => {
      if (options.prior === "two-hop" && options.zeroShotSearchRate !== undefined) {
        process.stderr.write(
          "icrl model lookup: --zero-shot-search-rate applies to the one-hop priors (demo, never-searching), not two-hop; drop it.\n",
        );
        process.exit(EXIT_BAD_INPUT);
      }
      await writeLookupBase("model lookup", options);
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

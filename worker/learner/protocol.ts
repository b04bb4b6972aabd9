// Request and response shapes of the learner's line-delimited JSON protocol (icrl_learner/server.py).
// Names are snake_case because they are the wire format.

export interface LoraOptions {
  rank?: number;
  alpha?: number;
  /** Short names q, k, v, o, gate, up, down (HF q_proj... and GGUF attn_q... names are accepted too). */
  targets?: string[];
}

/** GRPO and AdamW settings; every field is optional (defaults in icrl_learner/grpo.py). */
export interface OptimOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weight_decay?: number;
  warmup_steps?: number;
  grad_clip?: number;
  clip_ratio_low?: number;
  clip_ratio_high?: number;
  /** Dual clip for negative advantages; null disables it. */
  clip_ratio_c?: number | null;
  kl_coef?: number;
  entropy_coef?: number;
  epochs?: number;
  /** Sequences per optimizer update; 0 = the whole batch. */
  mini_batch_size?: number;
  /** Padded tokens per forward/backward (memory only; the result is the same). */
  micro_batch_tokens?: number;
  shuffle?: boolean;
}

export interface InitParams {
  model_path: string;
  lora?: LoraOptions;
  optim?: OptimOptions;
  device?: "auto" | "cpu" | "cuda" | `cuda:${number}`;
  dtype?: "float32" | "bfloat16" | "float16";
  seed?: number;
  threads?: number;
  gradient_checkpointing?: boolean;
  /**
   * Positions whose full-vocabulary logits are computed at a time, forward and backward (default 512;
   * 0 = all at once). Memory only: log-probs and gradients are the same.
   */
  logprob_chunk?: number;
}

export interface InitResult {
  device: string;
  dtype: string;
  arch: "llama" | "qwen2" | "qwen3";
  n_params: number;
  trainable_params: number;
  vocab_size: number;
  context_length: number;
  n_layer: number;
  threads: number;
  lora: Required<LoraOptions>;
  optim: Required<OptimOptions>;
  torch_version: string;
}

export interface TrainingSample {
  tokens: number[];
  /** One 0/1 per token: 1 trains the token (model-generated text); mask[0] must be 0. */
  mask: number[];
  advantage: number;
}

export interface StepMetrics {
  loss: number;
  pg_loss: number;
  kl: number;
  entropy: number;
  clip_frac: number;
  ppo_kl: number;
  /** null when the gradient was not finite (the update was skipped). */
  grad_norm: number | null;
  lr: number;
  tokens: number;
  updates: number;
  skipped_updates: number;
  step_time_s: number;
  step: number;
}

export interface LogprobsParams {
  sequences: number[][];
  /** policy (default), reference (the KL reference) or base (the GGUF weights alone). */
  mode?: "policy" | "reference" | "base";
}

export interface ExportResult {
  path: string;
  bytes: number;
  sha256: string;
  tensors: number;
  rank: number;
  alpha: number;
}

export interface PretrainParams {
  sequences: number[][];
  masks?: number[][];
  steps?: number;
  lr?: number;
}

export interface PretrainResult {
  loss_before: number;
  loss_after: number;
  steps: number;
  tokens: number;
  time_s: number;
}

/** Full-parameter pre-training of a small F32/F16 model into a new GGUF (base_pretrain.py); no init needed. */
export interface PretrainBaseParams {
  model_path: string;
  out_path: string;
  sequences: number[][];
  masks?: number[][];
  steps?: number;
  lr?: number;
  batch_size?: number;
  seed?: number;
  threads?: number;
  /**
   * "zero": train only the rows of tokens the sequences use and write the others as zeros, so the
   * loss over the seen rows is exactly the full vocabulary's (icrl_learner/seen_vocabulary.py).
   * Default "keep": every row trained.
   */
  unseen_rows?: "keep" | "zero";
}

export interface PretrainBaseResult {
  steps: number;
  loss_first: number;
  loss_last: number;
  params: number;
  /** Output rows trained: the vocabulary, or with unseen_rows "zero" the tokens the data uses. */
  seen_tokens: number;
  time_s: number;
}

export interface BenchParams {
  batch_size?: number;
  seq_len?: number;
  prompt_len?: number;
  iterations?: number;
  warmup?: number;
  seed?: number;
}

export interface BenchResult {
  device: string;
  threads: number;
  batch_size: number;
  seq_len: number;
  trained_tokens_per_step: number;
  step_s: number;
  torch_step_s: number;
  tokens_per_s: number;
  torch_tokens_per_s: number;
  ratio_vs_torch: number;
  tokens_per_s_without_kl: number;
  ratio_vs_torch_without_kl: number;
}

export interface LearnerMethods {
  init: [InitParams, InitResult];
  info: [Record<string, never>, InitResult];
  logprobs: [LogprobsParams, { logprobs: number[][] }];
  step: [{ batch: TrainingSample[]; lr_scale?: number }, StepMetrics];
  pretrain: [PretrainParams, PretrainResult];
  pretrain_base: [PretrainBaseParams, PretrainBaseResult];
  reset: [{ optimizer?: boolean; reference?: boolean }, { optimizer: boolean; reference: boolean }];
  export_adapter: [{ path: string; dtype?: "f32" | "f16"; permute_qk?: boolean }, ExportResult];
  save_state: [{ path: string }, { path: string; bytes: number; step: number }];
  load_state: [{ path: string }, { path: string; step: number }];
  bench: [BenchParams, BenchResult];
  ping: [Record<string, never>, { pong: true }];
  shutdown: [Record<string, never>, { bye: true }];
  _debug: [
    { action: "exit" | "sleep" | "garbage" | "stdout_print" | "raise" | "allocate"; code?: number; seconds?: number; bytes?: number },
    unknown,
  ];
}

export type LearnerMethod = keyof LearnerMethods;

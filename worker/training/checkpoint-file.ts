// One checkpoint = one file: a JSON header (trainer state: step, curriculum, sampler, RNG seeds)
// followed by the learner's own state file (adapter weights, optimizer, step) as raw bytes.
//   bytes 0-7: "ICRLCKPT"   8-11: header length (u32 LE)   then the header JSON, then learner bytes.
import { readFile, writeFile } from "node:fs/promises";

const MAGIC = Buffer.from("ICRLCKPT");

export interface TrainerCheckpoint {
  version: 1;
  step: number;
  curriculum: unknown;
  sampler: { epoch: number; position: number };
  /** Sampling seed state for rollouts: derived from (run seed, step), stored for clarity. */
  rolloutSeed: number;
  adapterVersion: number;
  /**
   * Metrics of the checkpointed step that are logged after the checkpoint is stored (its upload and
   * step timings, here measured up to the checkpoint's writing). A run resuming from this checkpoint
   * logs them again; the server keeps the first point per (key, step), so they only fill the gap when
   * the worker died before the exact values were delivered.
   */
  lateMetrics?: Record<string, number>;
}

export async function writeCheckpointFile(file: string, header: TrainerCheckpoint, learnerStateFile: string): Promise<void> {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  await writeFile(file, Buffer.concat([MAGIC, len, json, await readFile(learnerStateFile)]));
}

function parseHeader(buf: Buffer, file: string): { header: TrainerCheckpoint; end: number } {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) throw new Error(`${file} is not an ICRL checkpoint`);
  const len = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + len).toString("utf8")) as TrainerCheckpoint;
  if (header.version !== 1) throw new Error(`unsupported checkpoint version ${header.version}`);
  return { header, end: 12 + len };
}

/** The trainer state of a checkpoint file, without extracting the learner's state. */
export async function readCheckpointHeader(file: string): Promise<TrainerCheckpoint> {
  return parseHeader(await readFile(file), file).header;
}

export async function readCheckpointFile(file: string, learnerStateFile: string): Promise<TrainerCheckpoint> {
  const buf = await readFile(file);
  const { header, end } = parseHeader(buf, file);
  await writeFile(learnerStateFile, buf.subarray(end));
  return header;
}

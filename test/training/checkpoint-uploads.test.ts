// CheckpointUploads: the loop hands a checkpoint over and goes on while it is stored; one is stored at
// a time, a newer one replaces one still waiting, and a failure fails the next hand-over and settle().
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CheckpointFiles, CheckpointUploads } from "../../worker/training/checkpoint-uploads.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "icrl-ckpt-uploads-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The loop's own files for a step, as saveCheckpoint leaves them. */
function loopFiles(step: number): CheckpointFiles {
  const adapter = path.join(dir, `adapter-${step}.gguf`);
  const checkpoint = path.join(dir, `checkpoint-${step}.icrl`);
  writeFileSync(adapter, `adapter ${step}`);
  writeFileSync(checkpoint, `checkpoint ${step}`);
  return { adapter, checkpoint };
}

describe("CheckpointUploads", () => {
  it("returns before the checkpoint is stored, stores one at a time, and a newer one replaces one still waiting", async () => {
    const calls: { step: number; contents: string[]; done: ReturnType<typeof deferred> }[] = [];
    const replaced: [number, number][] = [];
    const queue = new CheckpointUploads(
      path.join(dir, "queue"),
      (step, files) => {
        const done = deferred();
        calls.push({ step, contents: [readFileSync(files.adapter, "utf8"), readFileSync(files.checkpoint, "utf8")], done });
        return done.promise;
      },
      (dropped, by) => replaced.push([dropped, by]),
    );
    for (const step of [1, 2, 3]) {
      const files = loopFiles(step);
      await queue.handOver(step, files); // returns while step 1 is still being stored
      rmSync(files.checkpoint); // the loop deletes its own checkpoint file at once
    }
    expect(calls.map((c) => c.step)).toEqual([1]);
    expect(replaced).toEqual([[2, 3]]);
    let settled = false;
    const settling = queue.settle().then(() => (settled = true));
    calls[0].done.resolve();
    const deadline = Date.now() + 10_000;
    while (calls.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(calls.map((c) => c.step)).toEqual([1, 3]);
    expect(calls[1].contents).toEqual(["adapter 3", "checkpoint 3"]);
    expect(settled).toBe(false);
    calls[1].done.resolve();
    await settling;
    expect(readdirSync(path.join(dir, "queue"))).toEqual([]); // stored files are not kept
    await queue.abandon();
    expect(existsSync(path.join(dir, "queue"))).toBe(false);
  });

  it("a failed store fails the next hand-over and settle(), and stores nothing more", async () => {
    const stored: number[] = [];
    const first = deferred();
    const queue = new CheckpointUploads(path.join(dir, "queue"), (step) => {
      stored.push(step);
      return step === 1 ? first.promise : Promise.resolve();
    });
    await queue.handOver(1, loopFiles(1));
    await queue.handOver(2, loopFiles(2));
    first.reject(new Error("artifact storage is full on the server"));
    await expect(queue.settle()).rejects.toThrow(/storage is full/);
    expect(stored).toEqual([1]);
    await expect(queue.handOver(3, loopFiles(3))).rejects.toThrow(/storage is full/);
    await queue.abandon();
  });
});

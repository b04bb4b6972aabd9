// Adapter artifacts downloaded once per worker and checked against the sha256 the server recorded.
// Files are named by artifact id and only appear under their final name after their hash matched
// (write to a temp file, verify, rename), so a crash or a concurrent worker never sees a partial file.
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import type { IcrlClient } from "../../client-sdk/src/index.js";
import { IcrlApiError, IcrlNetworkError, retryTransient, type RetryOptions } from "../../client-sdk/src/index.js";
import { JobInputError } from "./errors.js";

export interface ArtifactRef {
  id: string;
  sha256: string;
  downloadPath: string;
  name?: string;
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export class AdapterCache {
  constructor(
    private readonly dir: string,
    private readonly client: IcrlClient,
  ) {}

  pathFor(id: string): string {
    return path.join(this.dir, `${id}.gguf`);
  }

  /** The local path of the artifact's verified file, downloading it when needed. */
  /** `what` names the artifact in errors ("Checkpoint artifact" for a checkpoint). */
  async fetch(ref: ArtifactRef, retry: RetryOptions = {}, what = "Adapter artifact"): Promise<string> {
    if (!/^[0-9a-f-]{36}$/i.test(ref.id)) throw new JobInputError(`${what} id ${JSON.stringify(ref.id)} is not a valid id.`);
    const target = this.pathFor(ref.id);
    const expected = ref.sha256.toLowerCase();
    if (fs.existsSync(target)) {
      if ((await sha256OfFile(target)) === expected) return target;
      fs.rmSync(target, { force: true }); // corrupted on disk: fetch again
    }
    fs.mkdirSync(this.dir, { recursive: true });
    // A download cut short surfaces as a hash mismatch or a network error; both are retried a few times.
    let mismatches = 0;
    for (;;) {
      const temp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.part`;
      try {
        const actual = await retryTransient(() => this.download(ref.downloadPath, temp, what), retry);
        if (actual === expected) {
          fs.renameSync(temp, target);
          return target;
        }
        if (++mismatches >= 3) {
          throw new JobInputError(`${what} ${ref.id} downloaded with sha256 ${actual}, but the server recorded ${expected}.`);
        }
      } finally {
        fs.rmSync(temp, { force: true });
      }
    }
  }

  private async download(downloadPath: string, file: string, what: string): Promise<string> {
    let res: Response;
    try {
      res = await this.client.http(downloadPath);
    } catch (error) {
      throw new IcrlNetworkError(`Cannot download ${downloadPath}: ${(error as Error).message}`, { cause: error });
    }
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      const code = body?.error?.code ?? (res.status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
      const message = body?.error?.message ?? `HTTP ${res.status}`;
      if (res.status === 404 || res.status === 410) throw new JobInputError(`${what} at ${downloadPath} is not available: ${message}`);
      throw new IcrlApiError([{ message: `Download of ${downloadPath} failed: ${message}`, extensions: { code } }], res.status);
    }
    const hash = createHash("sha256");
    const out = fs.createWriteStream(file, { mode: 0o600 });
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        if (!out.write(chunk)) await once(out, "drain");
      }
    } catch (error) {
      out.destroy();
      throw new IcrlNetworkError(`Download of ${downloadPath} was cut short: ${(error as Error).message}`, { cause: error });
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return hash.digest("hex");
  }
}

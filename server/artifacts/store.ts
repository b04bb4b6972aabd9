// Content-addressed artifact files on local disk. Uploads stream to a temporary file while being
// hashed (never buffered in memory), are checked against the size limit and the declared sha256,
// and only then renamed into place, so a failed upload never leaves a visible artifact. A full disk
// is told apart from other failures (507 STORAGE_FULL naming the directory): it is the operator's to fix.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

export class ArtifactRejected extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ArtifactStoreOptions {
  /** Opens the temporary file an upload is written to (a seam for tests that need a disk to fill up). */
  openTempFile?: (file: string) => Writable;
}

const isDiskFull = (err: unknown) => ["ENOSPC", "EDQUOT"].includes((err as NodeJS.ErrnoException)?.code ?? "");

export class ArtifactStore {
  private readonly openTempFile: (file: string) => Writable;

  constructor(
    private dir: string,
    options: ArtifactStoreOptions = {},
  ) {
    this.openTempFile = options.openTempFile ?? ((file) => createWriteStream(file));
  }

  private storageFull(err: unknown): ArtifactRejected {
    return new ArtifactRejected(
      507,
      "STORAGE_FULL",
      `The server's artifact directory ${this.dir} is full (${(err as NodeJS.ErrnoException).code}); nothing was stored. ` +
        "Free space there or move ICRL_ARTIFACT_DIR to a larger disk, then resume the run.",
    );
  }

  async init(): Promise<void> {
    await mkdir(path.join(this.dir, "tmp"), { recursive: true });
    await mkdir(path.join(this.dir, "objects"), { recursive: true });
  }

  pathOf(storageKey: string): string {
    return path.join(this.dir, "objects", storageKey);
  }

  async save(body: Readable, options: { expectedSha256?: string; maxBytes: number }): Promise<{ storageKey: string; sha256: string; bytes: number }> {
    const tmp = path.join(this.dir, "tmp", randomUUID());
    const hash = createHash("sha256");
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > options.maxBytes) {
          cb(new ArtifactRejected(413, "PAYLOAD_TOO_LARGE", `Artifact is larger than the limit of ${options.maxBytes} bytes.`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, this.openTempFile(tmp));
    } catch (err) {
      await rm(tmp, { force: true });
      throw isDiskFull(err) ? this.storageFull(err) : err;
    }
    const sha256 = hash.digest("hex");
    if (options.expectedSha256 && options.expectedSha256.toLowerCase() !== sha256) {
      await rm(tmp, { force: true });
      throw new ArtifactRejected(
        400,
        "BAD_USER_INPUT",
        `sha256 mismatch: declared ${options.expectedSha256}, received ${sha256}. The upload was discarded.`,
      );
    }
    const storageKey = path.join(sha256.slice(0, 2), sha256);
    try {
      await mkdir(path.dirname(this.pathOf(storageKey)), { recursive: true });
      await rename(tmp, this.pathOf(storageKey));
    } catch (err) {
      await rm(tmp, { force: true });
      throw isDiskFull(err) ? this.storageFull(err) : err;
    }
    return { storageKey, sha256, bytes };
  }

  async open(storageKey: string): Promise<{ stream: Readable; bytes: number } | null> {
    const p = this.pathOf(storageKey);
    const st = await stat(p).catch(() => null);
    if (!st) return null;
    return { stream: createReadStream(p), bytes: st.size };
  }
}

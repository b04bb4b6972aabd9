// Streams GET /artifacts/:id to a file with a progress bar on stderr. The bytes go to FILE.part and
// are hashed on the way; only a file whose sha256 matches the server's record is renamed into place,
// so an interrupted or corrupted download never leaves a file that looks complete.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type ArtifactFieldsFragment, type IcrlClient, IcrlNetworkError } from "../../client-sdk/src/index.js";
import { badInput, CliError, EXIT, exitCodeForApiCode } from "./exit-codes.js";
import { ProgressBar } from "./progress-bar.js";

/** Where the artifact goes: `out` itself, or the artifact's name inside `out` when that is a directory (default: here). */
export async function downloadTarget(artifact: Pick<ArtifactFieldsFragment, "name">, out: string | undefined, force: boolean): Promise<string> {
  const outInfo = out ? await stat(out).catch(() => null) : null;
  const target = !out || outInfo?.isDirectory() ? path.join(out ?? ".", path.basename(artifact.name)) : out;
  const existing = await stat(target).catch(() => null);
  if (existing && !force) throw badInput(`${target} already exists; add --force to replace it, or choose another path with -o.`);
  const dir = await stat(path.dirname(target)).catch(() => null);
  if (!dir?.isDirectory()) throw badInput(`Cannot write ${target}: ${path.dirname(target)} is not a directory.`);
  return target;
}

export async function downloadArtifact(
  client: IcrlClient,
  artifact: Pick<ArtifactFieldsFragment, "id" | "sha256" | "bytes" | "downloadPath">,
  target: string,
  options: { progress?: boolean } = {},
): Promise<void> {
  let res: Response;
  try {
    res = await client.http(artifact.downloadPath, { method: "GET" });
  } catch (err) {
    throw new IcrlNetworkError(`Cannot reach ${client.baseUrl}: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    const code = body?.error?.code ?? (res.status === 401 ? "UNAUTHENTICATED" : res.status === 403 ? "FORBIDDEN" : "INTERNAL_SERVER_ERROR");
    throw new CliError(`Download failed: ${body?.error?.message ?? `HTTP ${res.status}`}`, exitCodeForApiCode(code), [], code);
  }
  const total = Number(artifact.bytes);
  const bar = options.progress === false ? null : new ProgressBar("downloading", total);
  bar?.update(0);
  const hash = createHash("sha256");
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      received += chunk.length;
      bar?.update(received);
      done(null, chunk);
    },
  });
  const part = `${target}.part`;
  try {
    await pipeline(Readable.fromWeb(res.body as never), meter, createWriteStream(part));
    const sha256 = hash.digest("hex");
    if (sha256 !== artifact.sha256) {
      throw new CliError(
        `Download of artifact ${artifact.id} is corrupt (sha256 ${sha256}, expected ${artifact.sha256}); nothing was written.`,
        EXIT.FAILED,
      );
    }
    await rename(part, target);
  } catch (err) {
    await rm(part, { force: true });
    if (err instanceof CliError) throw err;
    throw new CliError(`Download of artifact ${artifact.id} failed: ${(err as Error).message}; nothing was written.`, EXIT.FAILED);
  }
  bar?.finish(received);
}

// Streams a file to POST /artifacts: hashed first (the server verifies the sha256 and stores
// nothing on a mismatch), then sent chunk by chunk with a progress bar on stderr. Memory stays
// flat whatever the file size.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { type IcrlClient, IcrlNetworkError } from "../../client-sdk/src/index.js";
import { badInput, CliError, exitCodeForApiCode } from "./exit-codes.js";
import { ProgressBar } from "./progress-bar.js";

export interface UploadedArtifact {
  id: string;
  kind: string;
  name: string;
  sha256: string;
  bytes: number;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function* withProgress(file: string, bar: ProgressBar | null): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    sent += (chunk as Buffer).length;
    bar?.update(sent);
    yield chunk as Buffer;
  }
}

export async function uploadArtifact(
  client: IcrlClient,
  file: string,
  options: { kind: "DATASET" | "REPORT" | "ADAPTER" | "CHECKPOINT"; name: string; progress?: boolean },
): Promise<UploadedArtifact> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw badInput(`Cannot read ${file}: not a file.`);
  const sha256 = await sha256Of(file);
  const bar = options.progress === false ? null : new ProgressBar("uploading", info.size);
  bar?.update(0);
  const query = new URLSearchParams({ kind: options.kind, name: options.name, sha256 });
  let res: Response;
  try {
    res = await client.http(`/artifacts?${query}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "content-length": String(info.size) },
      body: withProgress(file, bar) as unknown as BodyInit,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
  } catch (err) {
    throw new IcrlNetworkError(`Cannot reach ${client.baseUrl}: ${(err as Error).message}`, { cause: err });
  }
  const body = (await res.json().catch(() => null)) as (UploadedArtifact & { error?: { code: string; message: string } }) | null;
  if (!res.ok || !body || body.error) {
    const code = body?.error?.code ?? (res.status === 401 ? "UNAUTHENTICATED" : res.status === 403 ? "FORBIDDEN" : "INTERNAL_SERVER_ERROR");
    throw new CliError(`Upload failed: ${body?.error?.message ?? `HTTP ${res.status}`}`, exitCodeForApiCode(code), [], code);
  }
  bar?.finish(info.size);
  return body;
}

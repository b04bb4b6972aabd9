// Streams a file to POST /artifacts for a job this worker holds, with its sha256 so the server
// verifies what it stored.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { IcrlClient } from "../../client-sdk/src/index.js";

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function uploadArtifact(
  client: IcrlClient,
  options: { jobId: string; kind: "ADAPTER" | "CHECKPOINT" | "REPORT"; name: string; step?: number; file: string; signal?: AbortSignal },
): Promise<{ id: string; sha256: string; bytes: number }> {
  const sha256 = await sha256File(options.file);
  const { size } = await stat(options.file);
  const query = new URLSearchParams({ kind: options.kind, name: options.name, jobId: options.jobId, sha256 });
  if (options.step != null) query.set("step", String(options.step));
  const res = await client.http(`/artifacts?${query}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "content-length": String(size) },
    body: Readable.toWeb(createReadStream(options.file)) as never,
    duplex: "half",
    signal: options.signal,
  } as RequestInit);
  const body = (await res.json().catch(() => ({}))) as { id?: string; error?: { code: string; message: string } };
  if (!res.ok || !body.id) {
    const err = new Error(`artifact upload failed (HTTP ${res.status}): ${body.error?.message ?? "no body"}`) as Error & {
      status: number;
      code?: string;
    };
    err.status = res.status;
    err.code = body.error?.code;
    throw err;
  }
  return { id: body.id, sha256, bytes: size };
}

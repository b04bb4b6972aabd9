// HTTP endpoints beside /graphql for artifact bytes:
//   POST /artifacts?kind=ADAPTER&name=...&step=...&sha256=...&jobId=...   (body: the file, streamed)
//   GET  /artifacts/:id
// Same bearer keys as GraphQL. Workers upload only for jobs they hold (the run comes from the job) and
// download only what those jobs need (worker-read-scope.ts).
import express, { type Request, type Response } from "express";
import { bearerToken, type Principal } from "../auth/authenticate.js";
import { assertHoldsJob } from "../jobs/queue.js";
import type { Services } from "../graphql/context.js";
import { ArtifactRejected } from "./store.js";
import { WORKER_READ_RULE, workerMayRead } from "./worker-read-scope.js";

const KINDS = ["ADAPTER", "CHECKPOINT", "REPORT", "DATASET"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fail(res: Response, status: number, code: string, message: string, extra: Record<string, string> = {}) {
  res.status(status).json({ error: { code, message, ...extra } });
}

/** What the uploader says about the file (a checkpoint's model and LoRA shape); small, an object. */
const MAX_METADATA_CHARS = 4096;
const INVALID = Symbol("invalid metadata");

function parseMetadata(raw: string | undefined): Record<string, unknown> | null | typeof INVALID {
  if (raw === undefined || raw === "") return null;
  if (raw.length > MAX_METADATA_CHARS) return INVALID;
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : INVALID;
  } catch {
    return INVALID;
  }
}

export function artifactRouter(services: Services): express.Router {
  const router = express.Router();

  const authenticate = async (req: Request, res: Response): Promise<Principal | null> => {
    const principal = await services.auth.resolve(bearerToken(req.header("authorization")));
    if (!principal) fail(res, 401, "UNAUTHENTICATED", "Missing or invalid API key: send `Authorization: Bearer <key>`.");
    return principal;
  };

  router.post("/artifacts", async (req, res) => {
    try {
      const principal = await authenticate(req, res);
      if (!principal) return;
      const q = req.query as Record<string, string | undefined>;
      const kind = (q.kind ?? "").toUpperCase();
      if (!KINDS.includes(kind)) return fail(res, 400, "BAD_USER_INPUT", `kind must be one of ${KINDS.join(", ")}.`);
      const name = (q.name ?? "").trim();
      if (!name || name.length > 300) return fail(res, 400, "BAD_USER_INPUT", "name is required (1 to 300 characters).");
      const step = q.step != null ? Number(q.step) : null;
      if (step != null && !Number.isInteger(step)) return fail(res, 400, "BAD_USER_INPUT", "step must be an integer.");
      if (q.sha256 && !/^[0-9a-f]{64}$/i.test(q.sha256)) return fail(res, 400, "BAD_USER_INPUT", "sha256 must be 64 hex characters.");
      const metadata = parseMetadata(q.metadata);
      if (metadata === INVALID)
        return fail(
          res,
          400,
          "BAD_USER_INPUT",
          `metadata must be a JSON object of at most ${MAX_METADATA_CHARS} characters (URL-encoded in the query).`,
        );
      let runId: string | null = null;
      if (principal.role === "WORKER") {
        if (!principal.workerId || !q.jobId || !UUID.test(q.jobId))
          return fail(res, 403, "FORBIDDEN", "Workers upload with jobId= of a job they hold.");
        const job = await assertHoldsJob(services.pool, q.jobId, principal.workerId).catch(() => null);
        if (!job) return fail(res, 403, "FORBIDDEN", `This worker does not hold job ${q.jobId}.`);
        runId = job.run_id;
      } else if (q.runId) {
        if (!UUID.test(q.runId)) return fail(res, 400, "BAD_USER_INPUT", "runId is not a valid id.");
        if (!(await services.prisma.run.findUnique({ where: { id: q.runId } }))) return fail(res, 404, "NOT_FOUND", `Run ${q.runId} does not exist.`);
        runId = q.runId;
      }
      const declared = Number(req.header("content-length") ?? NaN);
      if (Number.isFinite(declared) && declared > services.config.maxArtifactBytes) {
        return fail(res, 413, "PAYLOAD_TOO_LARGE", `Artifact is ${declared} bytes; the limit is ${services.config.maxArtifactBytes}.`);
      }
      const saved = await services.artifacts.save(req, { expectedSha256: q.sha256, maxBytes: services.config.maxArtifactBytes });
      const artifact = await services.prisma.artifact.create({
        data: {
          kind: kind as never,
          name,
          runId,
          step,
          sha256: saved.sha256,
          bytes: BigInt(saved.bytes),
          storageKey: saved.storageKey,
          ...(metadata ? { metadata: metadata as never } : {}),
        },
      });
      res
        .status(201)
        .json({ id: artifact.id, kind, name, runId, step, sha256: saved.sha256, bytes: saved.bytes, downloadPath: `/artifacts/${artifact.id}` });
    } catch (err) {
      if (err instanceof ArtifactRejected) {
        if (err.code === "STORAGE_FULL") services.logger.error({ err: err.message }, "artifact upload refused: the artifact directory is full");
        // Stop reading a body we have rejected; the client gets the answer right away.
        res.setHeader("Connection", "close");
        return fail(res, err.status, err.code, err.message);
      }
      services.logger.error({ err }, "artifact upload failed");
      if (!res.headersSent) fail(res, 500, "INTERNAL_SERVER_ERROR", "Upload failed; nothing was stored.");
    }
  });

  router.get("/artifacts/:id", async (req, res) => {
    try {
      const principal = await authenticate(req, res);
      if (!principal) return;
      const id = String(req.params.id);
      if (!UUID.test(id)) return fail(res, 400, "BAD_USER_INPUT", "Artifact id is not a valid id.");
      const artifact = await services.prisma.artifact.findUnique({ where: { id } });
      if (!artifact) return fail(res, 404, "NOT_FOUND", `Artifact ${id} does not exist.`);
      if (principal.role === "WORKER" && !(await workerMayRead(services.pool, principal.workerId, artifact))) {
        return fail(res, 403, "FORBIDDEN", `Artifact ${id} is not readable with this key: ${WORKER_READ_RULE}.`, { rule: WORKER_READ_RULE });
      }
      const file = await services.artifacts.open(artifact.storageKey);
      if (!file) return fail(res, 410, "NOT_FOUND", `Artifact ${id} is recorded but its file is missing from the store.`);
      res.setHeader("Content-Type", "application/octet-stream");
      res.setHeader("Content-Length", String(file.bytes));
      res.setHeader("ETag", `"${artifact.sha256}"`);
      res.setHeader("X-Artifact-Sha256", artifact.sha256);
      res.setHeader("Content-Disposition", `attachment; filename="${encodeURIComponent(artifact.name)}"`);
      file.stream.pipe(res);
    } catch (err) {
      services.logger.error({ err }, "artifact download failed");
      if (!res.headersSent) fail(res, 500, "INTERNAL_SERVER_ERROR", "Download failed.");
    }
  });

  return router;
}

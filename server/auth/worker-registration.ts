// Registering a worker. A worker that sends the instance id it keeps in its data directory is the
// same worker every time it starts: its row is updated and set ONLINE instead of a new row being
// added, so a restart does not leave a dead twin in `icrl worker list`. It gets a fresh token (the
// old one died with the process). Older tokens are not revoked: two processes started on one data
// directory are one worker to the server, and neither may lock the other out.
import type { PrismaClient } from "../generated/prisma/client.js";
import { badInput } from "../errors.js";
import { createApiKey } from "./keys.js";

const INSTANCE_ID = /^[A-Za-z0-9_-]{8,100}$/;

export async function registerWorkerRow(prisma: PrismaClient, input: { name: string; capabilities: object; instanceId?: string | null }) {
  const { name, capabilities, instanceId } = input;
  if (instanceId != null && !INSTANCE_ID.test(instanceId)) {
    throw badInput("instanceId must be 8 to 100 letters, digits, - or _ (the worker generates one in its data directory).");
  }
  const worker =
    instanceId == null
      ? await prisma.worker.create({ data: { name, capabilities } })
      : await prisma.worker.upsert({
          where: { instanceId },
          create: { name, capabilities, instanceId },
          update: { name, capabilities, status: "ONLINE", lastSeenAt: new Date() },
        });
  const { secret } = await createApiKey(prisma, { name: `worker ${worker.name}`, role: "WORKER", workerId: worker.id });
  return { worker, token: secret };
}

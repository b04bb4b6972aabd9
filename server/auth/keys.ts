// API keys: random secrets shown once, stored as SHA-256 hashes (the secrets are 256-bit random, so a
// fast hash is enough; no password stretching needed). The prefix lets people recognise a key.
import { createHash, randomBytes } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Role } from "../generated/prisma/enums.js";

const PREFIX = "icrl_";

export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, PREFIX.length + 6);
}

export async function createApiKey(prisma: PrismaClient, input: { name: string; role: Role; workerId?: string; secret?: string }) {
  const secret = input.secret ?? generateSecret();
  const apiKey = await prisma.apiKey.create({
    data: { name: input.name, role: input.role, workerId: input.workerId, prefix: displayPrefix(secret), hash: hashSecret(secret) },
  });
  return { apiKey, secret };
}

/**
 * First start: with no keys at all, create an admin key (ICRL_ADMIN_KEY when given) and return its
 * secret so the caller prints it once. With ICRL_ADMIN_KEY set and keys present, make sure that key
 * exists, so a restart with the same environment keeps working.
 */
export async function bootstrapAdminKey(prisma: PrismaClient, adminKey?: string): Promise<string | null> {
  if (adminKey) {
    const existing = await prisma.apiKey.findUnique({ where: { hash: hashSecret(adminKey) } });
    if (existing) return null;
    const count = await prisma.apiKey.count();
    if (count > 0 && !adminKey) return null;
    await createApiKey(prisma, { name: "admin (ICRL_ADMIN_KEY)", role: "ADMIN", secret: adminKey });
    return null;
  }
  const count = await prisma.apiKey.count();
  if (count > 0) return null;
  const { secret } = await createApiKey(prisma, { name: "admin (first start)", role: "ADMIN" });
  return secret;
}

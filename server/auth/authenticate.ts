// Resolves a bearer secret to a principal. Lookups are cached for a couple of seconds because the
// worker protocol sends many small batches; revoking through this process clears the cache at once.
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Role } from "../generated/prisma/enums.js";
import { apiError } from "../errors.js";
import { hashSecret } from "./keys.js";

export interface Principal {
  keyId: string;
  role: Role;
  workerId: string | null;
}

const CACHE_MS = 2000;
const TOUCH_MS = 60_000;

export class Authenticator {
  private cache = new Map<string, { principal: Principal | null; at: number }>();
  private touched = new Map<string, number>();

  constructor(private prisma: PrismaClient) {}

  /** Returns null for a missing, unknown or revoked key. */
  async resolve(secret: string | undefined | null): Promise<Principal | null> {
    if (!secret) return null;
    const hash = hashSecret(secret);
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && now - hit.at < CACHE_MS) return hit.principal;
    const key = await this.prisma.apiKey.findUnique({ where: { hash } });
    const principal = key && !key.revokedAt ? { keyId: key.id, role: key.role, workerId: key.workerId } : null;
    this.cache.set(hash, { principal, at: now });
    if (principal && now - (this.touched.get(principal.keyId) ?? 0) > TOUCH_MS) {
      this.touched.set(principal.keyId, now);
      void this.prisma.apiKey.update({ where: { id: principal.keyId }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return principal;
  }

  forget(): void {
    this.cache.clear();
  }
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1].trim() : null;
}

export type Permission = "read" | "write" | "admin" | "worker";

/** admin: everything; member: read and create/modify experiments, runs and their inputs; worker: worker protocol only. */
export function requireRole(principal: Principal | null, permission: Permission): Principal {
  if (!principal)
    throw apiError(
      "UNAUTHENTICATED",
      "Missing or invalid API key: send `Authorization: Bearer <key>` (or connectionParams.authorization over WebSocket).",
    );
  const role = principal.role;
  const allowed =
    role === "ADMIN" || (role === "MEMBER" && (permission === "read" || permission === "write")) || (role === "WORKER" && permission === "worker");
  if (!allowed) {
    const needed = permission === "worker" ? "a worker token" : permission === "admin" ? "an admin key" : "an admin or member key";
    throw apiError("FORBIDDEN", `This operation needs ${needed}; your key has role ${role}.`);
  }
  return principal;
}

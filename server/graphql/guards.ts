// Small helpers shared by resolvers: permission checks and id validation that turn into clear errors.
import { apiError, badInput } from "../errors.js";
import { requireRole, type Permission, type Principal } from "../auth/authenticate.js";
import type { GraphQLContext } from "./context.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function can(ctx: GraphQLContext, permission: Permission): Principal {
  return requireRole(ctx.principal, permission);
}

/** Worker-protocol calls need a worker token bound to a registered worker. */
export function workerOf(ctx: GraphQLContext): string {
  const p = can(ctx, "worker");
  if (!p.workerId) throw apiError("FORBIDDEN", "This call needs the worker token returned by registerWorker, not a plain key.");
  return p.workerId;
}

export function checkId(id: string, what: string): string {
  if (!UUID.test(id)) throw badInput(`${what} id ${JSON.stringify(id)} is not a valid id (expected a UUID).`);
  return id;
}

export function maybeId(id: string | null | undefined, what: string): string | undefined {
  return id == null ? undefined : checkId(id, what);
}

/** A name the user gave, trimmed; an empty one is refused naming the field. */
export function requireName(name: string, what: string, path = "name"): string {
  const trimmed = name.trim();
  if (!trimmed) throw badInput(`${what} name must not be empty.`, [{ path, message: "must not be empty" }]);
  return trimmed;
}

// What every resolver receives. Built per HTTP request or per WebSocket operation.
import type pg from "pg";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Authenticator, Principal } from "../auth/authenticate.js";
import type { ServerConfig } from "../config.js";
import type { EventHub } from "../events/hub.js";
import type { FeedRegistry } from "../events/feed.js";
import type { Logger } from "../logger.js";
import type { ArtifactStore } from "../artifacts/store.js";

export interface Services {
  prisma: PrismaClient;
  pool: pg.Pool;
  hub: EventHub;
  feeds: FeedRegistry;
  auth: Authenticator;
  artifacts: ArtifactStore;
  config: ServerConfig;
  logger: Logger;
  /** Set when the database is gone for good (its embedded Postgres could not be restarted): /healthz fails. */
  health: { databaseLost: Error | null };
}

export interface GraphQLContext extends Services {
  principal: Principal | null;
  /** Aborted when the client goes away (subscriptions) or the server shuts down. */
  signal?: AbortSignal;
  /** Aborts `signal` (subscriptions): called when graphql-ws ends the subscription. */
  cancel?: () => void;
}

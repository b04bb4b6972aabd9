// One HTTP port: /graphql (queries, mutations; WebSocket subscriptions on the same path),
// /artifacts (streamed bytes), /healthz, /readyz, and the dashboard at / when it is built.
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { WebSocketServer } from "ws";
import { useServer } from "graphql-ws/use/ws";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { bearerToken } from "../auth/authenticate.js";
import { artifactRouter } from "../artifacts/routes.js";
import { buildSchema } from "../graphql/schema.js";
import { apiError, DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "../errors.js";
import { checkQueryLimits, isIntrospection } from "../graphql/limits.js";
import { coalesceWrites, subscribeShared } from "../events/subscription-delivery.js";
import type { GraphQLContext, Services } from "../graphql/context.js";

export interface HttpServerHandle {
  server: http.Server;
  /** Stop accepting, let in-flight requests finish, close subscriptions. */
  drain(): Promise<void>;
  ready: () => boolean;
  setReady(v: boolean): void;
}

const KNOWN_CODES = new Set([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "BAD_USER_INPUT",
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "QUERY_TOO_COMPLEX",
  "DATABASE_UNAVAILABLE",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "OPERATION_RESOLUTION_FAILURE",
]);

const DASHBOARD_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "dashboard", "dist");

/**
 * The dashboard's built files at /, with every other GET answered by index.html so client routes
 * survive a reload. Checked per request, so building while the server runs needs no restart.
 */
export function dashboardRouter(distDir = DASHBOARD_DIST): express.Router {
  const router = express.Router();
  const index = path.join(distDir, "index.html");
  // No fixed asset hashes: revalidate every time so a rebuilt dashboard is picked up at once.
  router.use(express.static(distDir, { index: false, cacheControl: true, maxAge: 0 }));
  router.get("/{*path}", (req, res, next) => {
    if (path.extname(req.path)) return next(); // a missing asset is a 404, not the app
    if (!existsSync(index)) {
      res.status(503).type("html").send("<!doctype html><p>The dashboard is not built: run <code>npm run build:dashboard</code>.</p>\n");
      return;
    }
    res.setHeader("cache-control", "no-cache");
    res.sendFile(index);
  });
  return router;
}

export function createHttpServer(services: Services): HttpServerHandle {
  const { config, logger } = services;
  const schema = buildSchema();
  const app = express();
  const server = http.createServer(app);
  let ready = false;

  const limitsPlugin: ApolloServerPlugin<GraphQLContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          // The schema is read with a key like everything else (README: every request needs one).
          if (!rc.contextValue.principal && isIntrospection(rc.document, rc.operationName)) {
            throw apiError("UNAUTHENTICATED", "Introspection needs an API key: send Authorization: Bearer <key>.", { http: { status: 401 } });
          }
          checkQueryLimits(rc.document, rc.operationName, rc.request.variables ?? {}, {
            maxDepth: config.maxQueryDepth,
            maxCost: config.maxQueryCost,
          });
        },
        async willSendResponse(rc) {
          const body = rc.response.body;
          if (body.kind === "single" && body.singleResult.errors?.some((e) => e.extensions?.code === "DATABASE_UNAVAILABLE"))
            rc.response.http.status = 503;
        },
      };
    },
  };

  // Upgrades are handed over here rather than by attaching to `server`: an attached WebSocketServer
  // re-emits the HTTP server's errors, and graphql-ws reports those (a port in use) as its own.
  const wss = new WebSocketServer({ noServer: true, path: "/graphql", maxPayload: config.maxRequestBytes });
  server.on("upgrade", (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req)));
  const wsCleanup = useServer<Record<string, unknown>, { aborts?: Map<string, AbortController> }>(
    {
      schema,
      // Subscribers of the same operation share one execution per event (server/events/subscription-delivery.ts).
      subscribe: subscribeShared,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const raw = (params.authorization ?? params.Authorization ?? params.apiKey) as string | undefined;
        const secret = raw ? (bearerToken(raw) ?? raw) : null;
        const principal = await services.auth.resolve(secret);
        if (!principal) return false; // closes with 4403 Forbidden
        ctx.extra.aborts = new Map();
        return true;
      },
      context: async (ctx, id) => {
        const controller = new AbortController();
        ctx.extra.aborts?.set(id, controller);
        const principal = await services.auth.resolve(
          (() => {
            const raw = (ctx.connectionParams?.authorization ?? ctx.connectionParams?.apiKey) as string | undefined;
            return raw ? (bearerToken(raw) ?? raw) : null;
          })(),
        );
        return { ...services, principal, signal: controller.signal, cancel: () => controller.abort() } satisfies GraphQLContext;
      },
      onComplete: (ctx, id) => {
        ctx.extra.aborts?.get(id)?.abort();
        ctx.extra.aborts?.delete(id);
      },
      onClose: (ctx) => {
        for (const c of ctx.extra.aborts?.values() ?? []) c.abort();
        ctx.extra.aborts?.clear();
      },
      onError: (_ctx, _id, _payload, errors) => {
        logger.debug({ errors: errors.map((e) => e.message) }, "subscription error");
      },
    },
    wss,
  );
  wss.on("connection", coalesceWrites);

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // `icrl server` (cli/commands/server.ts) drains and stops everything on SIGINT/SIGTERM
    // itself; Apollo's own handler would stop it a second time (Ctrl-C handled twice).
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      // We set no cache hints; the default cache-control plugin would still hook every resolved
      // field (a third of the time of a 9,000-point metricSeries answer).
      ApolloServerPluginCacheControlDisabled(),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
      limitsPlugin,
    ],
    formatError: (formatted: GraphQLFormattedError, error: unknown) => {
      const code = formatted.extensions?.code as string | undefined;
      if (code && KNOWN_CODES.has(code)) return formatted;
      // graphql-js's own request errors that Apollo reports as internal (e.g. "Too many errors processing
      // variables", thrown after 50 bad variables): the request's fault, not the server's. By name, not
      // instanceof: Apollo runs graphql-js's CommonJS build, this file its ES module, two GraphQLError classes.
      const request = error as { name?: string; message?: string; path?: unknown; originalError?: unknown } | null;
      if (!formatted.path && request?.name === "GraphQLError" && !request.originalError && !request.path && request.message)
        return { message: request.message, extensions: { code: "BAD_USER_INPUT" } };
      // Unexpected errors: log the detail, return a generic message (never internals).
      const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
      if (isDatabaseUnavailable(original)) {
        // A passing outage, not a bug: a code clients retry on (HTTP 503, set in willSendResponse).
        logger.warn({ err: (original as Error)?.message }, "database unavailable");
        return {
          message: DATABASE_UNAVAILABLE_MESSAGE,
          extensions: { code: "DATABASE_UNAVAILABLE" },
          path: formatted.path,
          locations: formatted.locations,
        };
      }
      logger.error({ err: original }, "unhandled resolver error");
      return {
        message: "Internal server error; the server log has the details.",
        extensions: { code: "INTERNAL_SERVER_ERROR" },
        path: formatted.path,
        locations: formatted.locations,
      };
    },
  });

  const started = apollo.start();

  // Liveness: fails only when the process cannot recover by itself (a supervisor should restart it);
  // a database that is down for a moment is /readyz's business.
  app.get("/healthz", (_req, res) => {
    const lost = services.health.databaseLost;
    if (lost) return res.status(503).json({ status: "database lost", error: lost.message });
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    if (!ready) return res.status(503).json({ status: "starting or draining" });
    try {
      await services.pool.query("SELECT 1");
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "database unavailable" });
    }
  });
  app.use(artifactRouter(services));

  app.use(
    "/graphql",
    express.json({ limit: config.maxRequestBytes }),
    async (_req, _res, next) => {
      await started;
      next();
    },
    (req, res, next) =>
      expressMiddleware(apollo, {
        context: async ({ req: r }) => ({
          ...services,
          principal: await services.auth.resolve(bearerToken(r.header("authorization"))).catch((error: unknown) => {
            // Every request reads its key first: the usual place to meet a database that is away.
            if (isDatabaseUnavailable(error)) throw apiError("DATABASE_UNAVAILABLE", DATABASE_UNAVAILABLE_MESSAGE, { http: { status: 503 } });
            throw error;
          }),
        }),
      })(req, res, next),
  );

  app.use(dashboardRouter());

  // Body-parser failures (too large, malformed JSON) answered in GraphQL's error shape.
  app.use((err: { type?: string; status?: number; message?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!err) return next();
    if (err.type === "entity.too.large") {
      return res.status(413).json({
        errors: [
          {
            message: `Request body is larger than ${config.maxRequestBytes} bytes; send smaller batches.`,
            extensions: { code: "PAYLOAD_TOO_LARGE" },
          },
        ],
      });
    }
    if (err.type === "entity.parse.failed") {
      return res.status(400).json({ errors: [{ message: `Request body is not valid JSON: ${err.message}`, extensions: { code: "BAD_REQUEST" } }] });
    }
    logger.error({ err }, "http error");
    res.status(err.status ?? 500).json({ errors: [{ message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }] });
  });

  return {
    server,
    ready: () => ready,
    setReady: (v) => {
      ready = v;
    },
    drain: async () => {
      ready = false;
      await apollo.stop();
    },
  };
}

// A real HTTP server for outbox tests that answers reportBenchmarkItems the way the ICRL server does
// (GraphQL JSON over POST /graphql, idempotent on item index), and that a test can stop and start
// again on the same port, refuse big batches, or answer FORBIDDEN like a server whose lease is gone.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ItemServer {
  url: string;
  port: number;
  /** Item indexes in the order they were first stored. */
  stored: number[];
  /** Every request's item indexes, duplicates included. */
  requests: number[][];
  /** Batches larger than this are refused with PAYLOAD_TOO_LARGE. */
  maxItems: number;
  /** Answer every request with FORBIDDEN. */
  forbid: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startItemServer(): Promise<ItemServer> {
  const seen = new Set<number>();
  let server: http.Server | null = null;
  const state: ItemServer = {
    url: "",
    port: 0,
    stored: [],
    requests: [],
    maxItems: Number.POSITIVE_INFINITY,
    forbid: false,
    stop: async () => {
      const s = server;
      server = null;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start: async () => {
      server = http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
          const reply = (value: unknown) => {
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify(value));
          };
          const items = (JSON.parse(body).variables?.items ?? []) as { itemIndex: number }[];
          const indexes = items.map((i) => i.itemIndex);
          state.requests.push(indexes);
          if (state.forbid) return reply({ errors: [{ message: "This worker does not hold the job.", extensions: { code: "FORBIDDEN" } }] });
          if (items.length > state.maxItems) return reply({ errors: [{ message: "Too many items.", extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
          let inserted = 0;
          for (const i of indexes) {
            if (seen.has(i)) continue;
            seen.add(i);
            state.stored.push(i);
            inserted++;
          }
          reply({ data: { reportBenchmarkItems: { inserted, duplicates: items.length - inserted, cursor: String(state.stored.length) } } });
        });
      });
      await new Promise<void>((resolve, reject) => {
        server!.once("error", reject);
        server!.listen(state.port, "127.0.0.1", () => resolve());
      });
      state.port = (server.address() as AddressInfo).port;
      state.url = `http://127.0.0.1:${state.port}`;
    },
  };
  await state.start();
  return state;
}

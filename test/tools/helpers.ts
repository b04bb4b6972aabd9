// Shared bits of the tool tests: where the real data lives, processes left behind by a sandbox, and
// small HTTP servers speaking the remote tools' wire formats.
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
// Small copies of real corpora, kept in the repository (provenance: test/fixtures/data/README.md).
export const fixtureData = path.join(projectRoot, "test", "fixtures", "data");
export const hotpotPassages = path.join(fixtureData, "hotpotqa", "passages.jsonl");
export const searchR1Corpus = path.join(fixtureData, "wiki_passages", "searchr1_wiki18_example_corpus.jsonl");

export const runningAsRoot = process.getuid?.() === 0;

/** Host processes (zombies included) owned by any uid in [first, first + count). */
export function processesOfUids(first: number, count: number): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const uid = Number(status.match(/^Uid:\s+(\d+)/m)?.[1]);
      if (uid >= first && uid < first + count)
        found.push(`${entry} ${status.match(/^Name:\s+(.*)$/m)?.[1]} ${status.match(/^State:\s+(.*)$/m)?.[1]}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpServer(handler: (request: IncomingMessage, response: ServerResponse) => void | Promise<void>): Promise<RunningServer> {
  const server: Server = createServer((request, response) => {
    Promise.resolve(handler(request, response)).catch((error: Error) => {
      response.statusCode = 500;
      response.end(error.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on which nothing listens (it was bound a moment ago, then released). */
export async function closedPort(): Promise<number> {
  const server = await startHttpServer(() => {});
  await server.close();
  return server.port;
}

export function sendJson(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

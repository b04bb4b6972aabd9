// A TCP proxy between a worker and the server that can cut the link the way a network partition does.
// "blackhole": packets stop flowing both ways, nothing is refused; connections opened meanwhile hang;
// what was sent waits and flows again when the link heals (TCP retransmits across a partition of a
// few minutes). "refuse": every connection is reset and new ones are refused at once (the server's
// host unreachable or restarting). `delay(ms)` instead slows the link: every chunk is passed on `ms`
// later, in order, both ways (a server answering slowly). Works below HTTP, so WebSockets and uploads
// are cut alike.
import net from "node:net";

export type PartitionMode = "blackhole" | "refuse";

export interface PartitionProxy {
  url: string;
  cut(mode: PartitionMode): void;
  heal(): void;
  /** Pass every chunk on `ms` later (0: at once). */
  delay(ms: number): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Bytes held while the link is cut, per direction, in arrival order. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

export async function startPartitionProxy(target: string): Promise<PartitionProxy> {
  const upstreamUrl = new URL(target);
  const links = new Set<Link>();
  let cutMode: PartitionMode | null = null;
  let delayMs = 0;
  const pass = (to: net.Socket, data: Buffer) => (delayMs > 0 ? setTimeout(() => to.write(data), delayMs) : to.write(data));

  const connectUpstream = (link: Link) => {
    const up = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname);
    link.upstream = up;
    up.on("data", (d: Buffer) => (cutMode ? link.held.toClient.push(d) : pass(link.client, d)));
    up.on("close", () => link.client.destroy());
    up.on("error", () => link.client.destroy());
    for (const d of link.held.toUpstream.splice(0)) up.write(d);
  };

  const server = net.createServer((client) => {
    if (cutMode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: null, held: { toUpstream: [], toClient: [] } };
    links.add(link);
    client.on("data", (d: Buffer) => (cutMode || !link.upstream ? link.held.toUpstream.push(d) : pass(link.upstream, d)));
    client.on("close", () => {
      links.delete(link);
      link.upstream?.destroy();
    });
    client.on("error", () => link.upstream?.destroy());
    if (!cutMode) connectUpstream(link);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    cut(mode) {
      cutMode = mode;
      if (mode === "refuse") for (const link of links) link.client.resetAndDestroy();
    },
    delay(ms) {
      delayMs = ms;
    },
    heal() {
      cutMode = null;
      for (const link of links) {
        if (!link.upstream) connectUpstream(link);
        else for (const d of link.held.toUpstream.splice(0)) link.upstream.write(d);
        for (const d of link.held.toClient.splice(0)) link.client.write(d);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of links) {
          link.client.destroy();
          link.upstream?.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

// A small HTTP proxy in front of a test server that answers chosen requests itself, the way a server
// whose database or disk is failing would, or holds them unanswered (a link gone quiet), and passes
// everything else (WebSockets included) through. Fault tests point a real worker at it instead of
// patching the worker.
import http from "node:http";
import net from "node:net";

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The request body (read only for POST /graphql; empty otherwise, the body is streamed through). */
  body: string;
}

/**
 * What the proxy answers instead of the server; "hold" to keep the request open and never pass it on
 * (until the client goes away or the proxy closes); null to pass it on.
 */
export type FaultRule = (req: ProxiedRequest) => { status: number; body: unknown } | "hold" | null;

export interface FaultProxy {
  url: string;
  /** Requests answered by a rule so far. */
  faults: number;
  /** Requests held by a rule so far. */
  held: number;
  /** Requests passed on that the server has not answered yet (nor failed). */
  pending: number;
  /** WebSocket connections opened through the proxy so far. */
  upgrades: number;
  /** Cut every open WebSocket connection (a network drop); the proxy keeps accepting new ones. */
  dropSockets(): void;
  /** While on, new WebSocket connections wait (the network is still down); off lets them through. */
  holdSockets(on: boolean): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, rule: FaultRule): Promise<FaultProxy> {
  const upstream = new URL(target);
  const state = { faults: 0, held: 0, upgrades: 0, pending: 0 };
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | null) => {
    // Pending until the server answers (it has then done what the request asked) or the request fails;
    // not until the answer is read, which a client killed meanwhile never does.
    state.pending++;
    let settled = false;
    const settle = () => {
      if (!settled) state.pending--;
      settled = true;
    };
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      settle();
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => {
      settle();
      res.destroy();
    });
    if (body) out.end(body);
    else {
      // A client gone mid-upload leaves the server waiting for the rest: cut the upstream request too.
      req.on("close", () => !req.complete && out.destroy());
      req.pipe(out);
    }
  };
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    const answer = (fault: { status: number; body: unknown } | "hold") => {
      if (fault === "hold") {
        state.held++;
        req.resume();
        return;
      }
      state.faults++;
      const reply = () => {
        res.writeHead(fault.status, { "content-type": "application/json" });
        res.end(JSON.stringify(fault.body));
      };
      // Read a refused upload to its end first, so the client sees the answer rather than a reset.
      if (req.complete) reply();
      else req.on("end", reply).resume();
    };
    if (req.method === "POST" && path.startsWith("/graphql")) {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const fault = rule({ method: "POST", path, body: body.toString("utf8") });
        if (fault) answer(fault);
        else forward(req, res, body);
      });
      return;
    }
    const fault = rule({ method: req.method ?? "GET", path, body: "" });
    if (fault) answer(fault);
    else forward(req, res, null);
  });
  // Subscriptions: splice the raw sockets once the upgrade request is replayed upstream.
  const tunnels = new Set<net.Socket>();
  let held: (() => void)[] | null = null;
  const tunnel = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (socket.destroyed) return;
    const up = net.connect(Number(upstream.port), upstream.hostname, () => {
      const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
      up.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    tunnels.add(up).add(socket);
    up.on("close", () => {
      tunnels.delete(up);
      socket.destroy();
    });
    socket.on("close", () => {
      tunnels.delete(socket);
      up.destroy();
    });
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
  };
  server.on("upgrade", (req, socket: net.Socket, head: Buffer) => {
    state.upgrades++;
    if (held) {
      tunnels.add(socket);
      held.push(() => tunnel(req, socket, head));
    } else tunnel(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    get faults() {
      return state.faults;
    },
    get held() {
      return state.held;
    },
    get pending() {
      return state.pending;
    },
    get upgrades() {
      return state.upgrades;
    },
    dropSockets: () => {
      for (const s of tunnels) s.destroy();
      tunnels.clear();
    },
    holdSockets: (on) => {
      const waiting = held;
      held = on ? (held ?? []) : null;
      if (!on) for (const go of waiting ?? []) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of tunnels) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

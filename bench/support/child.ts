// Benchmark clients in their own Node processes, so the server's event loop is not also running
// the load generators (in production workers and dashboards are other machines). Parent and child
// talk over the fork IPC channel with small typed messages.
import { fork, type ChildProcess } from "node:child_process";

export interface BenchChild {
  /** Resolves with the payload of the child's next message of this type. */
  next<T = unknown>(type: string): Promise<T>;
  send(type: string, payload?: unknown): void;
  /** Resolves once the child has exited (killing it first if it is still running). */
  stop(): Promise<void>;
}

interface Message {
  type: string;
  payload?: unknown;
}

export function forkBenchChild(modulePath: string, init: unknown): BenchChild {
  const child: ChildProcess = fork(modulePath, [], {
    execArgv: ["--import", import.meta.resolve("tsx")],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox: Message[] = [];
  const waiters: { type: string; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | null = null;
  const deliver = () => {
    for (let i = 0; i < waiters.length; ) {
      const w = waiters[i];
      const at = inbox.findIndex((m) => m.type === w.type);
      if (at >= 0) {
        waiters.splice(i, 1);
        w.resolve(inbox.splice(at, 1)[0].payload);
      } else if (failure) {
        waiters.splice(i, 1);
        w.reject(failure);
      } else i++;
    }
  };
  child.on("message", (m: Message) => {
    if (m.type === "error") failure = new Error(`bench child ${modulePath} failed: ${String(m.payload)}`);
    else inbox.push(m);
    deliver();
  });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      failure ??= new Error(`bench child ${modulePath} exited (${code ?? signal})`);
      deliver();
      resolve();
    }),
  );
  child.send({ type: "init", payload: init });
  return {
    next: <T>(type: string) =>
      new Promise<T>((resolve, reject) => {
        waiters.push({ type, resolve: resolve as (v: unknown) => void, reject });
        deliver();
      }),
    send: (type, payload) => void child.send({ type, payload }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Child side: waits for the parent's init message, runs `main`, reports a failure and exits. */
export function runBenchChild<I>(
  main: (init: I, io: { send(type: string, payload?: unknown): void; next<T = unknown>(type: string): Promise<T> }) => Promise<void>,
): void {
  const inbox: Message[] = [];
  const waiters: { type: string; resolve: (v: unknown) => void }[] = [];
  process.on("message", (m: Message) => {
    const w = waiters.findIndex((x) => x.type === m.type);
    if (w >= 0) waiters.splice(w, 1)[0].resolve(m.payload);
    else inbox.push(m);
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve) => {
      const at = inbox.findIndex((m) => m.type === type);
      if (at >= 0) resolve(inbox.splice(at, 1)[0].payload as T);
      else waiters.push({ type, resolve: resolve as (v: unknown) => void });
    });
  const send = (type: string, payload?: unknown) => void process.send!({ type, payload });
  next<I>("init")
    .then((init) => main(init, { send, next }))
    .then(
      () => process.disconnect(),
      (err: Error) => {
        process.send!({ type: "error", payload: err.stack ?? String(err) }, () => process.exit(1));
      },
    );
}

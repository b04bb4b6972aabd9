// Who this worker is to the server. The --token a user gives is normally a WORKER-role registration
// key: registerWorker records this machine's capabilities (the server matches job requirements
// against backend, gpuMemoryMb and memoryMb) and returns a worker token used for everything after.
// A token that already belongs to a registered worker is used as it is. The instance id kept in the
// worker's data directory (instance-id.ts) makes a restarted worker the same worker on the server.
import os from "node:os";
import { createClient, RegisterWorkerDocument, ViewerDocument, type IcrlClient } from "../../client-sdk/src/index.js";
import { detectCapabilities } from "../engine/capabilities.js";
import type { GpuChoice } from "../engine/llama-loader.js";
import { retryTransient, type RetryOptions } from "../../client-sdk/src/index.js";

export interface WorkerCapabilitiesReport {
  backend: string;
  memoryMb: number;
  gpuMemoryMb: number;
  gpuNames: string[];
  threads: number;
  cpuCores: number;
  kinds: string[];
  platform: string;
  arch: string;
  llamaCppRelease: string;
  detectedGpuBackends: string[];
  [key: string]: unknown;
}

const MiB = 1024 * 1024;

export async function describeMachine(options: { gpu?: GpuChoice; threads: number; kinds: string[] }): Promise<WorkerCapabilitiesReport> {
  const caps = await detectCapabilities(options.gpu ?? "auto");
  return {
    backend: caps.backend,
    memoryMb: Math.floor(caps.totalMemoryBytes / MiB),
    gpuMemoryMb: Math.floor(caps.vramBytes / MiB),
    gpuNames: caps.gpuNames,
    threads: options.threads,
    cpuCores: caps.cpuCores,
    kinds: options.kinds,
    platform: caps.platform,
    arch: caps.arch,
    llamaCppRelease: caps.llamaCppRelease,
    detectedGpuBackends: caps.detectedGpuBackends,
  };
}

export interface WorkerIdentity {
  workerId: string;
  token: string;
  /** False when the given token already was a worker token (its recorded capabilities were kept). */
  registered: boolean;
}

export async function registerWorker(
  serverUrl: string,
  token: string,
  name: string,
  capabilities: () => Promise<WorkerCapabilitiesReport>,
  retry: RetryOptions = {},
  instanceId?: string,
): Promise<WorkerIdentity> {
  const client: IcrlClient = createClient({ url: serverUrl, token });
  try {
    const { viewer } = await retryTransient(() => client.query(ViewerDocument, {}), retry);
    if (viewer.workerId) return { workerId: viewer.workerId, token, registered: false };
    const caps = await capabilities();
    const res = await retryTransient(() => client.mutate(RegisterWorkerDocument, { name, capabilities: caps, instanceId }), retry);
    return { workerId: res.registerWorker.worker.id, token: res.registerWorker.token, registered: true };
  } finally {
    await client.close();
  }
}

export function defaultWorkerName(): string {
  return os.hostname() || "worker";
}

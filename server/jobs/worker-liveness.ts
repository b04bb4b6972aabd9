// A worker is ONLINE while it is heard from: every claim (an idle worker polls at least every
// --max-poll-ms, default 30 s) and every lease heartbeat (a third of the lease) refreshes
// last_seen_at. One that has not been heard from for OFFLINE_AFTER_LEASES leases has died or lost
// its connection, whatever its row last said; a clean stop marks it OFFLINE at once (signOffWorker).

/** Leases of silence after which a worker counts as OFFLINE (3 × 60 s by default). */
export const OFFLINE_AFTER_LEASES = 3;

export function workerStatus(worker: { status: string; lastSeenAt: Date }, leaseSeconds: number, now = Date.now()): "ONLINE" | "OFFLINE" {
  if (worker.status !== "ONLINE") return "OFFLINE";
  return now - worker.lastSeenAt.getTime() > OFFLINE_AFTER_LEASES * leaseSeconds * 1000 ? "OFFLINE" : "ONLINE";
}

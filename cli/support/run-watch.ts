// `icrl run watch`: follows a run through three subscriptions (run, metrics, rollouts) until it
// finishes. On a terminal the view is redrawn in place; piped, it prints one line per change;
// with --json every event is one JSON line. The SDK resumes each subscription from its last cursor
// after a disconnect, so a server restart costs neither gaps nor repeats.
import {
  type IcrlClient,
  MetricSeriesDocument,
  MetricsBatchDocument,
  RolloutsAddedDocument,
  RunUpdatedDocument,
} from "../../client-sdk/src/index.js";
import { EXIT } from "./exit-codes.js";
import { formatNumber } from "./output.js";
import { requireRun } from "./resolve.js";
import { progressText, TERMINAL_STATUSES } from "./run-summary.js";
import { styleFor } from "./style.js";
import { latestRollouts, loadFinishedRun, metricHistory, rolloutHistory } from "./run-history.js";
import { KEEP_ROLLOUTS, renderFrame, SPARK_KEYS, WatchState } from "./watch-view.js";

export interface WatchOptions {
  json?: boolean;
  /** Replay the run's whole history (every metric point and rollout) before the live events. */
  fromStart?: boolean;
  /** After the run finishes, wait this long without events for late metrics/rollouts before exiting. */
  settleMs?: number;
}

const jsonLine = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");

export async function watchRun(client: IcrlClient, runId: string, opts: WatchOptions): Promise<number> {
  const initial = await requireRun(client, runId);
  const state = new WatchState(initial);
  const exitCode = () => (state.run.status === "SUCCEEDED" ? EXIT.OK : EXIT.FAILED);
  const style = styleFor(process.stdout);
  const tty = Boolean(process.stdout.isTTY) && !opts.json;

  if (opts.json) jsonLine({ type: "snapshot", run: initial });
  if (TERMINAL_STATUSES.includes(initial.status)) {
    // Nothing more will happen: show what did, from the stored history, and exit.
    if (opts.json) {
      if (opts.fromStart) {
        for await (const points of metricHistory(client, runId)) jsonLine({ type: "metrics", cursor: points.at(-1)!.cursor, points });
        for await (const rollouts of rolloutHistory(client, runId))
          for (const rollout of rollouts) jsonLine({ type: "rollout", cursor: rollout.cursor, rollout });
      }
      jsonLine({ type: "end", status: initial.status });
    } else {
      await loadFinishedRun(client, state, KEEP_ROLLOUTS);
      process.stdout.write(renderFrame(state, style, process.stdout.columns ?? 100).join("\n") + "\n");
    }
    return exitCode();
  }

  // Start cursors: run changes after the version we just read; metrics and rollouts from the start
  // when asked (or when there are none yet, which makes the start exact), otherwise live from now.
  const latestCursor = initial.latestMetrics.reduce<bigint | null>((m, p) => (m == null || BigInt(p.cursor) > m ? BigInt(p.cursor) : m), null);
  const metricsAfter = opts.fromStart || latestCursor == null ? "0" : String(latestCursor);
  // Live rollouts start after the newest one stored now (shown at once), by cursor: a rollout
  // reported between this read and the subscription is replayed, not lost.
  let rolloutsAfter = "0";
  if (!opts.fromStart) {
    const { rollouts, total } = await latestRollouts(client, runId, initial.step, KEEP_ROLLOUTS);
    for (const r of rollouts) state.onRollout(r);
    state.rolloutCount = total;
    rolloutsAfter = rollouts.at(-1)?.cursor ?? "0";
  }
  if (!opts.json && !opts.fromStart) {
    const series = await client.query(MetricSeriesDocument, { runId, keys: SPARK_KEYS, maxPoints: 60 });
    for (const s of series.metricSeries) state.seedSeries(s.key, s.points);
  }

  let frameLines = 0;
  let lastDraw = 0;
  let drawTimer: NodeJS.Timeout | null = null;
  let lastLine = "";
  const draw = () => {
    drawTimer = null;
    lastDraw = Date.now();
    if (tty) {
      const lines = renderFrame(state, style, process.stdout.columns ?? 100);
      process.stdout.write((frameLines ? `\u001b[${frameLines}A\r\u001b[J` : "") + lines.join("\n") + "\n");
      frameLines = lines.length;
    } else if (!opts.json) {
      const reward = state.latest.get("reward/mean");
      const line = `${state.run.status} ${progressText(state.run)}${reward ? ` reward/mean ${formatNumber(reward.value)}` : ""} rollouts ${state.rolloutCount}`;
      if (line !== lastLine) process.stdout.write(line + "\n");
      lastLine = line;
    }
  };
  const scheduleDraw = () => {
    if (opts.json || drawTimer) return;
    drawTimer = setTimeout(draw, Math.max(0, 150 - (Date.now() - lastDraw)));
  };
  draw();

  const stop = new AbortController();
  let lastEventAt = Date.now();
  let finished: (() => void) | null = null;
  const done = new Promise<void>((r) => (finished = r));

  const follow = async <T>(events: AsyncGenerator<T>, handle: (event: T) => void) => {
    for await (const event of events) {
      lastEventAt = Date.now();
      handle(event);
      scheduleDraw();
    }
  };
  const streams = [
    follow(client.subscribe(RunUpdatedDocument, { runId, after: initial.version }, { signal: stop.signal }), ({ runUpdated }) => {
      state.onRun(runUpdated.run);
      if (opts.json) jsonLine({ type: "run", cursor: runUpdated.cursor, run: runUpdated.run });
      if (TERMINAL_STATUSES.includes(runUpdated.run.status)) finished?.();
    }),
    // Batched forms: a busy run is a few messages a second; the JSON lines stay one per rollout.
    follow(client.subscribe(MetricsBatchDocument, { runId, after: metricsAfter }, { signal: stop.signal }), ({ metricsBatch }) => {
      state.onMetrics(metricsBatch.points);
      if (opts.json) jsonLine({ type: "metrics", cursor: metricsBatch.cursor, points: metricsBatch.points });
    }),
    follow(client.subscribe(RolloutsAddedDocument, { runId, after: rolloutsAfter }, { signal: stop.signal }), ({ rolloutsAdded }) => {
      for (const rollout of rolloutsAdded.rollouts) {
        state.onRollout(rollout);
        if (opts.json) jsonLine({ type: "rollout", cursor: rollout.cursor, rollout });
      }
    }),
  ];
  // A stream that fails (server refused the subscription) ends the watch with its error.
  const failure = Promise.race(streams.map((s) => s.then(() => new Promise<never>(() => {}))));

  await Promise.race([done, failure]);
  // Metrics and rollouts travel on their own streams: give the ones reported just before the end a
  // moment to arrive, so the last frame (or JSON line) is complete.
  const settleMs = opts.settleMs ?? 500;
  const deadline = Date.now() + 5000;
  while (Date.now() - lastEventAt < settleMs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  stop.abort();
  await Promise.allSettled(streams);
  if (drawTimer) clearTimeout(drawTimer);
  draw();
  if (opts.json) jsonLine({ type: "end", status: state.run.status });
  return exitCode();
}

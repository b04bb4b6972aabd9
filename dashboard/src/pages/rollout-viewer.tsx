// Rollouts of one training step, GRPO group by group (a group's samples side by side, since
// advantages are relative within a group), each group under its question and gold answers and each
// rollout with the answer it gave and its score. A slider picks the step; filters map onto
// RolloutFilter; rollouts reported while the page is open arrive in batches through rolloutsAdded.
import { useEffect, useMemo, useState } from "preact/hooks";
import { errorMessage, LIVE_DELAY_MS, useQuery, useSession, useSubscription } from "../lib/api.js";
import { answerScore, finalAnswer } from "../lib/answer.js";
import { fmtNum, fmtSigned, shotsLabel } from "../lib/format.js";
import {
  DashboardRolloutStepsDocument,
  RolloutsAddedDocument,
  RolloutsDocument,
  type RolloutFieldsFragment,
  type RolloutFilter,
} from "../lib/sdk.js";
import { Segments } from "../components/segments.js";
import { ErrorLine, Loading } from "../components/status.js";

const PAGE = 64;

interface FilterForm {
  minReward: string;
  maxReward: string;
  stage: string;
  toolCall: "" | "yes" | "no";
}

function toFilter(f: FilterForm): RolloutFilter {
  const num = (s: string) => (s.trim() === "" || Number.isNaN(Number(s)) ? null : Number(s));
  return {
    minReward: num(f.minReward),
    maxReward: num(f.maxReward),
    stage: num(f.stage),
    hasToolCall: f.toolCall === "" ? null : f.toolCall === "yes",
  };
}

function mergeById(a: RolloutFieldsFragment[], b: RolloutFieldsFragment[]): RolloutFieldsFragment[] {
  const seen = new Set(a.map((r) => r.id));
  return [...a, ...b.filter((r) => !seen.has(r.id))];
}

export function RolloutViewer({ runId, runStep }: { runId: string; runStep: number }) {
  const { client } = useSession();
  const [form, setForm] = useState<FilterForm>({ minReward: "", maxReward: "", stage: "", toolCall: "" });
  const filter = useMemo(() => toFilter(form), [form]);
  const filterId = JSON.stringify(filter);
  const range = useQuery(DashboardRolloutStepsDocument, { runId, filter }, [runId, filterId]);
  const [liveMax, setLiveMax] = useState(-1);
  const [follow, setFollow] = useState(true);
  const [chosen, setChosen] = useState<number | null>(null);
  const [dragging, setDragging] = useState<number | null>(null);

  const firstStep = range.data?.rollouts.nodes[0]?.step ?? null;
  const lastStep = Math.max(runStep, firstStep ?? -1, liveMax);
  const hasAny = firstStep !== null || liveMax >= 0;
  const step = follow || chosen === null ? lastStep : chosen;

  const [rollouts, setRollouts] = useState<RolloutFieldsFragment[]>([]);
  const [page, setPage] = useState<{ after: string | null; hasNext: boolean; total: number } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const fetchPage = (after: string | null, signal?: AbortSignal) =>
    client.query(RolloutsDocument, { runId, first: PAGE, after, filter: { ...filter, minStep: step, maxStep: step } }, { signal });

  useEffect(() => {
    if (!hasAny) return;
    const controller = new AbortController();
    setLoading(true);
    setRollouts([]);
    fetchPage(null, controller.signal).then(
      (d) => {
        setRollouts((live) =>
          mergeById(
            d.rollouts.nodes,
            live.filter((r) => r.step === step),
          ),
        );
        setPage({ after: d.rollouts.pageInfo.endCursor ?? null, hasNext: d.rollouts.pageInfo.hasNextPage, total: d.rollouts.totalCount });
        setLoading(false);
        setError(null);
      },
      (err) => {
        if (controller.signal.aborted) return;
        setError(errorMessage(err));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [runId, step, filterId, hasAny]);

  const loadMore = () => {
    if (!page?.after) return;
    setLoading(true);
    fetchPage(page.after).then(
      (d) => {
        setRollouts((r) => mergeById(r, d.rollouts.nodes));
        setPage({ after: d.rollouts.pageInfo.endCursor ?? null, hasNext: d.rollouts.pageInfo.hasNextPage, total: d.rollouts.totalCount });
        setLoading(false);
      },
      (err) => {
        setError(errorMessage(err));
        setLoading(false);
      },
    );
  };

  // The live filter is the step-less part of the query filter (RolloutEventFilter).
  const eventFilter = { stage: filter.stage, minReward: filter.minReward, maxReward: filter.maxReward, hasToolCall: filter.hasToolCall };
  // Batched: a busy run sends about ten messages a second, not one per rollout.
  const liveError = useSubscription(RolloutsAddedDocument, { runId, filter: eventFilter, maxDelayMs: LIVE_DELAY_MS }, [runId, filterId], (e) => {
    const batch = e.rolloutsAdded.rollouts;
    setLiveMax((m) => batch.reduce((top, r) => Math.max(top, r.step), m));
    const shown = batch.filter((r) => r.step === step);
    if (shown.length) setRollouts((list) => mergeById(list, shown));
  });

  const groups = useMemo(() => {
    const byGroup = new Map<number, RolloutFieldsFragment[]>();
    for (const r of rollouts) byGroup.set(r.groupIndex, [...(byGroup.get(r.groupIndex) ?? []), r]);
    return [...byGroup.entries()].sort((a, b) => a[0] - b[0]).map(([g, rs]) => [g, rs.sort((a, b) => a.sampleIndex - b.sampleIndex)] as const);
  }, [rollouts]);

  const setField = (patch: Partial<FilterForm>) => setForm((f) => ({ ...f, ...patch }));
  const pick = (s: number) => {
    setFollow(false);
    setChosen(Math.max(firstStep ?? 0, Math.min(lastStep, s)));
  };

  return (
    <div class="rollout-viewer">
      <div class="rollout-controls">
        <div class="step-picker">
          <button type="button" onClick={() => pick(step - 1)} disabled={!hasAny || step <= (firstStep ?? 0)}>
            ←
          </button>
          <input
            type="range"
            aria-label="step"
            min={firstStep ?? 0}
            max={Math.max(lastStep, firstStep ?? 0)}
            value={dragging ?? step}
            disabled={!hasAny}
            onInput={(e) => setDragging(Number(e.currentTarget.value))}
            onChange={(e) => {
              setDragging(null);
              pick(Number(e.currentTarget.value));
            }}
          />
          <button type="button" onClick={() => pick(step + 1)} disabled={!hasAny || step >= lastStep}>
            →
          </button>
          <span class="step-label">
            step <b class="viewer-step">{dragging ?? step}</b> of {firstStep ?? 0}–{lastStep}
          </span>
          <label class="follow">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> follow latest
          </label>
        </div>
        <div class="filters">
          <label>
            reward ≥ <input type="number" step="0.1" value={form.minReward} onChange={(e) => setField({ minReward: e.currentTarget.value })} />
          </label>
          <label>
            reward ≤ <input type="number" step="0.1" value={form.maxReward} onChange={(e) => setField({ maxReward: e.currentTarget.value })} />
          </label>
          <label>
            stage <input type="number" min="0" value={form.stage} onChange={(e) => setField({ stage: e.currentTarget.value })} />
          </label>
          <label>
            tool call{" "}
            <select value={form.toolCall} onChange={(e) => setField({ toolCall: e.currentTarget.value as FilterForm["toolCall"] })}>
              <option value="">any</option>
              <option value="yes">has tool call</option>
              <option value="no">no tool call</option>
            </select>
          </label>
        </div>
      </div>
      <ErrorLine error={range.error ?? error ?? (liveError && `Live updates stopped: ${liveError}`)} />
      {!hasAny && !range.loading && (
        <p class="muted">
          No rollouts
          {filterId !== JSON.stringify(toFilter({ minReward: "", maxReward: "", stage: "", toolCall: "" })) ? " match these filters" : " yet"}.
        </p>
      )}
      {hasAny && page && (
        <p class="muted">
          {rollouts.length} of {Math.max(page.total, rollouts.length)} rollouts at step {step} in {groups.length} group
          {groups.length === 1 ? "" : "s"}
        </p>
      )}
      {loading && !rollouts.length && <Loading what="Loading rollouts" />}
      {groups.map(([g, rs]) => (
        <section key={g} class="group" data-group={g}>
          <h3>
            Group {g}{" "}
            <span class="muted">
              <span class="question-id">question {rs[0].questionId}</span> · {shotsLabel(rs[0].shots)} · mean reward{" "}
              {fmtNum(rs.reduce((s, r) => s + r.reward, 0) / rs.length)}
            </span>
          </h3>
          <Question rollout={rs[0]} />
          <div class="group-row">
            {rs.map((r) => (
              <RolloutCard key={r.id} rollout={r} />
            ))}
          </div>
        </section>
      ))}
      {page?.hasNext && (
        <button type="button" onClick={loadMore} disabled={loading}>
          Load more groups
        </button>
      )}
    </div>
  );
}

function Question({ rollout }: { rollout: RolloutFieldsFragment }) {
  const item = rollout.datasetItem;
  if (!item) return null;
  return (
    <div class="question">
      <p class="question-text">{item.question}</p>
      <p class="golds">
        <span class="muted">gold</span>
        {item.golds.map((g, i) => (
          <span key={i} class="chip gold">
            {g}
          </span>
        ))}
      </p>
    </div>
  );
}

function Answer({ rollout }: { rollout: RolloutFieldsFragment }) {
  const answer = finalAnswer(rollout.segments);
  const score = answerScore(rollout);
  const verdict = score >= 1 ? "true" : score <= 0 ? "false" : "partial";
  return (
    <p class="answer" data-correct={verdict}>
      <span class="muted">answer</span> {answer === null ? <i class="answer-text none">none given</i> : <b class="answer-text">{answer}</b>}{" "}
      <span class="answer-score" title="accuracy reward">
        score {fmtNum(score)}
      </span>
    </p>
  );
}

function RolloutCard({ rollout: r }: { rollout: RolloutFieldsFragment }) {
  const components =
    r.rewardComponents && typeof r.rewardComponents === "object" ? Object.entries(r.rewardComponents as Record<string, unknown>) : [];
  const advClass = r.advantage == null ? "" : r.advantage > 0 ? "pos" : r.advantage < 0 ? "neg" : "";
  return (
    <article class="rollout-card" data-rollout-id={r.id} data-step={r.step}>
      <header>
        <span class="sample">sample {r.sampleIndex}</span>
        <span class="reward" title="reward">
          r = {fmtNum(r.reward)}
        </span>
        <span class={`advantage ${advClass}`} title="GRPO advantage">
          A = {fmtSigned(r.advantage)}
        </span>
      </header>
      <div class="components">
        {components.map(([k, v]) => (
          <span key={k} class="chip">
            {k} {typeof v === "number" ? fmtNum(v) : String(v)}
          </span>
        ))}
      </div>
      <Answer rollout={r} />
      <p class="meta muted">
        {r.turns} turns · tools {r.toolCallsValid} ok / {r.toolCallsInvalid} bad · {r.promptTokens}+{r.responseTokens} tok · {r.finishReason}
      </p>
      <Segments segments={r.segments} />
    </article>
  );
}

// A study's progress: a bar split by run state (succeeded, running, failed, cancelled, queued) and
// the same counts in words, so it reads at a glance in a table and stays exact for a reader.
import type { StudyFieldsFragment } from "../lib/sdk.js";
import { fmtProgress } from "../lib/study-format.js";

const STATES = ["succeeded", "running", "failed", "cancelled", "queued"] as const;

export function StudyProgress({ progress }: { progress: StudyFieldsFragment["progress"] }) {
  const total = Math.max(1, progress.total);
  return (
    <div class="study-progress" data-succeeded={progress.succeeded} data-total={progress.total}>
      <div class="progress-bar" aria-hidden="true">
        {STATES.map((s) =>
          progress[s] > 0 ? <span key={s} class={`progress-part status-${s}`} style={{ width: `${(100 * progress[s]) / total}%` }} /> : null,
        )}
      </div>
      <span class="progress-text">{fmtProgress(progress)}</span>
    </div>
  );
}

// A trajectory as the model saw it: its own text, tool calls, tool results and system text, each
// styled apart so the turn structure is visible at a glance.
import type { SegmentKind } from "../lib/sdk.js";

const LABELS: Record<SegmentKind, string> = {
  MODEL: "model",
  TOOL_CALL: "tool call",
  TOOL_RESULT: "tool result",
  SYSTEM: "system",
};

export function Segments({ segments }: { segments: { kind: SegmentKind; text: string }[] }) {
  if (!segments.length) return <p class="muted">No segments.</p>;
  return (
    <div class="segments">
      {segments.map((s, i) => (
        <div key={i} class={`segment seg-${s.kind.toLowerCase().replace("_", "-")}`} data-kind={s.kind}>
          <span class="seg-tag">{LABELS[s.kind] ?? s.kind}</span>
          <pre class="seg-text">{s.text}</pre>
        </div>
      ))}
    </div>
  );
}

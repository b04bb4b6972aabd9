// The few run settings people look for first; the full config stays one click away.
function get(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

const FIELDS: [label: string, path: string][] = [
  ["model", "model.path"],
  ["task", "task"],
  ["split", "dataset.split"],
  ["group size", "grpo.groupSize"],
  ["questions/step", "grpo.questionsPerStep"],
  ["lr", "grpo.lr"],
  ["KL coef", "grpo.klCoef"],
  ["LoRA rank", "lora.rank"],
  ["temperature", "rollout.temperature"],
  ["max tool turns", "rollout.maxToolTurns"],
  ["reward", "reward.metric"],
  ["max steps", "maxSteps"],
  ["seed", "seed"],
];

export function ConfigSummary({ config }: { config: unknown }) {
  const stages = get(config, "curriculum.stages");
  const rows = FIELDS.map(([label, path]) => [label, get(config, path)] as const).filter(([, v]) => v !== undefined && v !== null);
  return (
    <div class="config-summary">
      <dl>
        {rows.map(([label, v]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{label === "model" ? String(v).split(/[\\/]/).pop() : String(v)}</dd>
          </div>
        ))}
        {Array.isArray(stages) && (
          <div>
            <dt>curriculum</dt>
            <dd>{stages.map((s) => `${(s as { shots?: number }).shots ?? "?"}-shot`).join(" → ")}</dd>
          </div>
        )}
      </dl>
      <details>
        <summary>Full config</summary>
        <pre class="json">{JSON.stringify(config, null, 2)}</pre>
      </details>
    </div>
  );
}

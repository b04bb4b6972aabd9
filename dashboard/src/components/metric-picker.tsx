// Which of a run's metrics are charted: every key it has, grouped by prefix, each one a checkbox.
// Folded away by default, with a summary that says how many are shown, so it never pushes the
// charts down unasked.
import { groupByPrefix } from "../lib/metrics.js";

export function MetricPicker({ keys, shown, onToggle }: { keys: string[]; shown: string[]; onToggle(key: string, on: boolean): void }) {
  const on = new Set(shown);
  return (
    <details class="metric-picker">
      <summary>
        Metrics: {shown.length} of {keys.length} charted · choose…
      </summary>
      {groupByPrefix(keys).map(([prefix, group]) => (
        <fieldset key={prefix}>
          <legend>{prefix}</legend>
          {group.map((key) => (
            <label key={key}>
              <input type="checkbox" value={key} checked={on.has(key)} onChange={(e) => onToggle(key, e.currentTarget.checked)} /> {key}
            </label>
          ))}
        </fieldset>
      ))}
    </details>
  );
}

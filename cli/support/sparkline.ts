// Unicode sparklines: the last `width` values scaled between their own min and max.
const BARS = "▁▂▃▄▅▆▇█";

export function sparkline(values: number[], width = 40): string {
  const shown = values.filter(Number.isFinite).slice(-width);
  if (!shown.length) return "";
  const min = Math.min(...shown);
  const max = Math.max(...shown);
  const span = max - min;
  // A flat series sits mid-height so it does not read as "zero".
  return shown.map((v) => BARS[span === 0 ? 3 : Math.round(((v - min) / span) * (BARS.length - 1))]).join("");
}

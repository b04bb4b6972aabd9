// Postgres text and jsonb cannot hold U+0000, but byte-level models do emit NUL bytes. Rather than
// reject a whole batch of rollouts over one byte, NUL is stored as U+FFFD (the replacement character).
const NUL = /\u0000/g;

export function pgText(value: string): string {
  return value.includes("\u0000") ? value.replace(NUL, "\uFFFD") : value;
}

export function pgJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "string" ? pgText(v) : v));
}

// Unknown keys in a config, named by their full path with the closest known key suggested:
// `grpo.lrr: unknown key; did you mean "lr"?`. Every level of the run config is strict, so a typo
// anywhere is an error rather than a default silently kept.
import type { z } from "zod";

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType; in?: z.ZodType; options?: z.ZodType[] };
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The keys an object schema at `path` accepts (unions: any option's); empty when there is no object there. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "default":
    case "prefault":
    case "nullable":
    case "readonly":
    case "catch":
      return knownKeysAt(def.innerType!, path);
    case "pipe":
      return knownKeysAt(def.in!, path);
    case "union":
      return [...new Set(def.options!.flatMap((o) => knownKeysAt(o, path)))];
    case "array":
      return path.length ? knownKeysAt(def.element!, path.slice(1)) : [];
    case "object": {
      if (!path.length) return Object.keys(def.shape!);
      const child = def.shape![String(path[0])];
      return child ? knownKeysAt(child, path.slice(1)) : [];
    }
    default:
      return [];
  }
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment). Written out rather than
 * imported: contracts/ depends on zod alone, so the SDK that bundles it ships with no more.
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known key a typo most likely meant: same letters in another case, or within a third of its length in edits. */
export function closestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase) return sameCase;
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const distance = editDistance(lower, k.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [k, distance];
  }
  return best;
}

/** The message for an unknown key under `parent` (a path into `schema`). */
export function unknownKeyMessage(schema: z.ZodType, parent: readonly PropertyKey[], key: string): string {
  const known = knownKeysAt(schema, parent);
  const guess = closestKey(key, known);
  if (guess) return `unknown key; did you mean "${guess}"?`;
  return known.length ? `unknown key (known here: ${known.join(", ")})` : "unknown key (check the spelling)";
}

// Deterministic randomness for demonstration sampling: the same (seed, key) must give the same draw on
// every worker and after every resume, independent of call order, so we derive a fresh generator
// from a hash of the pair instead of sharing one stateful generator.

/** 32-bit FNV-1a hash of a string (UTF-16 code units; stable across platforms). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a small, fast generator with a 32-bit state; good enough for picking examples. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator determined only by (seed, key). */
export function keyedRandom(seed: number, key: string): () => number {
  return mulberry32(fnv1a32(`${seed}\u0000${key}`));
}

/** k distinct indices from [0, n), drawn without replacement (partial Fisher-Yates). */
export function sampleIndices(n: number, k: number, random: () => number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i);
  const take = Math.min(Math.max(0, k), n);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (n - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, take);
}

// Forward-only connections (`after: endCursor`) made two-way: remember the cursor that opened each
// page, so Prev goes back one entry.
import { useEffect, useState } from "preact/hooks";

export interface CursorPages {
  page: number;
  after: string | null;
  next(endCursor: string | null | undefined): void;
  prev(): void;
}

export function useCursorPages(resetOn: unknown[]): CursorPages {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  useEffect(() => setStack([null]), resetOn);
  return {
    page: stack.length - 1,
    after: stack[stack.length - 1],
    next: (endCursor) => endCursor && setStack((s) => [...s, endCursor]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

// Live pages refetch when the server says something changed; a training step can say so several
// times a second. A throttled trigger runs at once when idle and otherwise once more at the end of
// the interval, so bursts cost one refetch per interval and the last change is always fetched.
import { useCallback, useEffect, useRef } from "preact/hooks";

export function useThrottled(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const state = useRef<{ last: number; timer: ReturnType<typeof setTimeout> | null }>({ last: 0, timer: null });
  useEffect(
    () => () => {
      if (state.current.timer !== null) clearTimeout(state.current.timer);
      state.current.timer = null;
    },
    [],
  );
  return useCallback(() => {
    const s = state.current;
    if (s.timer !== null) return;
    const run = () => {
      s.timer = null;
      s.last = Date.now();
      latest.current();
    };
    const wait = s.last + ms - Date.now();
    if (wait <= 0) run();
    else s.timer = setTimeout(run, wait);
  }, [ms]);
}

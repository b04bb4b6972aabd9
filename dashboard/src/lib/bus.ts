// A minimal publish/subscribe channel: the run page owns the live metric stream and hands each
// batch to whichever views are mounted.
export interface Bus<T> {
  emit(value: T): void;
  on(listener: (value: T) => void): () => void;
}

export function createBus<T>(): Bus<T> {
  const listeners = new Set<(value: T) => void>();
  return {
    emit: (value) => {
      for (const l of listeners) l(value);
    },
    on: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

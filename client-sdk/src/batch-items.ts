// Batched subscriptions (rolloutsAdded, metricsBatch) yield one batch per message: the cheap way to
// follow a busy run. Callers that only want the items, one at a time, unwrap them here; resumption is
// unaffected, since the client resumes from the last batch's cursor before any item of the next.
export async function* itemsOf<B, I>(batches: AsyncIterable<B>, items: (batch: B) => readonly I[]): AsyncGenerator<I> {
  for await (const batch of batches) yield* items(batch);
}

// The questions of a benchmark run, paged from the server in dataset order. The run covers the first
// `limit` items of the split; items an earlier attempt already stored are skipped, so a requeued job
// resumes where the last one stopped instead of redoing (and re-reporting) work.
import { JobDatasetItemsDocument, type IcrlClient } from "../../client-sdk/src/index.js";
import { retryTransient, type RetryOptions } from "../../client-sdk/src/index.js";
import type { EvalItem } from "./score-item.js";

export interface DatasetPagesOptions {
  jobId: string;
  datasetId: string;
  split?: string;
  /** Items of the run, completed ones included. */
  limit: number;
  skip: ReadonlySet<number>;
  pageSize?: number;
  retry?: RetryOptions;
}

export async function* datasetItems(client: IcrlClient, options: DatasetPagesOptions): AsyncGenerator<EvalItem> {
  let seen = 0;
  let after: string | null = null;
  const pageSize = options.pageSize ?? 500;
  while (seen < options.limit) {
    const page = await retryTransient(
      () =>
        client.query(JobDatasetItemsDocument, {
          jobId: options.jobId,
          datasetId: options.datasetId,
          split: options.split ?? null,
          first: Math.min(pageSize, options.limit - seen),
          after,
        }),
      options.retry,
    );
    const conn = page.jobDatasetItems;
    for (const node of conn.nodes) {
      if (seen >= options.limit) return;
      seen++;
      if (options.skip.has(node.index)) continue;
      yield { index: node.index, externalId: node.externalId, question: node.question, golds: node.golds };
    }
    if (!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor) return;
    after = conn.pageInfo.endCursor;
  }
}

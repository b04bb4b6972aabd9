// Walks a connection page by page, so lists of any length stream through without being collected.
export interface Connection<T> {
  nodes: T[];
  pageInfo: { endCursor?: string | null; hasNextPage: boolean };
}

export async function* pages<T>(fetchPage: (after: string | null) => Promise<Connection<T>>): AsyncGenerator<T[]> {
  let after: string | null = null;
  for (;;) {
    const page: Connection<T> = await fetchPage(after);
    if (page.nodes.length) yield page.nodes;
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
    after = page.pageInfo.endCursor;
  }
}

export async function collect<T>(source: AsyncGenerator<T[]>, limit = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const batch of source) {
    for (const item of batch) {
      if (out.length >= limit) return out;
      out.push(item);
    }
  }
  return out;
}

// Small shared bits: status badges, loading/error lines, and a pager for cursor connections.
import type { ComponentChildren } from "preact";

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return <p class="muted loading">{what}…</p>;
}

export function ErrorLine({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Pager(props: {
  page: number;
  pageSize: number;
  total: number;
  hasNext: boolean;
  onPrev(): void;
  onNext(): void;
  children?: ComponentChildren;
}) {
  const from = props.total === 0 ? 0 : props.page * props.pageSize + 1;
  const to = Math.min(props.total, (props.page + 1) * props.pageSize);
  return (
    <div class="pager">
      <button type="button" disabled={props.page === 0} onClick={props.onPrev}>
        ← Prev
      </button>
      <span class="muted">
        {from}–{to} of {props.total}
      </span>
      <button type="button" disabled={!props.hasNext} onClick={props.onNext}>
        Next →
      </button>
      {props.children}
    </div>
  );
}

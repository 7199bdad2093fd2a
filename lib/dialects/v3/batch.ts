/**
 * The v3 batch envelope (seed D.2, Appendix K.1): `{count, results[]}` (`all_counts` for
 * batch-select-objects and batch-update-user), one result per item in request order. A domain
 * error on one item (unknown job, wrong status, ...) becomes that item's `{error_code, error_msg}`
 * (`error_message` where the SDK model says so) and the others still run; the HTTP status stays
 * the operation's own (200/202) while at least one item succeeded. When every item failed the
 * answer is a 400 carrying the first error at top level and the per-item results (the Terraform
 * provider reads `results[0].error_code` of a 400 batch-detail to tell "not found").
 *
 * Anything that is not an AppError is a bug, not an item outcome: it propagates (500).
 */
import { AppError } from '../../errors.js';
import { reply, type Reply } from '../../http/envelope.js';

export type ErrorKey = 'error_msg' | 'error_message';

export interface ItemOutcome<R> {
  result: R;
  error?: AppError;
}

/** `{error_code, error_msg|error_message}` of a failed item, in the v3 dialect's codes. */
export function itemError(e: AppError): { error_code: string; error_msg: string };
export function itemError(e: AppError, key: 'error_message'): { error_code: string; error_message: string };
export function itemError(e: AppError, key: ErrorKey = 'error_msg'): Record<string, string> {
  return { error_code: e.codes.v3, [key]: e.message };
}

/** Run `run` for each item in order; an AppError becomes `failed(item, error)`. */
export async function eachItem<I, R, F = R>(items: readonly I[], run: (item: I, index: number) => Promise<R>, failed: (item: I, e: AppError) => F): Promise<ItemOutcome<R | F>[]> {
  const out: ItemOutcome<R | F>[] = [];
  for (const [i, item] of items.entries()) {
    try {
      out.push({ result: await run(item, i) });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      out.push({ result: failed(item, e), error: e });
    }
  }
  return out;
}

export interface BatchOptions {
  /** Success status of the operation (seed K.2). */
  status: 200 | 202;
  /** Name of the count field: `count` (most), `all_counts` (select-objects, update-user). */
  countKey?: 'count' | 'all_counts';
  /** Name of the result list (`results`; `params_list` for batch-get-params). */
  listKey?: string;
  /** Value of the count field when it is not the number of results (paged queries). */
  count?: number;
}

/** The batch reply: 200/202 unless every item failed (then 400 with the first error on top). */
export function batchReply<R>(outcomes: ItemOutcome<R>[], opts: BatchOptions): Reply {
  const body = { [opts.countKey ?? 'count']: opts.count ?? outcomes.length, [opts.listKey ?? 'results']: outcomes.map((o) => o.result) };
  const first = outcomes.find((o) => o.error)?.error;
  if (outcomes.length > 0 && outcomes.every((o) => o.error) && first) {
    return reply(400, { error_code: first.codes.v3, error_msg: first.message.slice(0, 512), ...body });
  }
  return reply(opts.status, body);
}

/** Convenience: run the items and build the reply in one call. */
export async function runBatch<I, R, F = R>(items: readonly I[], run: (item: I, index: number) => Promise<R>, failed: (item: I, e: AppError) => F, opts: BatchOptions): Promise<Reply> {
  return batchReply(await eachItem(items, run, failed), opts);
}

/**
 * `page_req{cur_page, per_page}` over a list of ids (seed 6.1.20/6.1.21): per_page 0 = all,
 * default 5 when page_req is given; without page_req every id is answered.
 */
export function pageIds<T>(ids: readonly T[], page?: { cur_page?: number; per_page?: number }): T[] {
  const per = page ? (page.per_page ?? 5) : ids.length;
  if (per === 0) return [...ids];
  const cur = Math.max(1, page?.cur_page ?? 1);
  return ids.slice((cur - 1) * per, cur * per);
}

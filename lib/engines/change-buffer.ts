/**
 * Handing out buffered source transactions in batches (both CDC readers keep completed
 * transactions in an array until the applier asks for them).
 */
import type { ChangeTransaction } from './engine.js';

/**
 * Remove and return the first transactions of `ready`: at most `maxTransactions`, and no more
 * than `maxEvents` changes unless a single transaction alone has more (one is always handed out
 * whole). One splice per batch: shifting them off one by one moves the whole buffer every time.
 */
export function takeTransactions(ready: ChangeTransaction[], opts: { maxTransactions: number; maxEvents: number }): { batch: ChangeTransaction[]; events: number } {
  const max = Math.max(1, opts.maxTransactions);
  let n = 0;
  let events = 0;
  while (n < ready.length && n < max) {
    const k = ready[n]!.changes.length;
    if (n > 0 && events + k > opts.maxEvents) break;
    events += k;
    n++;
  }
  return { batch: ready.splice(0, n), events };
}

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

/**
 * The reader's "something arrived" signal: `wait` resolves after `ms`, or as soon as `wake` is
 * called (a transaction completed, an error, the stream closed), whichever comes first.
 */
export class WakeSignal {
  private waiter?: () => void;

  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, ms);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

/**
 * Speed limits, enforced where the work is done (DESIGN §5 rule 7): the copy and apply loops
 * call `consume(bytes)` per page. Limits are MB/s in UTC time windows (`hh:mm`–`hh:mm`, a window
 * may wrap midnight); outside every window there is no limit. Each of `shares` parallel workers
 * gets an equal part of the limit.
 */
import type { SpeedLimit } from '../job/job.js';

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The limit in bytes/s in force at `at`, or undefined when no window covers it. */
export function limitAt(limits: SpeedLimit[], at: Date): number | undefined {
  const m = at.getUTCHours() * 60 + at.getUTCMinutes();
  for (const l of limits) {
    const b = minutes(l.begin);
    const e = minutes(l.end);
    const inside = b <= e ? m >= b && m <= e : m >= b || m <= e;
    if (inside) return l.speed * 1024 * 1024;
  }
  return undefined;
}

export class Throttle {
  private windowStart = Date.now();
  private spent = 0;
  constructor(
    private limits: SpeedLimit[],
    private readonly shares = 1,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  update(limits: SpeedLimit[]): void {
    this.limits = limits;
  }

  /** Account for `bytes` just moved; waits as long as needed to stay under the limit. */
  async consume(bytes: number): Promise<number> {
    const now = this.clock();
    const limit = limitAt(this.limits, new Date(now));
    if (limit === undefined) {
      this.windowStart = now;
      this.spent = 0;
      return 0;
    }
    const perWorker = limit / this.shares;
    if (now - this.windowStart > 10_000) {
      this.windowStart = now;
      this.spent = 0;
    }
    this.spent += bytes;
    const earliest = this.windowStart + (this.spent / perWorker) * 1000;
    const wait = Math.max(0, earliest - now);
    if (wait > 0) await this.sleep(wait);
    return wait;
  }
}

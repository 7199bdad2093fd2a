import { z } from 'zod';
import { compareDeps } from '../../lib/compare/deps.js';
import { compareWork } from '../../lib/steps/compare.js';
import { taskHandler } from '../../lib/workflow/task-handler.js';
import { CompareTaskInput } from './compare-start.js';

/** Leave a minute of the Lambda's time for the last item and its bookkeeping; never more than 10 minutes. */
export const makeHandler = (deps = compareDeps) =>
  taskHandler(CompareTaskInput.extend({ worker: z.number().int().min(0) }), (input, ctx) => compareWork(input, deps(), Math.min(600_000, ctx.remainingMs() - 60_000)));

export const handler = makeHandler();

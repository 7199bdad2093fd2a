import { z } from 'zod';
import { jobDeps } from '../../lib/job/deps.js';
import { loadChunks } from '../../lib/steps/full-load.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

/** Leave a minute of the Lambda's time for the last page and the bookkeeping; never more than 10 minutes. */
export const makeHandler = (deps = jobDeps) =>
  taskHandler(TaskInput.extend({ worker: z.number().int().min(0) }), (input, ctx) => loadChunks(input, deps(), Math.min(600_000, ctx.remainingMs() - 60_000)));

export const handler = makeHandler();

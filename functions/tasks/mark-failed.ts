import { z } from 'zod';
import { jobDeps } from '../../lib/job/deps.js';
import { markFailed } from '../../lib/steps/run.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) =>
  taskHandler(TaskInput.extend({ error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional() }), (input) => markFailed(input, deps()));

export const handler = makeHandler();

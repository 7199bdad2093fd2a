import { z } from 'zod';
import { compareDeps } from '../../lib/compare/deps.js';
import { startCompare } from '../../lib/steps/compare.js';
import { taskHandler } from '../../lib/workflow/task-handler.js';

export const CompareTaskInput = z.object({ projectId: z.string().min(1), jobId: z.string().min(1), taskId: z.string().min(1) });

export const makeHandler = (deps = compareDeps) => taskHandler(CompareTaskInput, (input) => startCompare(input, deps()));

export const handler = makeHandler();

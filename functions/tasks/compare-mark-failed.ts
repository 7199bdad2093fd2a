import { z } from 'zod';
import { compareDeps } from '../../lib/compare/deps.js';
import { markCompareFailed } from '../../lib/steps/compare.js';
import { taskHandler } from '../../lib/workflow/task-handler.js';
import { CompareTaskInput } from './compare-start.js';

export const makeHandler = (deps = compareDeps) =>
  taskHandler(CompareTaskInput.extend({ error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional() }), (input) => markCompareFailed(input, deps()));

export const handler = makeHandler();

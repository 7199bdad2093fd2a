import { compareDeps } from '../../lib/compare/deps.js';
import { finishCompare } from '../../lib/steps/compare.js';
import { taskHandler } from '../../lib/workflow/task-handler.js';
import { CompareTaskInput } from './compare-start.js';

export const makeHandler = (deps = compareDeps) => taskHandler(CompareTaskInput, (input) => finishCompare(input, deps()));

export const handler = makeHandler();

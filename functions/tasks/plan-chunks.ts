import { jobDeps } from '../../lib/job/deps.js';
import { planChunks } from '../../lib/steps/full-load.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) => taskHandler(TaskInput, (input) => planChunks(input, deps()));

export const handler = makeHandler();

import { jobDeps } from '../../lib/job/deps.js';
import { continueAsNew } from '../../lib/steps/cdc.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) => taskHandler(TaskInput, (input) => continueAsNew(input, deps()));

export const handler = makeHandler();

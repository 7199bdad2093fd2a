import { jobDeps } from '../../lib/job/deps.js';
import { releaseResources } from '../../lib/steps/run.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) => taskHandler(TaskInput, (input) => releaseResources(input, deps()));

export const handler = makeHandler();

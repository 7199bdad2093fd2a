import { jobDeps } from '../../lib/job/deps.js';
import { copySchema } from '../../lib/steps/full-load.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) => taskHandler(TaskInput, (input) => copySchema(input, deps()));

export const handler = makeHandler();

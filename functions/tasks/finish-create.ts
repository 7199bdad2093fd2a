import { finishCreate } from '../../lib/job/commands.js';
import { jobDeps } from '../../lib/job/deps.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) =>
  taskHandler(TaskInput, async (input) => {
    const job = await finishCreate(input.projectId, input.jobId, deps());
    return { status: job.status };
  });

export const handler = makeHandler();

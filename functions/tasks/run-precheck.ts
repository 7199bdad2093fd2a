import { jobDeps } from '../../lib/job/deps.js';
import { runPrecheck } from '../../lib/steps/checks.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) =>
  taskHandler(TaskInput, async (input) => {
    const results = await runPrecheck(input.projectId, input.jobId, input.runId, deps());
    return { items: results.length, failed: results.filter((r) => r.result === 'failed').length };
  });

export const handler = makeHandler();

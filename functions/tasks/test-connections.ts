import { jobDeps } from '../../lib/job/deps.js';
import { testConnections } from '../../lib/steps/checks.js';
import { TaskInput, taskHandler } from '../../lib/workflow/task-handler.js';

export const makeHandler = (deps = jobDeps) =>
  taskHandler(TaskInput, async (input) => {
    const results = await testConnections(input.projectId, input.jobId, input.runId, deps());
    return { tested: results.length, success: results.every((r) => r.success) };
  });

export const handler = makeHandler();

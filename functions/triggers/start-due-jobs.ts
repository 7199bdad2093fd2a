/** Every minute (EventBridge schedule on AWS, a timer in the local runtime): start jobs whose start_time has come. */
import { jobDeps } from '../../lib/job/deps.js';
import { startDueJobs } from '../../lib/job/scheduler.js';

export const makeHandler = (deps = jobDeps) => async () => startDueJobs(deps());

export const handler = makeHandler();

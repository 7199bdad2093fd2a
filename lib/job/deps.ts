/** The real adapters behind the job commands, built once per container. */
import { secretBox } from '../secrets/secret-box.js';
import { connectionStore } from '../store/connection-store.js';
import { jobStore } from '../store/job-store.js';
import { workflow } from '../workflow/workflow.js';
import type { JobDeps } from './commands.js';

export function jobDeps(): JobDeps {
  return { jobs: jobStore(), connections: connectionStore(), secrets: secretBox(), workflow };
}

/**
 * Replace the password a job uses for its source or target (v3 batch-modify-pwd, the
 * RESET_DB_PWD job action). The new password is encrypted before it is stored, and nothing is
 * restarted: every step resolves its endpoints when it opens a connection (lib/steps/context.ts),
 * so the new password takes effect at the job's next connection. When the endpoint refers to a
 * saved connection, the job's own password now overrides the connection's.
 */
import { ACTION_RULES } from './actions.js';
import { getJob, mergeEndpoint, mutateJob, type JobDeps } from './commands.js';
import type { Job } from './job.js';
import { InvalidTransitionError } from './transitions.js';

export type EndpointRole = 'source' | 'target';

function assertResettable(j: Job): void {
  if (!ACTION_RULES.RESET_DB_PWD(j)) throw new InvalidTransitionError(j.id, j.status, 'reset the database password', 'DRS.10000001');
}

export async function resetPassword(projectId: string, id: string, role: EndpointRole, password: string, deps: JobDeps): Promise<Job> {
  const before = await getJob(projectId, id, deps);
  assertResettable(before);
  // Sealed once, before the (retryable) mutation.
  const sealed = await mergeEndpoint(before[role], { password }, role === 'source' ? 'source_endpoint' : 'target_endpoint', projectId, deps);
  return mutateJob(projectId, id, deps, (j) => {
    assertResettable(j);
    j[role] = { ...j[role], passwordCipher: sealed.passwordCipher };
    return j;
  });
}

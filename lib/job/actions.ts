/**
 * The job_action vocabulary (seed appendix D.3): which actions a job allows in its current
 * status, derived from the transition table and the commands' own rules, never listed twice.
 */
import { precheckPassed } from './commands.js';
import type { Job } from './job.js';
import { canTransition, type JobStatus } from './transitions.js';

const RUNNING: JobStatus[] = ['STARTJOBING', 'FULL_TRANSFER_STARTED', 'INCRE_TRANSFER_STARTED'];
const RESUMABLE: JobStatus[] = ['PAUSING', 'START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED'];
const RESETTABLE: JobStatus[] = ['START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'PAUSING', 'FULL_TRANSFER_COMPLETE'];
const DELETABLE: JobStatus[] = ['CREATE_FAILED', 'CONFIGURATION', 'RELEASE_RESOURCE_COMPLETE'];
const ENDED: JobStatus[] = ['RELEASE_RESOURCE_STARTED', 'RELEASE_RESOURCE_COMPLETE', 'RELEASE_RESOURCE_FAILED', 'DELETED'];
const NO_CLONE: JobStatus[] = ['CREATING', 'CREATE_FAILED', 'CONFIGURATION', 'WAITING_FOR_START', 'STARTJOBING', 'DELETED'];
const PASSWORD_RESETTABLE: JobStatus[] = ['CONFIGURATION', 'STARTJOBING', 'START_JOB_FAILED', 'FULL_TRANSFER_STARTED', 'FULL_TRANSFER_FAILED', 'FULL_TRANSFER_COMPLETE', 'INCRE_TRANSFER_STARTED', 'INCRE_TRANSFER_FAILED', 'PAUSING'];

const precheckOk = (j: Job) => !!j.precheck && precheckPassed(j.precheck) && j.precheck.configVersion === j.configVersion;

export const ACTION_RULES: Record<string, (j: Job) => boolean> = {
  CHOOSE_OBJECT: (j) => j.status === 'CONFIGURATION',
  MODIFY_CONFIGURATION: (j) => j.status === 'CONFIGURATION',
  MODIFY_DB_CONFIG: (j) => j.status === 'CONFIGURATION',
  PRE_CHECK: (j) => ['CONFIGURATION', ...RESUMABLE].includes(j.status) && j.precheck?.status !== 'pending',
  QUERY_PRE_CHECK: (j) => !!j.precheck,
  START: (j) => canTransition(j.status, 'STARTJOBING') && j.status === 'CONFIGURATION' && precheckOk(j),
  PAUSE: (j) => RUNNING.includes(j.status),
  RETRY: (j) => RESUMABLE.includes(j.status),
  RESET: (j) => RESETTABLE.includes(j.status) && precheckOk(j),
  FREE_RESOURCE: (j) => canTransition(j.status, 'RELEASE_RESOURCE_STARTED'),
  DELETE: (j) => DELETABLE.includes(j.status),
  CLONE: (j) => !NO_CLONE.includes(j.status),
  RESET_DB_PWD: (j) => PASSWORD_RESETTABLE.includes(j.status),
  CHANGE: (j) => !ENDED.includes(j.status) && j.status !== 'CREATING',
  SWITCH_OVER: (j) => j.jobType === 'cloudDataGuard' && ['INCRE_TRANSFER_STARTED', 'INCRE_TRANSFER_FAILED'].includes(j.status),
};

export function currentAction(j: Job): string {
  if (j.status === 'CREATING') return 'CREATE';
  if (j.status === 'CONFIGURATION') return 'API_CONFIGURATION_ACTION';
  if (RUNNING.includes(j.status) || j.status === 'WAITING_FOR_START') return 'START';
  if (j.status === 'PAUSING') return 'PAUSE';
  if (j.status.startsWith('RELEASE_RESOURCE')) return 'FREE_RESOURCE';
  return '';
}

export function jobActions(j: Job): { available_actions: string[]; unavailable_actions: string[]; current_action: string } {
  const available: string[] = [];
  const unavailable: string[] = [];
  for (const [name, allowed] of Object.entries(ACTION_RULES)) (allowed(j) ? available : unavailable).push(name);
  return { available_actions: available, unavailable_actions: unavailable, current_action: currentAction(j) };
}

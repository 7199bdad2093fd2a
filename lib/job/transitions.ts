/**
 * Job statuses (the seed's appendix A.4, plus the v3-only values) and the one transition table
 * every command checks: v5 action_names, v3 batch endpoints and OMS actions are all commands over
 * this table. Pure: no I/O.
 */
import { AppError, type ErrorCodes } from '../errors.js';

export const JOB_STATUSES = [
  'CREATING', 'CREATE_FAILED', 'CONFIGURATION', 'STARTJOBING', 'WAITING_FOR_START', 'START_JOB_FAILED', 'PAUSING',
  'FULL_TRANSFER_STARTED', 'FULL_TRANSFER_FAILED', 'FULL_TRANSFER_COMPLETE', 'INCRE_TRANSFER_STARTED', 'INCRE_TRANSFER_FAILED',
  'RELEASE_RESOURCE_STARTED', 'RELEASE_RESOURCE_FAILED', 'RELEASE_RESOURCE_COMPLETE',
  'CHANGE_JOB_STARTED', 'CHANGE_JOB_FAILED', 'CHILD_TRANSFER_STARTING', 'CHILD_TRANSFER_STARTED', 'CHILD_TRANSFER_COMPLETE',
  'CHILD_TRANSFER_FAILED', 'RELEASE_CHILD_TRANSFER_STARTED', 'RELEASE_CHILD_TRANSFER_COMPLETE',
  'REBUILD_NODE_STARTED', 'REBUILD_NODE_FAILED', 'DELETED', 'NODE_UPGRADE_START', 'NODE_UPGRADE_COMPLETE', 'NODE_UPGRADE_FAILED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * Statuses this deployment never enters: they describe Huawei's sub-task re-editing, node
 * rebuilds and upgrades, which have no counterpart here. They are accepted as list filters.
 */
export const FOREIGN_STATUSES: readonly JobStatus[] = [
  'CHANGE_JOB_STARTED', 'CHANGE_JOB_FAILED', 'CHILD_TRANSFER_STARTING', 'CHILD_TRANSFER_STARTED', 'CHILD_TRANSFER_COMPLETE',
  'CHILD_TRANSFER_FAILED', 'RELEASE_CHILD_TRANSFER_STARTED', 'RELEASE_CHILD_TRANSFER_COMPLETE', 'REBUILD_NODE_STARTED',
  'REBUILD_NODE_FAILED', 'NODE_UPGRADE_START', 'NODE_UPGRADE_COMPLETE', 'NODE_UPGRADE_FAILED',
];

/**
 * Allowed transitions. Why each exists:
 * - CREATING finishes asynchronously into CONFIGURATION (or CREATE_FAILED).
 * - From CONFIGURATION a passed precheck allows start (now or at start_time); terminate ends it.
 * - Running phases can pause (PAUSING), fail, finish, or be terminated; full load hands over to
 *   incremental sync for FULL_INCR_TRANS jobs.
 * - Failed and paused jobs resume (restart) into the phase they stopped in, or are reset
 *   (start again from scratch through STARTJOBING), or terminated.
 * - Termination releases resources (replication slots, positions); only then may a job be deleted
 *   (or before it ever started: a job in CONFIGURATION holds nothing on the databases).
 */
export const TRANSITIONS = {
  CREATING: ['CONFIGURATION', 'CREATE_FAILED'],
  CREATE_FAILED: ['DELETED'],
  CONFIGURATION: ['STARTJOBING', 'WAITING_FOR_START', 'RELEASE_RESOURCE_STARTED', 'DELETED'],
  WAITING_FOR_START: ['STARTJOBING', 'CONFIGURATION', 'RELEASE_RESOURCE_STARTED'],
  STARTJOBING: ['FULL_TRANSFER_STARTED', 'INCRE_TRANSFER_STARTED', 'START_JOB_FAILED', 'PAUSING', 'RELEASE_RESOURCE_STARTED'],
  START_JOB_FAILED: ['STARTJOBING', 'RELEASE_RESOURCE_STARTED'],
  FULL_TRANSFER_STARTED: ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_STARTED', 'PAUSING', 'RELEASE_RESOURCE_STARTED'],
  FULL_TRANSFER_FAILED: ['FULL_TRANSFER_STARTED', 'STARTJOBING', 'RELEASE_RESOURCE_STARTED'],
  FULL_TRANSFER_COMPLETE: ['INCRE_TRANSFER_STARTED', 'STARTJOBING', 'RELEASE_RESOURCE_STARTED'],
  INCRE_TRANSFER_STARTED: ['INCRE_TRANSFER_FAILED', 'PAUSING', 'RELEASE_RESOURCE_STARTED'],
  INCRE_TRANSFER_FAILED: ['INCRE_TRANSFER_STARTED', 'STARTJOBING', 'RELEASE_RESOURCE_STARTED'],
  PAUSING: ['FULL_TRANSFER_STARTED', 'INCRE_TRANSFER_STARTED', 'STARTJOBING', 'RELEASE_RESOURCE_STARTED'],
  RELEASE_RESOURCE_STARTED: ['RELEASE_RESOURCE_COMPLETE', 'RELEASE_RESOURCE_FAILED'],
  RELEASE_RESOURCE_FAILED: ['RELEASE_RESOURCE_STARTED', 'RELEASE_RESOURCE_COMPLETE'],
  RELEASE_RESOURCE_COMPLETE: ['DELETED'],
  DELETED: [],
  CHANGE_JOB_STARTED: [], CHANGE_JOB_FAILED: [], CHILD_TRANSFER_STARTING: [], CHILD_TRANSFER_STARTED: [], CHILD_TRANSFER_COMPLETE: [],
  CHILD_TRANSFER_FAILED: [], RELEASE_CHILD_TRANSFER_STARTED: [], RELEASE_CHILD_TRANSFER_COMPLETE: [], REBUILD_NODE_STARTED: [],
  REBUILD_NODE_FAILED: [], NODE_UPGRADE_START: [], NODE_UPGRADE_COMPLETE: [], NODE_UPGRADE_FAILED: [],
} as const satisfies Record<JobStatus, readonly JobStatus[]>;

/** Statuses in which a workflow execution is (or should be) doing work for the job. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['STARTJOBING', 'FULL_TRANSFER_STARTED', 'INCRE_TRANSFER_STARTED', 'RELEASE_RESOURCE_STARTED'];
/** Failed statuses: the "all abnormal" list filter of v5 list jobs. */
export const FAILED_STATUSES: readonly JobStatus[] = ['CREATE_FAILED', 'START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'RELEASE_RESOURCE_FAILED', 'CHANGE_JOB_FAILED', 'CHILD_TRANSFER_FAILED'];

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return (TRANSITIONS[from] as readonly JobStatus[]).includes(to);
}

/** The action asked for is not allowed in the job's current status. Names the status. */
export class InvalidTransitionError extends AppError {
  readonly status = 400;
  readonly codes: ErrorCodes;
  constructor(
    readonly jobId: string,
    readonly from: JobStatus,
    readonly action: string,
    v5Code = 'DRS.10000001',
  ) {
    super(`The job is in status ${from}; "${action}" is not allowed in this status.`, { details: { from, action } });
    this.name = 'InvalidTransitionError';
    this.codes = { v3: 'DRS.M00304', v5: v5Code, oms: 'GHANA-OPERAT-STATUS' };
  }
}

/** Check a transition, or throw naming the status and the action. */
export function assertTransition(jobId: string, from: JobStatus, to: JobStatus, action: string, v5Code?: string): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(jobId, from, action, v5Code);
}

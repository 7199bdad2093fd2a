/**
 * Job commands: create, update, the lifecycle actions, delete, clone. Each one loads the job,
 * checks the transition table, and saves with a conditional write on the version it read; a lost
 * race is retried from a fresh read, so racing requests end in one consistent outcome (one wins,
 * the others see the new status and are refused, naming it).
 *
 * Work that takes time (creating, testing connections, precheck, the migration itself, releasing
 * resources) is recorded on the job first and then handed to the workflow, which reads the job.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrentUpdateError, ConflictError, InvalidParameterError, NotApplicableError, NotFoundError, type ErrorCodes } from '../errors.js';
import type { SecretBox } from '../secrets/secret-box.js';
import type { ConnectionStore } from '../store/connection-store.js';
import type { JobStore } from '../store/job-store.js';
import type { Workflow, WorkflowMode } from '../workflow/workflow.js';
import type { CdcPosition } from '../engines/engine.js';
import type { AlarmNotify, DbObjectSelection, Job, JobEndpoint, PolicyConfig, PrecheckRun, SpeedLimit } from './job.js';
import { checkEndpointType, enginesFor, validateSpeedLimits, type EndpointSpec, type JobSpec } from './spec.js';
import { assertPolicySupported } from './policy.js';
import { assertTransition, canTransition, InvalidTransitionError, type JobStatus } from './transitions.js';

export interface JobDeps {
  jobs: JobStore;
  connections: ConnectionStore;
  secrets: SecretBox;
  workflow: () => Promise<Workflow>;
  now?: () => number;
  /** Jobs a project may hold (v3 quotas). */
  maxJobsPerProject?: number;
}

export const JOB_NOT_FOUND: ErrorCodes = { v3: 'DRS.M00289', v5: 'DRS.10000010', oms: 'PARAM_ERROR' };
const DUPLICATE_NAME: ErrorCodes = { v3: 'DRS.M00277', v5: 'DRS.10020077', oms: 'PARAM_ERROR' };
export const DEFAULT_MAX_JOBS = 50;

const now = (deps: Pick<JobDeps, 'now'>) => (deps.now ?? Date.now)();

/** Suffix DRS job ids carry (`…jb101`): UUID shape, `jb` + 2 characters at the end. */
export function newJobId(): string {
  const u = randomUUID();
  return u.slice(0, -4) + 'jb' + u.slice(-2);
}

export async function getJob(projectId: string, id: string, deps: Pick<JobDeps, 'jobs'>): Promise<Job> {
  const job = await deps.jobs.get(projectId, id);
  if (!job) throw new NotFoundError('job', id, JOB_NOT_FOUND);
  return job;
}

/**
 * Load → change → conditional save, retried from a fresh read when another writer won. `change`
 * must re-check everything it relies on (it sees the latest job each time).
 */
export async function mutateJob(projectId: string, id: string, deps: Pick<JobDeps, 'jobs' | 'now'>, change: (job: Job) => Job | Promise<Job>): Promise<Job> {
  for (let attempt = 0; ; attempt++) {
    const current = await getJob(projectId, id, deps);
    const next = await change(structuredClone(current));
    // Unchanged: nothing to write (and no version to burn).
    if (JSON.stringify(next) === JSON.stringify(current)) return current;
    next.version = current.version + 1;
    next.updateTime = now(deps);
    try {
      await deps.jobs.save(next);
      return next;
    } catch (e) {
      if (!(e instanceof ConcurrentUpdateError) || attempt >= 4) throw e;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
  }
}

function transitionTo(job: Job, to: JobStatus, action: string, v5Code?: string): Job {
  assertTransition(job.id, job.status, to, action, v5Code);
  job.status = to;
  return job;
}

// --- create -------------------------------------------------------------------------------

async function sealEndpoint(e: EndpointSpec, expected: ReturnType<typeof enginesFor>['source'], role: 'source_endpoint' | 'target_endpoint', projectId: string, deps: JobDeps): Promise<JobEndpoint> {
  checkEndpointType(role, e.dbType, expected);
  if (e.connectionId) {
    const conn = await deps.connections.get(projectId, e.connectionId);
    if (!conn) throw new InvalidParameterError(`${role}.endpoint.id`, `connection ${e.connectionId} does not exist in this project`);
    if (conn.db_type !== expected) throw new InvalidParameterError(`${role}.endpoint.id`, `connection ${e.connectionId} is a ${conn.db_type} connection, this job needs ${expected}`);
  }
  return {
    dbType: expected,
    connectionId: e.connectionId,
    host: e.host,
    port: e.port,
    user: e.user,
    passwordCipher: e.password !== undefined ? await deps.secrets.encrypt(e.password) : undefined,
    dbName: e.dbName,
    ssl: e.ssl ? { enabled: e.ssl.enabled, caCipher: e.ssl.ca ? await deps.secrets.encrypt(e.ssl.ca) : undefined, certName: e.ssl.certName, checkSum: e.ssl.checkSum, verify: e.ssl.verify } : undefined,
    extra: e.extra,
  };
}

/** Merge an endpoint update into a stored endpoint: unspecified fields keep their value. */
export async function mergeEndpoint(prev: JobEndpoint, e: Partial<EndpointSpec>, role: 'source_endpoint' | 'target_endpoint', projectId: string, deps: JobDeps): Promise<JobEndpoint> {
  const sealed = await sealEndpoint({ dbType: prev.dbType, extra: {}, ...e } as EndpointSpec, prev.dbType, role, projectId, deps);
  return {
    ...prev,
    connectionId: e.connectionId ?? prev.connectionId,
    host: e.host ?? prev.host,
    port: e.port ?? prev.port,
    user: e.user ?? prev.user,
    passwordCipher: sealed.passwordCipher ?? prev.passwordCipher,
    dbName: e.dbName ?? prev.dbName,
    ssl: sealed.ssl ?? prev.ssl,
    extra: { ...prev.extra, ...(e.extra ?? {}) },
  };
}

export async function createJob(projectId: string, spec: JobSpec, deps: JobDeps, createdBy: Job['createdBy'] = 'v5', cloneOf?: string): Promise<Job> {
  const kinds = enginesFor(spec);
  const max = deps.maxJobsPerProject ?? DEFAULT_MAX_JOBS;
  if ((await deps.jobs.listSummaries(projectId)).length >= max) throw new QuotaExceededError(max);
  if (spec.speedLimits) validateSpeedLimits(spec.speedLimits);
  const source = await sealEndpoint(spec.source, kinds.source, 'source_endpoint', projectId, deps);
  const target = await sealEndpoint(spec.target, kinds.target, 'target_endpoint', projectId, deps);
  const id = newJobId();
  if (!(await deps.jobs.claimName(projectId, spec.name, id))) throw new ConflictError(`Duplicate task name: a job named "${spec.name}" exists in this project.`, DUPLICATE_NAME);
  const t = now(deps);
  const job: Job = {
    id,
    projectId,
    name: spec.name,
    description: spec.description ?? '',
    status: 'CREATING',
    version: 1,
    configVersion: 1,
    createTime: t,
    updateTime: t,
    jobType: spec.jobType,
    engineType: spec.engineType,
    taskType: spec.taskType,
    jobDirection: spec.jobDirection ?? 'up',
    netType: spec.netType ?? 'eip',
    nodeType: spec.nodeType ?? 'high',
    multiWrite: spec.multiWrite ?? false,
    isTargetReadonly: spec.isTargetReadonly ?? true,
    chargingMode: spec.chargingMode ?? 'on_demand',
    enterpriseProjectId: spec.enterpriseProjectId ?? '0',
    expiredDays: spec.expiredDays ?? '14',
    tags: spec.tags ?? [],
    startTime: spec.startTime,
    createdBy,
    cloneOf,
    source,
    target,
    dbObject: spec.dbObject ?? { object_scope: 'all' },
    policy: spec.policy ?? {},
    speedLimits: spec.speedLimits ?? [],
    alarmNotify: spec.alarmNotify,
    echo: spec.echo ?? {},
  };
  try {
    await deps.jobs.create(job);
  } catch (e) {
    await deps.jobs.releaseName(projectId, spec.name, id);
    throw e;
  }
  await startWorkflow(job, 'create', job.id, deps);
  return job;
}

export class QuotaExceededError extends ConflictError {
  constructor(max: number) {
    super(`The number of jobs has reached this project's quota of ${max}; delete ended jobs or raise the quota.`, { v3: 'DRS.M00105', v5: 'DRS.10010006', oms: 'PARAM_ERROR' });
    this.name = 'QuotaExceededError';
  }
}

/** Hand work to the workflow. If the start itself fails, the job records why instead of hanging. */
async function startWorkflow(job: Job, mode: WorkflowMode, runId: string, deps: JobDeps): Promise<void> {
  try {
    await (await deps.workflow()).start({ mode, projectId: job.projectId, jobId: job.id, runId });
  } catch (error) {
    const failed: Partial<Record<WorkflowMode, JobStatus>> = { create: 'CREATE_FAILED', run: 'START_JOB_FAILED', release: 'RELEASE_RESOURCE_FAILED' };
    const to = failed[mode];
    await mutateJob(job.projectId, job.id, deps, (j) => {
      if (to && canTransition(j.status, to)) j.status = to;
      if (mode === 'precheck' && j.precheck?.id === runId) Object.assign(j.precheck, { status: 'failed', error: 'the precheck could not be started' });
      if (mode === 'network' && j.network?.id === runId) Object.assign(j.network, { status: 'failed', error: 'the connection test could not be started' });
      j.error = { code: 'DRS.10000001', message: `The workflow could not be started: ${(error as Error).message}`, at: Date.now() };
      return j;
    });
    throw error;
  }
}

/** Task side of create: the job is usable once its configuration is in place. */
export async function finishCreate(projectId: string, id: string, deps: JobDeps): Promise<Job> {
  return mutateJob(projectId, id, deps, async (job) => {
    if (job.status !== 'CREATING') return job;
    for (const [role, e] of [['source', job.source], ['target', job.target]] as const) {
      if (e.connectionId && !(await deps.connections.get(projectId, e.connectionId))) {
        job.error = { code: 'DRS.10010006', message: `Create job failed, the ${role} connection ${e.connectionId} no longer exists.`, at: now(deps) };
        return transitionTo(job, 'CREATE_FAILED', 'create');
      }
    }
    return transitionTo(job, 'CONFIGURATION', 'create');
  });
}

// --- configuration ------------------------------------------------------------------------

export type JobUpdate =
  | { type: 'name'; name: string }
  | { type: 'description'; description: string }
  | { type: 'endpoint'; source?: Partial<EndpointSpec>; target?: Partial<EndpointSpec> }
  | { type: 'db_object'; dbObject: DbObjectSelection }
  | { type: 'policy'; policy: PolicyConfig }
  | { type: 'speed_limit'; speedLimits: SpeedLimit[] }
  | { type: 'notify'; alarmNotify: AlarmNotify }
  | { type: 'expired_days'; expiredDays: string }
  | { type: 'echo'; key: string; value: unknown };

const ENDED: JobStatus[] = ['RELEASE_RESOURCE_STARTED', 'RELEASE_RESOURCE_COMPLETE', 'RELEASE_RESOURCE_FAILED', 'DELETED'];

/**
 * Which statuses each kind of change is allowed in (seed appendix A): object selection, policy
 * and endpoints only while configuring; names, descriptions and notifications until the job ends;
 * speed limits also while running (the copy and apply loops read them at each page).
 */
export function assertUpdatable(job: Job, u: JobUpdate): void {
  const configOnly = ['endpoint', 'db_object', 'policy'].includes(u.type);
  const ok = configOnly ? job.status === 'CONFIGURATION' : !ENDED.includes(job.status) && job.status !== 'CREATING';
  if (!ok) throw new InvalidTransitionError(job.id, job.status, `update ${u.type}`);
}

export async function updateJob(projectId: string, id: string, updates: JobUpdate[], deps: JobDeps): Promise<Job> {
  const job0 = await getJob(projectId, id, deps);
  for (const u of updates) assertUpdatable(job0, u);
  const renamed = updates.find((u): u is Extract<JobUpdate, { type: 'name' }> => u.type === 'name' && u.name.toLowerCase() !== job0.name.toLowerCase());
  if (renamed && !(await deps.jobs.claimName(projectId, renamed.name, id))) throw new ConflictError(`Duplicate task name: a job named "${renamed.name}" exists in this project.`, DUPLICATE_NAME);
  // Seal secrets before the mutation (it may be retried).
  const endpointUpdate = updates.find((u): u is Extract<JobUpdate, { type: 'endpoint' }> => u.type === 'endpoint');
  let newSource: JobEndpoint | undefined;
  let newTarget: JobEndpoint | undefined;
  if (endpointUpdate?.source) newSource = await mergeEndpoint(job0.source, endpointUpdate.source, 'source_endpoint', projectId, deps);
  if (endpointUpdate?.target) newTarget = await mergeEndpoint(job0.target, endpointUpdate.target, 'target_endpoint', projectId, deps);
  let oldName = job0.name;
  try {
    const saved = await mutateJob(projectId, id, deps, (job) => {
      for (const u of updates) assertUpdatable(job, u);
      oldName = job.name;
      let configChanged = false;
      for (const u of updates) {
        switch (u.type) {
          case 'name':
            job.name = u.name;
            break;
          case 'description':
            job.description = u.description;
            break;
          case 'endpoint':
            if (newSource) job.source = { ...newSource };
            if (newTarget) job.target = { ...newTarget };
            configChanged = true;
            break;
          case 'db_object':
            job.dbObject = u.dbObject;
            configChanged = true;
            break;
          case 'policy':
            assertPolicySupported(job, u.policy);
            job.policy = { ...job.policy, ...u.policy };
            configChanged = true;
            break;
          case 'speed_limit':
            job.speedLimits = validateSpeedLimits(u.speedLimits);
            break;
          case 'notify':
            job.alarmNotify = u.alarmNotify;
            break;
          case 'expired_days':
            job.expiredDays = u.expiredDays;
            break;
          case 'echo':
            job.echo = { ...job.echo, [u.key]: u.value };
            break;
        }
      }
      // A changed configuration needs a new precheck before start.
      if (configChanged) job.configVersion += 1;
      return job;
    });
    if (renamed) await deps.jobs.releaseName(projectId, oldName, id);
    return saved;
  } catch (e) {
    if (renamed) await deps.jobs.releaseName(projectId, renamed.name, id);
    throw e;
  }
}

// --- asynchronous checks ------------------------------------------------------------------

/** Connection tests are allowed from creation until the job ends. */
export function assertConnectionTestable(j: Job): void {
  if (ENDED.includes(j.status) || j.status === 'CREATING' || j.status === 'CREATE_FAILED') throw new InvalidTransitionError(j.id, j.status, 'network', 'DRS.10010007');
}

/** `network` action: test both endpoints (or the endpoints given). Result by query id. */
export async function requestConnectionTest(projectId: string, id: string, deps: JobDeps, override?: { source?: Partial<EndpointSpec>; target?: Partial<EndpointSpec> }): Promise<{ job: Job; queryId: string }> {
  const queryId = randomUUID();
  const j0 = await getJob(projectId, id, deps);
  const source = override?.source ? await mergeEndpoint(j0.source, override.source, 'source_endpoint', projectId, deps) : undefined;
  const target = override?.target ? await mergeEndpoint(j0.target, override.target, 'target_endpoint', projectId, deps) : undefined;
  const job = await mutateJob(projectId, id, deps, (j) => {
    assertConnectionTestable(j);
    j.network = { id: queryId, status: 'pending', createdAt: now(deps) };
    if (source || target) j.echo = { ...j.echo, networkOverride: { source, target } };
    else delete j.echo.networkOverride;
    return j;
  });
  await startWorkflow(job, 'network', queryId, deps);
  return { job, queryId };
}

const PRECHECK_STATUSES: Record<PrecheckRun['mode'], JobStatus[]> = {
  forStartJob: ['CONFIGURATION'],
  forRetryJob: ['CONFIGURATION', 'START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'PAUSING'],
  forResetJob: ['START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'PAUSING', 'FULL_TRANSFER_COMPLETE', 'CONFIGURATION'],
};

export async function requestPrecheck(projectId: string, id: string, mode: PrecheckRun['mode'], deps: JobDeps): Promise<{ job: Job; queryId: string }> {
  const queryId = randomUUID();
  const job = await mutateJob(projectId, id, deps, (j) => {
    if (!PRECHECK_STATUSES[mode].includes(j.status)) throw new InvalidTransitionError(j.id, j.status, `precheck (${mode})`, 'DRS.10010012');
    if (j.precheck?.status === 'pending') throw new InvalidTransitionError(j.id, j.status, 'precheck while another precheck is running', 'DRS.10010012');
    j.precheck = { id: queryId, mode, status: 'pending', createdAt: now(deps), results: [], skipped: [], configVersion: j.configVersion };
    return j;
  });
  await startWorkflow(job, 'precheck', queryId, deps);
  return { job, queryId };
}

/**
 * Failed items a user may skip: findings where the user can knowingly accept the consequence.
 * Skipping dstTableNameConflictCheck means rows already in target tables are overwritten by key,
 * and target tables without a key are emptied before their copy.
 */
export const SKIPPABLE_ITEMS = new Set([
  'srcDbBinlogExpireLogsDays', 'srcTableNoPrimaryKeyCheck', 'dbCharacterSetConsistency', 'dbClockConsistency', 'dbCollationServerConsistency',
  'dstTableNameConflictCheck', 'hasForeignKeyOnUnselectedTable', 'MySQLForeignKeyReferentialActionCheck', 'dstDbVersionSupport',
]);

export function precheckPassed(p: PrecheckRun): boolean {
  return p.status === 'success' && p.results.every((r) => r.result !== 'failed' || p.skipped.includes(r.item));
}

export async function skipPrecheckItems(projectId: string, id: string, items: string[], reason: string, deps: JobDeps): Promise<Job> {
  return mutateJob(projectId, id, deps, (j) => {
    const p = j.precheck;
    if (!p || p.status !== 'success') throw new InvalidTransitionError(j.id, j.status, 'skip_precheck before a finished precheck', 'DRS.10010012');
    for (const item of items) {
      if (!p.results.some((r) => r.item === item)) throw new InvalidParameterError('skip_precheck_info.skipped_precheck_list', `${item} is not an item of the last precheck`);
      if (!SKIPPABLE_ITEMS.has(item)) throw new InvalidParameterError('skip_precheck_info.skipped_precheck_list', `${item} cannot be skipped: it guards data correctness`);
    }
    p.skipped = [...new Set([...p.skipped, ...items])];
    p.passed = precheckPassed(p);
    j.echo = { ...j.echo, skipReason: reason };
    return j;
  });
}

// --- lifecycle ----------------------------------------------------------------------------

function requirePassedPrecheck(j: Job, action: string, v5Code: string): void {
  if (!j.precheck || !precheckPassed(j.precheck) || j.precheck.configVersion !== j.configVersion) {
    throw new InvalidTransitionError(j.id, j.status, `${action} before a passed precheck of the current configuration`, v5Code);
  }
}

/** Start now, or at `startTime` (WAITING_FOR_START until the scheduler starts it). */
export async function startJob(projectId: string, id: string, deps: JobDeps, startTime?: number): Promise<Job> {
  const runId = randomUUID();
  const job = await mutateJob(projectId, id, deps, (j) => {
    requirePassedPrecheck(j, 'start', 'DRS.10010014');
    if (startTime !== undefined && startTime > now(deps) + 1000) {
      transitionTo(j, 'WAITING_FOR_START', 'start', 'DRS.10010014');
      j.startTime = startTime;
      return j;
    }
    transitionTo(j, 'STARTJOBING', 'start', 'DRS.10010014');
    j.run = { runId, phase: 'schema', startedAt: now(deps) };
    delete j.error;
    return j;
  });
  if (job.status === 'STARTJOBING') await startWorkflow(job, 'run', runId, deps);
  return job;
}

/** The scheduler: a job waiting for its start time starts when it is due. */
export async function startIfDue(projectId: string, id: string, deps: JobDeps): Promise<Job | undefined> {
  const runId = randomUUID();
  const job = await mutateJob(projectId, id, deps, (j) => {
    if (j.status !== 'WAITING_FOR_START' || (j.startTime ?? 0) > now(deps)) return j;
    transitionTo(j, 'STARTJOBING', 'scheduled start');
    j.run = { runId, phase: 'schema', startedAt: now(deps) };
    return j;
  });
  if (job.status === 'STARTJOBING' && job.run?.runId === runId) {
    await startWorkflow(job, 'run', runId, deps);
    return job;
  }
  return undefined;
}

/** Pause (v5 action `stop`, v3 batch-pause-task). The running task sees it at its next checkpoint. */
export async function pauseJob(projectId: string, id: string, deps: JobDeps): Promise<Job> {
  return mutateJob(projectId, id, deps, (j) => {
    if (!['STARTJOBING', 'FULL_TRANSFER_STARTED', 'INCRE_TRANSFER_STARTED'].includes(j.status)) throw new InvalidTransitionError(j.id, j.status, 'pause', 'DRS.10010028');
    return transitionTo(j, 'PAUSING', 'pause', 'DRS.10010028');
  });
}

/**
 * Resume a paused job or retry a failed one (v5 `restart`, v3 batch-retry-task): a new run that
 * continues from the checkpoints (done chunks, applied position) in the phase it stopped in.
 */
export async function resumeJob(projectId: string, id: string, deps: JobDeps): Promise<Job> {
  const runId = randomUUID();
  const job = await mutateJob(projectId, id, deps, (j) => {
    if (!['PAUSING', 'START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED'].includes(j.status)) throw new InvalidTransitionError(j.id, j.status, 'restart', 'DRS.10010027');
    const phase = j.run?.phase ?? 'schema';
    const to: JobStatus = phase === 'incremental' ? 'INCRE_TRANSFER_STARTED' : phase === 'full' ? 'FULL_TRANSFER_STARTED' : 'STARTJOBING';
    transitionTo(j, canTransition(j.status, to) ? to : 'STARTJOBING', 'restart', 'DRS.10010027');
    j.run = { ...(j.run ?? { phase: 'schema', startedAt: now(deps) }), runId };
    delete j.error;
    return j;
  });
  await startWorkflow(job, 'run', runId, deps);
  return job;
}

/** Start again from scratch (v5 `reset`): drop the plan and checkpoints, copy everything anew. */
export async function resetJob(projectId: string, id: string, deps: JobDeps): Promise<Job> {
  const runId = randomUUID();
  const before = await getJob(projectId, id, deps);
  if (!['START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'PAUSING', 'FULL_TRANSFER_COMPLETE'].includes(before.status)) {
    throw new InvalidTransitionError(id, before.status, 'reset', 'DRS.10010026');
  }
  const job = await mutateJob(projectId, id, deps, (j) => {
    if (!['START_JOB_FAILED', 'FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'PAUSING', 'FULL_TRANSFER_COMPLETE'].includes(j.status)) throw new InvalidTransitionError(j.id, j.status, 'reset', 'DRS.10010026');
    requirePassedPrecheck(j, 'reset', 'DRS.10010026');
    transitionTo(j, 'STARTJOBING', 'reset', 'DRS.10010026');
    // The previous run's CDC resources (slot) are replaced by the new run's.
    j.echo = { ...j.echo, releasePosition: j.run?.startPosition };
    j.run = { runId, phase: 'schema', startedAt: now(deps) };
    delete j.error;
    return j;
  });
  await deps.jobs.deletePlan(job);
  await startWorkflow(job, 'run', runId, deps);
  return job;
}

/**
 * End the job (v5 `POST /jobs/{id}/stop`, v3 delete_type terminate): release what it holds on
 * the databases (replication slot, positions). `force` ends it even if the release fails.
 */
export async function terminateJob(projectId: string, id: string, deps: JobDeps, force = false): Promise<Job> {
  const runId = randomUUID();
  const job = await mutateJob(projectId, id, deps, (j) => {
    if (j.status === 'RELEASE_RESOURCE_FAILED' && force) return transitionTo(j, 'RELEASE_RESOURCE_COMPLETE', 'force terminate', 'DRS.10010029');
    transitionTo(j, 'RELEASE_RESOURCE_STARTED', 'terminate', 'DRS.10010029');
    j.echo = { ...j.echo, forceTerminate: force };
    j.run = { ...(j.run ?? { phase: 'done', startedAt: now(deps) }), runId };
    return j;
  });
  if (job.status === 'RELEASE_RESOURCE_STARTED') await startWorkflow(job, 'release', runId, deps);
  return job;
}

/** Delete: only a job that holds nothing (never started, failed to create, or ended). */
export async function deleteJob(projectId: string, id: string, deps: JobDeps): Promise<Job> {
  const job = await getJob(projectId, id, deps);
  if (!['CREATE_FAILED', 'CONFIGURATION', 'RELEASE_RESOURCE_COMPLETE'].includes(job.status)) {
    throw new InvalidTransitionError(job.id, job.status, 'delete (terminate the job first)', 'DRS.10010030');
  }
  // Claim the deletion with a versioned write so a concurrent start cannot slip in between.
  const marked = await mutateJob(projectId, id, deps, (j) => {
    return transitionTo(j, 'DELETED', 'delete (terminate the job first)', 'DRS.10010030');
  });
  await deps.jobs.delete(marked);
  return marked;
}

export async function cloneJob(projectId: string, sourceId: string, name: string, deps: JobDeps): Promise<Job> {
  const src = await getJob(projectId, sourceId, deps);
  if (['CREATING', 'CREATE_FAILED', 'CONFIGURATION', 'WAITING_FOR_START', 'STARTJOBING', 'DELETED'].includes(src.status)) {
    throw new InvalidTransitionError(src.id, src.status, 'clone');
  }
  const spec: JobSpec = {
    name,
    description: src.description,
    jobType: src.jobType,
    engineType: src.engineType,
    taskType: src.taskType,
    jobDirection: src.jobDirection,
    netType: src.netType,
    nodeType: src.nodeType,
    multiWrite: src.multiWrite,
    isTargetReadonly: src.isTargetReadonly,
    chargingMode: src.chargingMode,
    enterpriseProjectId: src.enterpriseProjectId,
    expiredDays: src.expiredDays,
    tags: src.tags,
    source: { dbType: src.source.dbType, connectionId: src.source.connectionId, host: src.source.host, port: src.source.port, user: src.source.user, dbName: src.source.dbName, extra: src.source.extra },
    target: { dbType: src.target.dbType, connectionId: src.target.connectionId, host: src.target.host, port: src.target.port, user: src.target.user, dbName: src.target.dbName, extra: src.target.extra },
    dbObject: src.dbObject,
    policy: src.policy,
    speedLimits: src.speedLimits,
    alarmNotify: src.alarmNotify,
    echo: src.echo,
  };
  const job = await createJob(projectId, spec, deps, src.createdBy, src.id);
  // The secrets are copied as ciphertexts: the clone never sees them in clear.
  return mutateJob(projectId, job.id, deps, (j) => {
    j.source.passwordCipher = src.source.passwordCipher;
    j.source.ssl = src.source.ssl;
    j.target.passwordCipher = src.target.passwordCipher;
    j.target.ssl = src.target.ssl;
    return j;
  });
}

export async function validateJobName(projectId: string, name: string, deps: Pick<JobDeps, 'jobs'>): Promise<boolean> {
  return !(await deps.jobs.isNameTaken(projectId, name));
}

export function notApplicable(action: string): never {
  throw new NotApplicableError(action, 'this service runs in your own account and binds no elastic IPs; reach databases by host and port');
}

/**
 * After a crash of the process that ran a job's workflow (local runtime), start its work again:
 * a new run generation for running jobs (continuing from checkpoints; chunks leased by the dead
 * run are reclaimed at once), and the pending create / connection test / precheck / release.
 */
export async function recoverJob(projectId: string, id: string, deps: JobDeps): Promise<WorkflowMode | undefined> {
  const runId = randomUUID();
  let mode: WorkflowMode | undefined;
  let key: string = runId;
  const job = await mutateJob(projectId, id, deps, (j) => {
    mode = undefined;
    if (j.status === 'CREATING') {
      mode = 'create';
      key = j.id;
      return j;
    }
    if (['STARTJOBING', 'FULL_TRANSFER_STARTED', 'INCRE_TRANSFER_STARTED'].includes(j.status) && j.run) {
      mode = 'run';
      j.run = { ...j.run, runId };
      return j;
    }
    if (j.status === 'RELEASE_RESOURCE_STARTED' && j.run) {
      mode = 'release';
      j.run = { ...j.run, runId };
      return j;
    }
    if (j.precheck?.status === 'pending') {
      mode = 'precheck';
      key = j.precheck.id;
    } else if (j.network?.status === 'pending') {
      mode = 'network';
      key = j.network.id;
    }
    return j;
  });
  if (mode) await startWorkflow(job, mode, key, deps);
  return mode;
}

/** PUT start-position: an INCR_TRANS job starts its incremental sync at a user-given position. */
export async function setStartPosition(projectId: string, id: string, position: CdcPosition, deps: JobDeps): Promise<Job> {
  return mutateJob(projectId, id, deps, (j) => {
    if (j.taskType !== 'INCR_TRANS') throw new InvalidParameterError('job_id', `the start position can only be set for INCR_TRANS jobs; this job is ${j.taskType}`);
    if (j.status !== 'CONFIGURATION') throw new InvalidTransitionError(j.id, j.status, 'set the start position');
    if (position.kind !== j.source.dbType) throw new InvalidParameterError('file_and_position', `a ${position.kind} position does not fit a ${j.source.dbType} source`);
    j.configuredStartPosition = position;
    j.configVersion += 1;
    return j;
  });
}

/** v5 tag action: add (or overwrite the value of) or remove tags of a job; at most 20 per job. */
export async function changeTags(projectId: string, id: string, action: 'create' | 'delete', tags: { key: string; value?: string }[], deps: JobDeps): Promise<Job> {
  return mutateJob(projectId, id, deps, (j) => {
    if (j.status === 'DELETED') throw new InvalidTransitionError(j.id, j.status, 'change tags');
    if (new Set(tags.map((t) => t.key)).size !== tags.length) throw new InvalidParameterError('tags', 'tag keys must be unique');
    const current = new Map(j.tags.map((t) => [t.key, t.value]));
    for (const t of tags) {
      if (action === 'create') current.set(t.key, t.value ?? '');
      else if (t.value === undefined || current.get(t.key) === t.value) current.delete(t.key);
    }
    if (current.size > 20) throw new InvalidParameterError('tags', 'a job has at most 20 tags');
    j.tags = [...current].map(([key, value]) => ({ key, value }));
    return j;
  });
}

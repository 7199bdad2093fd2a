/**
 * Compare commands: create (now or at a start time), cancel, start a scheduled one now, delete,
 * the periodic compare policy. A compare can be created while the job is in incremental sync, or
 * once a full-load-only job is complete (FULL_TRANSFER_COMPLETE). A job has at most one
 * unfinished data-level (row-count or content) compare: a second one is refused, or (v3
 * conflict_policy) cancels the first or keeps it.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidParameterError, type ErrorCodes } from '../errors.js';
import { getJob, type JobDeps } from '../job/commands.js';
import { InvalidTransitionError, type JobStatus } from '../job/transitions.js';
import type { CompareStore } from '../store/compare-store.js';
import { isFinished, UNFINISHED, type ComparePolicy, type CompareScope, type CompareTask, type CompareType } from './model.js';

export type CompareCommandDeps = JobDeps & { compares: CompareStore };

/** Job statuses a compare can be created in: incremental sync running, or a full load complete. */
export const COMPARABLE_STATUSES: readonly JobStatus[] = ['INCRE_TRANSFER_STARTED', 'FULL_TRANSFER_COMPLETE'];

const COMPARE_CONFLICT: ErrorCodes = { v3: 'DRS.M05005', v5: 'DRS.10020002', oms: 'PARAM_ERROR' };

export interface NewCompare {
  type: CompareType;
  startAt?: number;
  options?: Record<string, string>;
  scope?: CompareScope[];
  origin: CompareTask['origin'];
}

export type ConflictPolicy = 'refuse' | 'cancel' | 'keep';

const now = (deps: Pick<JobDeps, 'now'>) => (deps.now ?? Date.now)();
const jobKey = (projectId: string, jobId: string) => ({ projectId, jobId });

export async function createCompare(projectId: string, jobId: string, spec: NewCompare, deps: CompareCommandDeps, conflict: ConflictPolicy = 'refuse'): Promise<{ task: CompareTask; created: boolean }> {
  const job = await getJob(projectId, jobId, deps);
  if (!COMPARABLE_STATUSES.includes(job.status)) throw new InvalidTransitionError(job.id, job.status, `create ${spec.type} compare (allowed while INCRE_TRANSFER_STARTED or FULL_TRANSFER_COMPLETE)`, 'DRS.10010007');
  const t = now(deps);
  if (spec.startAt !== undefined && spec.startAt < t - 24 * 3_600_000) throw new InvalidParameterError('start_time', 'is in the past');
  if (spec.type !== 'object') {
    const running = (await deps.compares.listTasks(jobKey(projectId, jobId))).filter((x) => x.type !== 'object' && UNFINISHED.includes(x.status));
    if (running.length) {
      if (conflict === 'keep') return { task: running[0]!, created: false };
      if (conflict === 'refuse') throw new ConflictError(`Compare task ${running[0]!.id} (${running[0]!.type}) of this job has not finished; cancel it first.`, COMPARE_CONFLICT);
      for (const r of running) await cancelCompare(projectId, jobId, r.id, deps);
    }
  }
  const task: CompareTask = {
    id: randomUUID(),
    projectId,
    jobId,
    type: spec.type,
    status: 'WAITING_FOR_RUNNING',
    createdAt: t,
    ...(spec.startAt !== undefined && spec.startAt > t ? { startAt: spec.startAt } : {}),
    options: spec.options ?? {},
    ...(spec.scope?.length ? { scope: spec.scope } : {}),
    origin: spec.origin,
  };
  await deps.compares.createTask(task);
  await startExecution(task, deps);
  return { task, created: true };
}

/** `segment` names a second execution for the same task uniquely (runId is always the task id). */
async function startExecution(task: CompareTask, deps: CompareCommandDeps, segment?: number): Promise<void> {
  try {
    await (await deps.workflow()).start({ mode: 'compare', projectId: task.projectId, jobId: task.jobId, runId: task.id, ...(segment ? { segment } : {}) });
  } catch (error) {
    await deps.compares.mutateTask(task, task.id, (x) => (isFinished(x.status) ? x : Object.assign(x, { status: 'FAILED', error: `The compare could not be started: ${(error as Error).message}`, endedAt: Date.now() })));
    throw error;
  }
}

/** Cancel an unfinished compare (workers stop at their next checkpoint). Cancelling a cancelled one is a no-op. */
export async function cancelCompare(projectId: string, jobId: string, taskId: string, deps: CompareCommandDeps): Promise<CompareTask> {
  await getJob(projectId, jobId, deps);
  return deps.compares.mutateTask(jobKey(projectId, jobId), taskId, (t) => {
    if (t.status === 'CANCELLED') return t;
    if (isFinished(t.status)) throw new ConflictError(`Compare task ${t.id} has already ended (${t.status}); there is nothing to cancel.`, COMPARE_CONFLICT);
    t.status = 'CANCELLED';
    t.endedAt = now(deps);
    return t;
  });
}

/** Start a compare that waits for its start time now (v3 StartPromptlyDataLevelTableCompareJob). */
export async function startCompareNow(projectId: string, jobId: string, taskId: string, deps: CompareCommandDeps): Promise<CompareTask> {
  await getJob(projectId, jobId, deps);
  const task = await deps.compares.mutateTask(jobKey(projectId, jobId), taskId, (t) => {
    if (t.status !== 'WAITING_FOR_RUNNING') throw new ConflictError(`Compare task ${t.id} is ${t.status}, not waiting to start.`, COMPARE_CONFLICT);
    delete t.startAt;
    return t;
  });
  // The first execution is asleep until the old start time; this one starts it now (the other finds it started).
  await startExecution(task, deps, 1 + Math.floor(Math.random() * 99_999));
  return task;
}

/** Delete a compare and its results; an unfinished one is cancelled first. */
export async function deleteCompare(projectId: string, jobId: string, taskId: string, deps: CompareCommandDeps): Promise<void> {
  const task = await deps.compares.requireTask(jobKey(projectId, jobId), taskId);
  if (!isFinished(task.status)) await cancelCompare(projectId, jobId, taskId, deps);
  await deps.compares.deleteTask(jobKey(projectId, jobId), taskId);
}

/** The task named, or the newest of the given types; undefined when the job has none. */
export async function findCompare(projectId: string, jobId: string, deps: Pick<CompareCommandDeps, 'jobs' | 'compares'>, taskId: string | undefined, types: CompareType[]): Promise<CompareTask | undefined> {
  await getJob(projectId, jobId, deps);
  if (taskId) {
    const t = await deps.compares.requireTask(jobKey(projectId, jobId), taskId);
    if (!types.includes(t.type)) throw new InvalidParameterError('compare_task_id', `${taskId} is a ${t.type} compare, not ${types.join(' or ')}`);
    return t;
  }
  return (await deps.compares.listTasks(jobKey(projectId, jobId))).find((t) => types.includes(t.type));
}

// --- the periodic compare policy (seed 7.7.1) ----------------------------------------------

export interface PolicyUpdate {
  action: 'open' | 'close';
  period?: string;
  beginTime?: string;
  endTime?: string;
  compareType?: string[];
  comparePolicy?: 'normal' | 'manyToOne';
  intervalHour?: number;
}

export async function updateComparePolicy(projectId: string, jobId: string, u: PolicyUpdate, deps: CompareCommandDeps): Promise<ComparePolicy> {
  await getJob(projectId, jobId, deps);
  const prev = await deps.compares.getPolicy(jobKey(projectId, jobId));
  if (u.action === 'open' && !(u.compareType?.length ?? prev?.compareType.length)) throw new InvalidParameterError('compare_type', 'is required to open a compare policy');
  if (u.period !== undefined) weekdays(u.period);
  const policy: ComparePolicy = {
    status: u.action === 'open' ? 'OPEN' : 'CLOSED',
    period: u.period ?? prev?.period ?? '* * 1,2,3,4,5,6,7',
    beginTime: u.beginTime ?? prev?.beginTime ?? '00:00:00',
    endTime: u.endTime ?? prev?.endTime ?? '23:59:59',
    compareType: u.compareType ?? prev?.compareType ?? [],
    comparePolicy: u.comparePolicy ?? prev?.comparePolicy ?? 'normal',
    ...((u.intervalHour ?? prev?.intervalHour) !== undefined ? { intervalHour: u.intervalHour ?? prev?.intervalHour } : {}),
    ...(prev?.lastRunAt !== undefined ? { lastRunAt: prev.lastRunAt } : {}),
    updatedAt: now(deps),
  };
  await deps.compares.putPolicy(jobKey(projectId, jobId), policy);
  return policy;
}

/** `* * 1,2,3` → weekdays 1–7 (1 = Monday). */
export function weekdays(period: string): number[] {
  const m = /^\s*\*\s*\*\s*([1-7](?:\s*,\s*[1-7])*)\s*$/.exec(period.replace(/^\*\*/, '* *'));
  if (!m) throw new InvalidParameterError('period', 'must look like "* * 1,2,3,4,5,6,7" (weekdays, 1 = Monday)');
  return [...new Set(m[1]!.split(',').map((d) => Number(d.trim())))].sort();
}

const secondsOf = (hms: string) => {
  const [h, m, s] = hms.split(':').map(Number);
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
};

/**
 * When the policy runs next, at or after `from`: on a selected weekday, inside the UTC window
 * [begin, end], every `intervalHour` hours from `begin` (once a day at `begin` without one).
 */
export function nextCompareTime(p: ComparePolicy, from: number): number | undefined {
  if (p.status !== 'OPEN') return undefined;
  const days = weekdays(p.period ?? '* * 1,2,3,4,5,6,7');
  const begin = secondsOf(p.beginTime ?? '00:00:00');
  const end = secondsOf(p.endTime ?? '23:59:59');
  const step = p.intervalHour && p.intervalHour > 0 ? p.intervalHour * 3600 : 86_400;
  const day0 = Math.floor(from / 86_400_000) * 86_400_000;
  for (let d = 0; d < 8; d++) {
    const dayStart = day0 + d * 86_400_000;
    const weekday = ((new Date(dayStart).getUTCDay() + 6) % 7) + 1;
    if (!days.includes(weekday)) continue;
    for (let s = begin; s <= end; s += step) {
      const at = dayStart + s * 1000;
      if (at >= from) return at;
    }
  }
  return undefined;
}

/**
 * The periodic trigger: every open policy whose next run time has come creates its compares
 * (one task per compare type; `account` compares are not offered and are skipped).
 */
export async function startDueCompares(deps: CompareCommandDeps): Promise<string[]> {
  const started: string[] = [];
  const t = now(deps);
  for (const { projectId, jobId, policy } of await deps.compares.listOpenPolicies()) {
    const next = nextCompareTime(policy, policy.lastRunAt !== undefined ? policy.lastRunAt + 1000 : policy.updatedAt);
    if (next === undefined || next > t) continue;
    await deps.compares.putPolicy(jobKey(projectId, jobId), { ...policy, lastRunAt: t });
    for (const type of policy.compareType) {
      const kind: CompareType | undefined = type === 'object_comparison' || type === 'object' ? 'object' : type === 'lines' || type === 'contents' ? type : undefined;
      if (!kind) continue;
      try {
        const { task, created } = await createCompare(projectId, jobId, { type: kind, origin: 'policy', options: { comparePolicy: policy.comparePolicy } }, deps, 'keep');
        if (created) started.push(task.id);
      } catch (e) {
        if (!(e instanceof InvalidTransitionError)) throw e;
      }
    }
  }
  return started;
}

/**
 * After a crash of the process that ran it (local runtime), start an unfinished compare again:
 * done work items are kept, items leased by the dead workers are reclaimed when their leases expire.
 */
export async function recoverCompares(projectId: string, jobId: string, deps: CompareCommandDeps): Promise<number> {
  let n = 0;
  for (const task of await deps.compares.listTasks(jobKey(projectId, jobId))) {
    if (task.status !== 'RUNNING' && task.status !== 'WAITING_FOR_RUNNING') continue;
    await startExecution(task, deps, 1 + Math.floor(Math.random() * 99_999));
    n++;
  }
  return n;
}

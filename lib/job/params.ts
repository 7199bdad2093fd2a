/**
 * Database parameter comparison and modification (v3 batch-get-params and
 * POST /jobs/{job_id}/params): the real values of the compared parameters on the source and the
 * target, side by side, and changes applied for real on the target (dynamic parameters only;
 * the server decides whether the job's account may change them). Allowed while the job is being
 * configured, as the seed says; the last comparison is kept on the job (`refresh: "0"` reads it,
 * and a modification must follow a comparison).
 *
 * The server access is a port (lib/engines/params.ts in production) so this stays testable.
 */
import { AppError, InvalidParameterError, type ErrorCodes } from '../errors.js';
import type { EndpointConfig } from '../engines/engine.js';
import type { ServerParam } from '../engines/params.js';
import { endpointConfig } from '../steps/context.js';
import { getJob, mutateJob, type JobDeps } from './commands.js';
import type { Job } from './job.js';
import { InvalidTransitionError } from './transitions.js';

export interface ParamsPort {
  read(cfg: EndpointConfig): Promise<ServerParam[]>;
  write(cfg: EndpointConfig, changes: { key: string; value: string }[]): Promise<void>;
}

export type ParamsDeps = JobDeps & { params: ParamsPort };

export interface ComparedParam {
  key: string;
  group: 'common' | 'performance';
  dataType: 'figure' | 'string';
  needRestart: boolean;
  range: string;
  source?: string;
  target?: string;
}

export interface ParamComparison {
  at: number;
  params: ComparedParam[];
}

/** A database could not be reached or refused the statement: the reason, as the server gave it. */
export class DatabaseAccessError extends AppError {
  readonly status = 400;
  readonly codes: ErrorCodes = { v3: 'DRS.KE0048', v5: 'DRS.10000011', oms: 'GHANA-OPERAT-DB' };
  constructor(what: string, cause: unknown) {
    super(`${what}: ${(cause as Error)?.message ?? String(cause)}`.slice(0, 500), { cause });
    this.name = 'DatabaseAccessError';
  }
}

function assertConfiguring(j: Job, action: string): void {
  if (j.status !== 'CONFIGURATION') throw new InvalidTransitionError(j.id, j.status, action, 'DRS.10000001');
}

const cached = (j: Job) => j.echo.dbParams as ParamComparison | undefined;

async function readSide(job: Job, role: 'source' | 'target', deps: ParamsDeps): Promise<ServerParam[]> {
  let cfg: EndpointConfig;
  try {
    cfg = await endpointConfig(job, role, deps);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new DatabaseAccessError(`the ${role} endpoint cannot be used`, e);
  }
  try {
    return await deps.params.read(cfg);
  } catch (e) {
    throw new DatabaseAccessError(`reading the ${role} database's parameters failed`, e);
  }
}

/** Compare the parameters of both databases (refresh) or return the last comparison. */
export async function compareParams(projectId: string, id: string, refresh: boolean, deps: ParamsDeps): Promise<ParamComparison> {
  const job = await getJob(projectId, id, deps);
  assertConfiguring(job, 'compare database parameters');
  const last = cached(job);
  if (!refresh && last) return last;
  const [src, dst] = await Promise.all([readSide(job, 'source', deps), readSide(job, 'target', deps)]);
  const byKey = new Map(src.map((p) => [p.key, p]));
  const comparison: ParamComparison = {
    at: Date.now(),
    params: dst.map((t) => ({ key: t.key, group: t.group, dataType: t.dataType, needRestart: t.needRestart, range: t.range, source: byKey.get(t.key)?.value, target: t.value })),
  };
  await mutateJob(projectId, id, deps, (j) => {
    j.echo = { ...j.echo, dbParams: comparison };
    return j;
  });
  return comparison;
}

function checkValue(p: ComparedParam, value: string, field: string): void {
  if (p.dataType === 'figure') {
    if (!/^-?\d+$/.test(value)) throw new InvalidParameterError(field, `${p.key} takes a whole number`);
    const m = /^(-?\d+)-(\d+)$/.exec(p.range);
    if (m && (BigInt(value) < BigInt(m[1]) || BigInt(value) > BigInt(m[2]))) throw new InvalidParameterError(field, `${p.key} must be within ${p.range}`);
  } else if (p.range.includes('|')) {
    if (!p.range.split('|').some((v) => v.toLowerCase() === value.toLowerCase())) throw new InvalidParameterError(field, `${p.key} must be one of ${p.range}`);
  } else if (value.length > 1024 || /[\u0000-\u001f]/.test(value)) {
    throw new InvalidParameterError(field, `${p.key} must be at most 1024 printable characters`);
  }
}

/**
 * Apply `changes` to the target database. Every change is checked first (known, in `group`, no
 * restart needed, value in range); then they are applied in order. On a refusal the error names
 * it; changes applied before it stay applied (a database has no transaction over SET GLOBAL).
 */
export async function modifyParams(projectId: string, id: string, group: 'common' | 'performance', changes: { key: string; target_value: string }[], deps: ParamsDeps): Promise<{ job: Job; comparison: ParamComparison }> {
  const job = await getJob(projectId, id, deps);
  assertConfiguring(job, 'modify database parameters');
  const last = cached(job);
  if (!last) throw new InvalidParameterError('params', 'compare the parameters first (batch-get-params with refresh "1")');
  const known = new Map(last.params.map((p) => [p.key.toLowerCase(), p]));
  const plan = changes.map((c, i) => {
    const field = `params[${i}]`;
    const p = known.get(c.key.toLowerCase());
    if (!p) throw new InvalidParameterError(`${field}.key`, `${c.key} is not one of the compared parameters (${last.params.map((x) => x.key).join(', ')})`);
    if (p.group !== group) throw new InvalidParameterError(`${field}.key`, `${c.key} belongs to group ${p.group}, not ${group}`);
    if (p.needRestart) throw new InvalidParameterError(`${field}.key`, `${c.key} takes effect only after a server restart; change it in the target server's configuration`);
    if (p.target === undefined) throw new InvalidParameterError(`${field}.key`, `the target server has no parameter ${c.key}`);
    checkValue(p, c.target_value, `${field}.target_value`);
    return { key: p.key, value: c.target_value };
  });
  let cfg: EndpointConfig;
  try {
    cfg = await endpointConfig(job, 'target', deps);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new DatabaseAccessError('the target endpoint cannot be used', e);
  }
  try {
    await deps.params.write(cfg, plan);
  } catch (e) {
    throw new DatabaseAccessError('the target database refused the change', e);
  }
  const comparison = await compareParams(projectId, id, true, deps);
  return { job, comparison };
}

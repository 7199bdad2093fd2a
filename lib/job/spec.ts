/**
 * A dialect-neutral job definition: what v5 `POST /jobs`, v3 `batch-creation` and OMS
 * `CreateProject` each translate their bodies into before the domain creates the job.
 */
import type { EngineKind } from '../engines/engine.js';
import { AppError, InvalidParameterError, type ErrorCodes } from '../errors.js';
import type { AlarmNotify, DbObjectSelection, JobType, NodeType, PolicyConfig, SpeedLimit, TaskType } from './job.js';

export interface EndpointSpec {
  dbType: string;
  connectionId?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  dbName?: string;
  ssl?: { enabled: boolean; ca?: string; certName?: string; checkSum?: string; verify?: boolean };
  extra: Record<string, unknown>;
}

export interface JobSpec {
  name: string;
  description?: string;
  jobType: JobType;
  engineType: string;
  taskType: TaskType;
  jobDirection?: string;
  netType?: string;
  nodeType?: NodeType;
  multiWrite?: boolean;
  isTargetReadonly?: boolean;
  chargingMode?: string;
  enterpriseProjectId?: string;
  expiredDays?: string;
  tags?: { key: string; value: string }[];
  startTime?: number;
  source: EndpointSpec;
  target: EndpointSpec;
  dbObject?: DbObjectSelection;
  policy?: PolicyConfig;
  speedLimits?: SpeedLimit[];
  alarmNotify?: AlarmNotify;
  echo?: Record<string, unknown>;
}

/** The engine types this deployment replicates, and the database kind on each side. */
export const SUPPORTED_ENGINES: Record<string, { source: EngineKind; target: EngineKind; jobTypes: JobType[] }> = {
  mysql: { source: 'mysql', target: 'mysql', jobTypes: ['migration', 'sync'] },
  'mysql-to-mysql': { source: 'mysql', target: 'mysql', jobTypes: ['migration', 'sync'] },
  postgresql: { source: 'postgresql', target: 'postgresql', jobTypes: ['migration', 'sync'] },
  'postgresql-to-postgresql': { source: 'postgresql', target: 'postgresql', jobTypes: ['migration', 'sync'] },
  'cloudDataGuard-mysql': { source: 'mysql', target: 'mysql', jobTypes: ['cloudDataGuard'] },
};

export class UnsupportedEngineError extends AppError {
  readonly status = 400;
  readonly codes: ErrorCodes = { v3: 'DRS.M00302', v5: 'DRS.10010025', oms: 'PARAM_ERROR' };
  constructor(engineType: string, why: string) {
    super(`The current API does not support this ${engineType} engine type now: ${why}`);
    this.name = 'UnsupportedEngineError';
  }
}

/** Engine pair for an engine_type, or a clear error naming what this deployment supports. */
export function enginesFor(spec: Pick<JobSpec, 'engineType' | 'jobType'>): { source: EngineKind; target: EngineKind } {
  const e = SUPPORTED_ENGINES[spec.engineType];
  if (!e) throw new UnsupportedEngineError(spec.engineType, `this deployment replicates ${Object.keys(SUPPORTED_ENGINES).join(', ')}`);
  if (!e.jobTypes.includes(spec.jobType)) throw new UnsupportedEngineError(spec.engineType, `job type ${spec.jobType} needs one of ${Object.entries(SUPPORTED_ENGINES).filter(([, v]) => v.jobTypes.includes(spec.jobType)).map(([k]) => k).join(', ')}`);
  return { source: e.source, target: e.target };
}

/** A db_type given for an endpoint must be the engine's. */
export function checkEndpointType(role: 'source_endpoint' | 'target_endpoint', given: string, expected: EngineKind): void {
  if (given !== expected) throw new InvalidParameterError(`${role}.db_type`, `must be ${expected} for this engine type, got ${given}`);
}

/**
 * Speed-limit windows: at most 3, `hh:mm` UTC, begin != end, speed 1–9999 MB/s. Windows may wrap
 * midnight (`16:00`–`15:59` is all day).
 */
export function validateSpeedLimits(limits: SpeedLimit[], field = 'speed_limit'): SpeedLimit[] {
  if (limits.length > 3) throw new InvalidParameterError(field, 'at most 3 time windows');
  for (const [i, l] of limits.entries()) {
    for (const k of ['begin', 'end'] as const) {
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(l[k])) throw new InvalidParameterError(`${field}[${i}].${k}`, 'must be hh:mm (UTC)');
    }
    if (l.begin === l.end) throw new InvalidParameterError(`${field}[${i}]`, 'Start time can not same with end time.');
    if (!(l.speed >= 1 && l.speed <= 9999)) throw new InvalidParameterError(`${field}[${i}].speed`, 'must be 1 to 9999 (MB/s)');
  }
  return limits;
}

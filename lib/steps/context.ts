/**
 * What every migration step needs: the job, a guard that tells a step of an old or stopped run
 * to return at once, and the endpoints resolved to engine configurations (saved connections are
 * read at use time, so a rotated password takes effect on the next connection).
 */
import { openConnectionSecrets } from '../connections/commands.js';
import type { EndpointConfig } from '../engines/engine.js';
import { InvalidParameterError } from '../errors.js';
import type { JobDeps } from '../job/commands.js';
import type { Job, JobEndpoint, NodeType } from '../job/job.js';
import type { JobStatus } from '../job/transitions.js';
import type { JobStore } from '../store/job-store.js';

export type StepDeps = JobDeps;

export interface RunInput {
  projectId: string;
  jobId: string;
  runId: string;
}

/** Statuses in which a run keeps working. Anything else (PAUSING, RELEASE_*, failed) means stop. */
const WORKING: JobStatus[] = ['STARTJOBING', 'FULL_TRANSFER_STARTED', 'FULL_TRANSFER_COMPLETE', 'INCRE_TRANSFER_STARTED'];

/** The job if this run is still the current one and still supposed to work; otherwise undefined. */
export async function currentRun(input: RunInput, deps: Pick<JobDeps, 'jobs'>): Promise<Job | undefined> {
  // A deleted job has no run left to do: its tasks stop quietly.
  const job = await deps.jobs.get(input.projectId, input.jobId);
  if (!job || job.run?.runId !== input.runId || !WORKING.includes(job.status)) return undefined;
  return job;
}

export async function endpointConfig(job: Job, role: 'source' | 'target', deps: Pick<JobDeps, 'connections' | 'secrets'>, override?: JobEndpoint): Promise<EndpointConfig> {
  const e = override ?? job[role];
  let host = e.host;
  let port = e.port;
  let user = e.user;
  let password = e.passwordCipher ? await deps.secrets.decrypt(e.passwordCipher) : undefined;
  let database = e.dbName;
  let ssl: EndpointConfig['ssl'] = e.ssl ? { enabled: e.ssl.enabled, ca: e.ssl.caCipher ? await deps.secrets.decrypt(e.ssl.caCipher) : undefined, verify: e.ssl.verify } : undefined;
  if (e.connectionId) {
    const conn = await deps.connections.get(job.projectId, e.connectionId);
    if (!conn) throw new InvalidParameterError(`${role}_endpoint.endpoint.id`, `connection ${e.connectionId} no longer exists`);
    const secrets = await openConnectionSecrets(conn, deps.secrets);
    host = e.host ?? conn.endpoint.ip;
    port = e.port ?? conn.endpoint.db_port;
    user = e.user ?? conn.endpoint.db_user;
    password = e.passwordCipher ? password : secrets.password;
    database = e.dbName ?? conn.endpoint.db_name;
    if (!ssl && conn.ssl?.ssl_link) ssl = { enabled: true, ca: secrets.sslCertKey ? Buffer.from(secrets.sslCertKey, 'base64').toString('utf8') : undefined, verify: !!secrets.sslCertKey };
  }
  const missing = [!host && 'ip', !port && 'db_port', !user && 'db_user', password === undefined && 'db_password'].filter(Boolean);
  if (missing.length) throw new InvalidParameterError(`${role}_endpoint`, `is incomplete: ${missing.join(', ')} not set`);
  return { kind: e.dbType, host: host!, port: port!, user: user!, password: password!, database, ssl, connectTimeoutMs: 10_000, poolSize: parallelism(job.nodeType) + 2 };
}

/** Parallel chunk copies per node type: node types map to parallelism, not to servers. */
export function parallelism(nodeType: NodeType): number {
  return { micro: 1, small: 2, medium: 4, high: 8, xlarge: 16 }[nodeType] ?? 4;
}

export async function log(deps: { jobs: JobStore }, job: Pick<Job, 'projectId' | 'id'>, message: string, level: 'INFO' | 'WARN' | 'ERROR' = 'INFO'): Promise<void> {
  await deps.jobs.appendLog(job, level, message);
}

/** Builders for v5 job requests and a way to wait for the local workflow. */
import { localWorkflow } from '../../lib/local/step-functions.js';
import type { DbServer } from './db-servers.js';

export function endpointV5(role: 'so' | 'ta', s: Pick<DbServer, 'kind' | 'host' | 'port' | 'user' | 'password'>, dbName?: string) {
  return {
    db_type: s.kind,
    endpoint_type: 'offline',
    endpoint_role: role,
    endpoint: { endpoint_name: s.kind, ip: s.host, db_port: String(s.port), db_user: s.user, db_password: s.password, ...(dbName ? { db_name: dbName } : {}) },
  };
}

const FAKE = { kind: 'mysql' as const, host: '127.0.0.1', port: 1, user: 'root', password: 'not-a-real-password' };

export function createJobBody(over: { name?: string; engine?: string; taskType?: string; source?: Parameters<typeof endpointV5>[1]; target?: Parameters<typeof endpointV5>[1]; sourceDb?: string; targetDb?: string; nodeType?: string } = {}) {
  const source = over.source ?? FAKE;
  const target = over.target ?? FAKE;
  return {
    job: {
      base_info: {
        name: over.name ?? 'job' + Math.random().toString(36).slice(2, 10),
        job_type: 'migration',
        engine_type: over.engine ?? source.kind,
        task_type: over.taskType ?? 'FULL_TRANS',
        job_direction: 'non-dbs',
        net_type: 'eip',
      },
      source_endpoint: [endpointV5('so', source, over.sourceDb)],
      target_endpoint: [endpointV5('ta', target, over.targetDb)],
      node_info: { spec: { node_type: over.nodeType ?? 'high' } },
    },
  };
}

export const drain = (ms?: number) => localWorkflow().drain(ms);

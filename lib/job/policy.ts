/**
 * Which synchronization-policy settings this deployment honours. Settings the copy and apply
 * loops do not offer are refused rather than stored without effect: PostgreSQL logical decoding
 * carries no DDL (so it cannot be replicated), DROP DATABASE is never replicated nor skipped (it
 * stops the job with a clear error), and PostgreSQL snapshot export / materialized-view filling
 * are not offered. `ddl_trans=false` on a MySQL job makes CDC skip DDL and record each
 * skipped statement in the job's abnormal-data list.
 */
import { NotApplicableError } from '../errors.js';
import type { Job, PolicyConfig } from './job.js';

export function assertPolicySupported(job: Pick<Job, 'source'>, p: PolicyConfig): void {
  const kind = job.source.dbType;
  if (p.ddl_trans === true && kind === 'postgresql') throw new NotApplicableError('ddl_trans=true', 'PostgreSQL logical decoding carries no DDL: apply schema changes to the target yourself');
  if (p.filter_ddl_policy === 'drop_database') throw new NotApplicableError('filter_ddl_policy=drop_database', 'DROP DATABASE on a selected database is never replicated nor skipped: it stops the job with a clear error');
  if (p.export_snapshot === true) throw new NotApplicableError('export_snapshot=true', 'this deployment does not export a snapshot to other sessions; the full load reads under its own consistent snapshot');
  if (p.is_fill_materialized_view === true) throw new NotApplicableError('is_fill_materialized_view=true', 'materialized views are not copied by this deployment');
}

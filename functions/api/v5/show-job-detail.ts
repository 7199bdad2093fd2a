import { z } from 'zod';
import { compareDetailV5 } from '../../../lib/dialects/v5/compare.js';
import { jobDetailV5, logsV5, migrationObjectProgressV5, networkResultsV5, precheckResultV5, progressInfoV5 } from '../../../lib/dialects/v5/render.js';
import { InvalidParameterError, NotApplicableError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { jobProgress } from '../../../lib/job/queries.js';
import { page } from '../../../lib/paging.js';
import { compareStore } from '../../../lib/store/compare-store.js';
import { Id, Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

const TYPES = ['overview', 'detail', 'network', 'precheck', 'progress', 'log', 'compare', 'file', 'is_writable', 'cloud_connection', 'diagnosis', 'diagnosis_history', 'repair_progress', 'repair_detail', 'repair_export_status'] as const;

export const ShowJobDetailRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  query: z
    .object({
      type: Single(z.enum(TYPES)),
      query_id: Single(Id).optional(),
      offset: Single(Offset),
      limit: Single(Limit(1000, 10)),
      compare_type: Single(SafeText(32)).optional(),
      query_type: Single(SafeText(32)).optional(),
      object_type: Single(SafeText(32)).optional(),
      compare_task_id: Single(Id).optional(),
      source_db_name: Single(SafeText(128)).optional(),
      target_db_name: Single(SafeText(128)).optional(),
      compare_detail_type: Single(SafeText(32)).optional(),
      log_level: Single(z.enum(['Info', 'Warn', 'Error', 'INFO', 'WARN', 'ERROR'])).optional(),
    })
    .strict(),
});

/** One endpoint, many views of a job (seed 7.5.1): `type` picks what is filled in. */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(ShowJobDetailRequest, async ({ path, query }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const base = { id: job.id, status: job.status, create_time: jobDetailV5(job).create_time };
    switch (query.type) {
      case 'detail':
      case 'overview':
        return { job: jobDetailV5(job) };
      case 'network': {
        if (!query.query_id) throw new InvalidParameterError('query_id', 'is required for type=network');
        const r = networkResultsV5(job, query.query_id);
        if (!r) throw new InvalidParameterError('query_id', 'no connection test of this job has this id');
        return { job: { ...base, ...r } };
      }
      case 'precheck':
        if (!job.precheck || (query.query_id && job.precheck.id !== query.query_id)) throw new InvalidParameterError('query_id', 'no precheck of this job has this id');
        return { job: { ...base, precheck_result: precheckResultV5(job) } };
      case 'progress': {
        const p = await jobProgress(job, d);
        return { job: { ...base, progress_info: progressInfoV5(job, p), migration_object_progress_info: migrationObjectProgressV5(job, p) } };
      }
      case 'log': {
        const level = query.log_level?.toUpperCase();
        const lines = (await d.jobs.listLogs(job)).filter((l) => !level || l.level === level);
        const p = page(lines, query.offset, query.limit);
        return { job: { ...base, total_count: p.total, logs: logsV5(p.items) } };
      }
      case 'compare':
        return { job: { ...base, ...(await compareDetailV5(job, query, { ...d, compares: compareStore() })) } };
      default:
        throw new NotApplicableError(`type=${query.type}`, 'this view describes Huawei-managed infrastructure that this deployment does not have');
    }
  });

export const handler = makeHandler();

import { z } from 'zod';
import { iso } from '../../../lib/dialects/v5/render.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { page } from '../../../lib/paging.js';
import { StartTime } from '../../../lib/dialects/v5/schemas.js';
import { Id, Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

export const ShowDirtyDataRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  query: z
    .object({
      begin_time: Single(StartTime).optional(),
      end_time: Single(StartTime).optional(),
      offset: Single(Offset),
      limit: Single(Limit(1000, 10)),
      anonymize_mode: Single(SafeText(32)).optional(),
      task_mode: Single(SafeText(32)).optional(),
    })
    .strict(),
});

/** Seed 7.5.3: the job's abnormal data, i.e. changes the job skipped by the user's policy, each recorded. */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(ShowDirtyDataRequest, async ({ path, query }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const all = (await d.jobs.listAbnormal(job)).filter((r) => (query.begin_time === undefined || r.create_time >= query.begin_time) && (query.end_time === undefined || r.create_time <= query.end_time));
    const p = page(all, query.offset, query.limit);
    return {
      count: p.total,
      dirty_data_list: p.items.map((r) => ({ db_name: r.db_name, schema_name: r.schema_name, table_name: r.table_name, content: r.content, reason: r.reason, commit_time: iso(r.commit_time), create_time: iso(r.create_time) })),
    };
  });

export const handler = makeHandler();

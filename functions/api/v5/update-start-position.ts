import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob, setStartPosition } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { parseLsn, parseMySqlPosition } from '../../../lib/job/positions.js';
import { Id } from '../../../lib/validation.js';

export const UpdateStartPositionRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  body: z.object({ file_and_position: z.string().max(100), gtid_set: z.string().max(2048).optional() }).strict(),
});

/** Seed 7.6.9: where an INCR_TRANS job's incremental sync starts (binlog file:position, GTID set, or a PostgreSQL LSN). */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(UpdateStartPositionRequest, async ({ path, body }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const position = job.source.dbType === 'postgresql' ? parseLsn(body.file_and_position) : parseMySqlPosition(body.file_and_position, body.gtid_set);
    await setStartPosition(ctx.projectId, path.job_id, position, d);
    return {};
  });

export const handler = makeHandler();

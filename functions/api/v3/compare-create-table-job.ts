import { z } from 'zod';
import { createCompare } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import { scopeV3, startTimeV3 } from '../../../lib/dialects/v3/compare.js';
import { InvalidParameterError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id, SafeText } from '../../../lib/validation.js';

export const CreateTableCompareJobRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  body: z
    .object({
      type: z.enum(['lines', 'contents', 'random']),
      start_time: z.union([SafeText(40), z.number().int().nonnegative()]).optional(),
      compare_mode: z.enum(['quick_comparison', '']).optional(),
      compare_object: z.array(z.object({ db_name: SafeText(128).min(1), table_name: z.array(SafeText(128)).max(10_000).optional() }).strict()).max(1000).optional(),
      options: z.record(z.string().max(64), z.string().max(256)).optional(),
      compare_object_with_token: z.array(z.unknown()).optional(),
      compare_task_num: z.number().int().optional(),
      compare_transformation_infos: z.array(z.unknown()).optional(),
      proportion_value: z.number().optional(),
    })
    .strict(),
});

/** SDK CreateDataLevelTableCompareJob: a row-count or content compare, now or at start_time; returns its id. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(CreateTableCompareJobRequest, async ({ path, body }, ctx) => {
    if (body.type === 'random') throw new InvalidParameterError('type', 'sampling compares apply to GaussDB links only; use lines or contents');
    if (body.compare_object_with_token?.length) throw new InvalidParameterError('compare_object_with_token', 'token ranges apply to Cassandra DR jobs only');
    if (body.compare_transformation_infos?.length) throw new InvalidParameterError('compare_transformation_infos', "compares use the job's own row filters; separate compare filters are not supported");
    if (body.compare_mode !== 'quick_comparison' && !body.compare_object?.length) throw new InvalidParameterError('compare_object', 'is required unless compare_mode is quick_comparison');
    const { task } = await createCompare(ctx.projectId, path.job_id, { type: body.type, startAt: startTimeV3(body.start_time), scope: scopeV3(body.compare_object), options: body.options ?? {}, origin: 'v3' }, deps());
    return { id: task.id };
  });

export const handler = makeHandler();

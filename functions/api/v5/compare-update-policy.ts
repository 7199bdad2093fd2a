import { z } from 'zod';
import { updateComparePolicy } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id, SafeText } from '../../../lib/validation.js';

const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/, 'must be HH:mm:ss (UTC)');

export const UpdateComparePolicyRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  body: z
    .object({
      action: z.enum(['open', 'close']),
      period: SafeText(64).optional(),
      begin_time: Time.optional(),
      end_time: Time.optional(),
      compare_type: z.array(z.enum(['object_comparison', 'object', 'lines', 'contents', 'account'])).max(4).optional(),
      compare_policy: z.enum(['normal', 'manyToOne']).optional(),
      interval_hour: z.number().int().min(1).max(24).optional(),
    })
    .strict(),
});

/** Seed 7.7.1 (SDK UpdateComparePolicy): open or close the periodic compare. The SDK reads no body. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(UpdateComparePolicyRequest, async ({ path, body }, ctx) => {
    await updateComparePolicy(
      ctx.projectId,
      path.job_id,
      { action: body.action, period: body.period, beginTime: body.begin_time, endTime: body.end_time, compareType: body.compare_type, comparePolicy: body.compare_policy, intervalHour: body.interval_hour },
      deps(),
    );
    return {};
  });

export const handler = makeHandler();

import { z } from 'zod';
import { findCompare } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import type { CompareType } from '../../../lib/compare/model.js';
import { InvalidParameterError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { Id, SafeText } from '../../../lib/validation.js';

export const ExportCompareResultReq = z.object({ compare_type: z.enum(['contents', 'lines', 'random', 'objects_comparison', 'repair_data']), compare_job_id: Id.optional(), time_zone: SafeText(32).optional() }).strict();
export const CreateCompareResultFileRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }), body: ExportCompareResultReq });

export const exportTypes: Record<string, CompareType[] | undefined> = { contents: ['contents'], lines: ['lines'], objects_comparison: ['object'] };

/** SDK CreateCompareResultFile: prepare a compare's report. It is written from the stored results when downloaded, so it is ready at once. */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(CreateCompareResultFileRequest, async ({ path, body }, ctx) => {
    const types = exportTypes[body.compare_type];
    if (!types) throw new InvalidParameterError('compare_type', `${body.compare_type} reports are not offered: there are no sampling compares or repairs here`);
    if (body.compare_type !== 'objects_comparison' && !body.compare_job_id) throw new InvalidParameterError('compare_job_id', `is required for compare_type ${body.compare_type}`);
    const d = deps();
    const task = await findCompare(ctx.projectId, path.job_id, d, body.compare_job_id, types);
    if (!task) throw new InvalidParameterError('compare_job_id', 'the job has no compare of this type');
    await d.compares.mutateTask(task, task.id, (t) => Object.assign(t, { exportStatus: 'EXPORT_COMPLETE', exportedAt: Date.now() }));
    return { id: task.id, status: 'success' };
  });

export const handler = makeHandler();

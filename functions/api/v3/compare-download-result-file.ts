import { z } from 'zod';
import type { APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { findCompare } from '../../../lib/compare/commands.js';
import { compareDeps } from '../../../lib/compare/deps.js';
import { compareReportCsv } from '../../../lib/dialects/v3/compare.js';
import { InvalidParameterError } from '../../../lib/errors.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { Id, SafeText, Single } from '../../../lib/validation.js';
import { exportTypes, ExportCompareResultReq } from './compare-create-result-file.js';

export const DownloadCompareResultFileRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id }),
  query: z.object({ compare_type: Single(SafeText(32)).optional(), compare_job_id: Single(Id).optional() }).strict(),
  // The SDK sends the same fields again as a JSON body on this GET.
  body: ExportCompareResultReq.partial().optional(),
});

/** SDK DownloadCompareResultFile: the compare's report as a CSV file (the SDK reads it as a raw stream). */
export const makeHandler = (deps = compareDeps) => {
  const inner = apiHandler(DownloadCompareResultFileRequest, async ({ path, query, body }, ctx) => {
    const compareType = query.compare_type ?? body?.compare_type;
    const types = compareType ? exportTypes[compareType] : undefined;
    if (!types) throw new InvalidParameterError('compare_type', 'must be contents, lines or objects_comparison');
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const task = await findCompare(ctx.projectId, path.job_id, d, query.compare_job_id ?? body?.compare_job_id, types);
    if (!task) throw new InvalidParameterError('compare_job_id', 'the job has no compare of this type');
    return { file: `compare-${task.type}-${task.id}.csv`, csv: await compareReportCsv(job.source.dbType, task, d) };
  });
  // The one place a response is not JSON: the envelope built by apiHandler is unwrapped into the file.
  return async (event: never, context: Context): Promise<APIGatewayProxyResultV2> => {
    const res = (await inner(event, context)) as APIGatewayProxyStructuredResultV2;
    if (res.statusCode !== 200 || typeof res.body !== 'string') return res;
    const { file, csv } = JSON.parse(res.body) as { file: string; csv: string };
    return { ...res, headers: { ...res.headers, 'content-type': 'text/csv;charset=UTF-8', 'content-disposition': `attachment; filename="${file}"` }, body: csv };
  };
};

export const handler = makeHandler();

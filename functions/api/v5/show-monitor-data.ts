import { z } from 'zod';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { iso } from '../../../lib/dialects/v5/render.js';
import { getJob } from '../../../lib/job/commands.js';
import { jobDeps } from '../../../lib/job/deps.js';
import { formatPosition } from '../../../lib/job/positions.js';
import { jobProgress } from '../../../lib/job/queries.js';
import { Id } from '../../../lib/validation.js';

export const ShowMonitorDataRequest = z.object({ path: z.object({ project_id: z.string(), job_id: Id }) });

/**
 * Seed 7.5.5 / SDK ShowMonitorData: positions, lag and rates of the job. Node resource figures
 * (volumes, memory, CPU) describe Huawei's replication VM; this deployment has none, so they are 0.
 */
export const makeHandler = (deps = jobDeps) =>
  apiHandler(ShowMonitorDataRequest, async ({ path }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const p = await jobProgress(job, d);
    const cdc = job.run?.cdc;
    const applied = formatPosition(job.run?.appliedPosition ?? job.run?.startPosition);
    const healthy = !['FULL_TRANSFER_FAILED', 'INCRE_TRANSFER_FAILED', 'START_JOB_FAILED'].includes(job.status);
    return {
      bandwidth: '0',
      is_src_normal: healthy,
      is_dst_normal: healthy,
      src_offset: applied,
      node_offset: applied,
      dst_offset: applied,
      src_delay: cdc ? Math.floor(cdc.lagMillis / 1000) : 0,
      dst_delay: cdc ? Math.floor(cdc.lagMillis / 1000) : 0,
      src_rps: String(cdc?.eventsPerSecond ?? 0),
      src_io: '0',
      dst_rps: String(cdc?.eventsPerSecond ?? 0),
      dst_io: '0',
      trans_data: String(Math.round(p.bytesDone / 1024 / 1024)),
      trans_lines: String(p.rowsDone + (cdc?.eventsApplied ?? 0)),
      used_volumes: '0',
      used_memory: '0',
      used_cpu_percent: '0',
      node_volume_size: 0,
      node_memory_size: 0,
      update_time: iso(cdc?.updatedAt ?? job.updateTime),
      apply_rate: 0,
    };
  });

export const handler = makeHandler();

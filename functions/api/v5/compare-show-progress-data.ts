import { z } from 'zod';
import { compareDeps } from '../../../lib/compare/deps.js';
import { tableName } from '../../../lib/compare/model.js';
import { iso } from '../../../lib/dialects/v5/render.js';
import { apiHandler } from '../../../lib/http/api-handler.js';
import { getJob } from '../../../lib/job/commands.js';
import { containsIgnoreCase, page } from '../../../lib/paging.js';
import { Id, Limit, Offset, SafeText, Single } from '../../../lib/validation.js';

const TYPES = ['table', 'event', 'table_structure', 'procedure', 'view', 'function', 'database', 'trigger', 'table_indexs'] as const;

export const ShowProgressDataRequest = z.object({
  path: z.object({ project_id: z.string(), job_id: Id, type: z.enum(TYPES) }),
  query: z.object({ offset: Single(Offset), limit: Single(Limit(1000, 10)), search_name: Single(SafeText(128)).optional() }).strict(),
});

/**
 * Seed 7.7.3 (SDK ShowProgressData, "data-level streaming comparison list", documented as
 * per-object migration progress): each selected table (database) with how far its copy is, from
 * the job's plan: `table` by chunks done, `table_structure` once the schema is copied,
 * `table_indexs` once the deferred indexes exist. Views, routines, triggers and events are not
 * migrated by this service, so those lists are empty.
 */
export const makeHandler = (deps = compareDeps) =>
  apiHandler(ShowProgressDataRequest, async ({ path, query }, ctx) => {
    const d = deps();
    const job = await getJob(ctx.projectId, path.job_id, d);
    const [tables, chunks] = await Promise.all([d.jobs.listTables(job), d.jobs.listChunks(job)]);
    const pct = (done: number, total: number) => (total === 0 ? 100 : Math.floor((done / total) * 100));
    const rows: { src_db: string; src_tb: string; dst_db: string; dst_tb: string; progress: number }[] = [];
    const tableProgress = (index: number) => {
      const mine = chunks.filter((c) => c.tableIndex === index);
      return job.run?.chunksPlanned ? pct(mine.filter((c) => c.status === 'done').length, mine.length) : 0;
    };
    if (path.type === 'table' || path.type === 'table_structure' || path.type === 'table_indexs') {
      for (const t of tables) {
        const progress = path.type === 'table' ? tableProgress(t.index) : path.type === 'table_structure' ? (job.run?.schemaCopied || tables.length ? 100 : 0) : job.run?.indexesCreated ? 100 : 0;
        rows.push({ src_db: t.source.db, src_tb: tableName(t.source), dst_db: t.target.db, dst_tb: tableName(t.target), progress });
      }
    } else if (path.type === 'database') {
      const dbs = new Map<string, { dst: string; indexes: number[] }>();
      for (const t of tables) dbs.set(t.source.db, { dst: t.target.db, indexes: [...(dbs.get(t.source.db)?.indexes ?? []), t.index] });
      for (const [src, v] of dbs) rows.push({ src_db: src, src_tb: '', dst_db: v.dst, dst_tb: '', progress: Math.min(...v.indexes.map(tableProgress)) });
    }
    const hits = query.search_name ? rows.filter((r) => containsIgnoreCase(r.src_tb || r.src_db, query.search_name!)) : rows;
    const p = page(hits, query.offset, query.limit);
    return { count: p.total, create_time: iso(job.run?.startedAt ?? job.createTime), flow_compare_data: p.items };
  });

export const handler = makeHandler();

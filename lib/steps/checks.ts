/**
 * Connection tests and prechecks, run by the workflow for the v5 `network` / `precheck` actions
 * and the v3 batch-connection / batch-precheck endpoints. Results are written to the job under
 * the query id the action returned; a result for an older query is discarded.
 *
 * Precheck = each engine's own catalogue (source side, target side) + the checks that need both
 * sides (versions, same database, time zones, character sets), all reported, none thrown.
 */
import { mapTableSchema } from '../engines/column-map.js';
import { openEngine } from '../engines/index.js';
import type { CheckResult, ConnectionTestResult, EndpointConfig, ServerInfo, SourceEngine, TableMapping, TableSchema, TargetEngine } from '../engines/engine.js';
import { assertConnectionTestable, mergeEndpoint, mutateJob, getJob, precheckPassed, type JobDeps } from '../job/commands.js';
import type { EndpointSpec } from '../job/spec.js';
import type { Job, JobEndpoint, NetworkResult } from '../job/job.js';
import { logger } from '../logger.js';
import { endpointConfig, log } from './context.js';
import { checkColumnMaps, refName, resolveSelection, jobObjects } from './selection.js';
import { precheckObjects } from './objects.js';

export type Open = (cfg: EndpointConfig) => SourceEngine & TargetEngine;

async function testOne(job: Job, role: 'source' | 'target', deps: JobDeps, open: Open, override?: JobEndpoint): Promise<NetworkResult> {
  const e = override ?? job[role];
  let cfg: EndpointConfig;
  try {
    cfg = await endpointConfig(job, role, deps, override);
  } catch (error) {
    return { role, ip: e.host ?? '', success: false, error_code: 'DRS.KE0014', error_msg: (error as Error).message };
  }
  const engine = open(cfg);
  try {
    const r: ConnectionTestResult = await engine.testConnection();
    return { role, ip: cfg.host, success: r.success, error_code: r.code, error_msg: r.success ? undefined : r.message, version: r.version };
  } finally {
    await engine.close().catch(() => undefined);
  }
}

/**
 * One endpoint of a job, tested now (v3 batch-connection): the stored endpoint with `override`
 * merged in, within the engine's connect timeout (10 s). Nothing is stored: the v3 flow saves the
 * tested settings afterwards with batch-modification.
 */
export async function testEndpointNow(projectId: string, jobId: string, role: 'source' | 'target', override: Partial<EndpointSpec>, deps: JobDeps, open: Open = openEngine): Promise<NetworkResult> {
  const job = await getJob(projectId, jobId, deps);
  assertConnectionTestable(job);
  const endpoint = await mergeEndpoint(job[role], override, role === 'source' ? 'source_endpoint' : 'target_endpoint', projectId, deps);
  return testOne(job, role, deps, open, endpoint);
}

/** Test both endpoints (or the endpoints the action gave) and record the result by query id. */
export async function testConnections(projectId: string, jobId: string, queryId: string, deps: JobDeps, open: Open = openEngine): Promise<NetworkResult[]> {
  const job = await getJob(projectId, jobId, deps);
  const override = job.echo.networkOverride as { source?: JobEndpoint; target?: JobEndpoint } | undefined;
  const results = await Promise.all([testOne(job, 'source', deps, open, override?.source), testOne(job, 'target', deps, open, override?.target)]);
  await mutateJob(projectId, jobId, deps, (j) => {
    if (j.network?.id !== queryId) return j;
    j.network = { ...j.network, status: 'success', finishedAt: Date.now(), result: results };
    return j;
  });
  return results;
}

const item = (i: string, group: string, ok: boolean, reason: string, advice: string, alarm = false): CheckResult =>
  ok ? { item: i, group, result: 'passed' } : { item: i, group, result: alarm ? 'alarm' : 'failed', failed_reason: reason, advice };

/** Checks that need both servers' facts. */
export function crossChecks(job: Job, src: ServerInfo, dst: ServerInfo, srcCfg: EndpointConfig, dstCfg: EndpointConfig): CheckResult[] {
  const same = srcCfg.host === dstCfg.host && srcCfg.port === dstCfg.port;
  const out: CheckResult[] = [
    item('dbVersionMeetRequirement', 'db_version', src.flavor === dst.flavor || (src.flavor !== 'postgresql' && dst.flavor !== 'postgresql'), `source is ${src.flavor}, target is ${dst.flavor}`, 'Use a target of the same database family as the source.'),
    item('dstDbVersionSupport', 'db_version', dst.versionNumber >= src.versionNumber || src.flavor !== dst.flavor, `the target version ${dst.version} is older than the source version ${src.version}`, 'Migrate to a target whose version is the same as or newer than the source, or check that the objects you use exist on the older version.', true),
    item('srcDstSameInstance', 'db_params', !same, `source and target are the same server (${srcCfg.host}:${srcCfg.port})`, 'Choose a different target server: replicating a server into itself would read its own writes.'),
    item('dbClockConsistency', 'db_params', src.timeZone === dst.timeZone, `time zones differ: source ${src.timeZone}, target ${dst.timeZone}`, 'Set the same time_zone / TimeZone on both servers, or make sure no column depends on the session time zone.', true),
    item('dbCharacterSetConsistency', 'db_params', src.charset === dst.charset, `server character sets differ: source ${src.charset}, target ${dst.charset}`, 'Use the same server character set, or check that every column declares its own.', true),
  ];
  if (src.collation !== undefined && dst.collation !== undefined) {
    out.push(item('dbCollationServerConsistency', 'db_params', src.collation === dst.collation, `server collations differ: source ${src.collation}, target ${dst.collation}`, 'Use the same server collation to keep string comparison and unique keys identical.', true));
  }
  void job;
  return out;
}

/** The selection's column renames and drops fit the source tables (columns exist, no key column dropped). */
function columnMapCheck(mappings: TableMapping[], schemas: TableSchema[]): CheckResult {
  try {
    checkColumnMaps(mappings, schemas);
    return item('columnMappingCheck', 'db_params', true, '', '');
  } catch (e) {
    return item('columnMappingCheck', 'db_params', false, (e as Error).message, 'Fix the column mapping of the job (db_object ... columns): name only columns the source table has, and keep every primary-key column.');
  }
}

/** Run the precheck of the job's current configuration; record results by query id. */
export async function runPrecheck(projectId: string, jobId: string, queryId: string, deps: JobDeps, open: Open = openEngine): Promise<CheckResult[]> {
  const job = await getJob(projectId, jobId, deps);
  const results: CheckResult[] = [];
  const conn = await Promise.all([testOne(job, 'source', deps, open), testOne(job, 'target', deps, open)]);
  results.push(
    { item: 'srcDbConnection', group: 'network', result: conn[0].success ? 'passed' : 'failed', failed_reason: conn[0].error_msg, advice: conn[0].success ? undefined : 'Check the source address, port, account and password, and that the source accepts connections from this service.' },
    { item: 'dstDbConnection', group: 'network', result: conn[1].success ? 'passed' : 'failed', failed_reason: conn[1].error_msg, advice: conn[1].success ? undefined : 'Check the target address, port, account and password, and that the target accepts connections from this service.' },
  );
  if (conn[0].success && conn[1].success) {
    const srcCfg = await endpointConfig(job, 'source', deps);
    const dstCfg = await endpointConfig(job, 'target', deps);
    const source = open(srcCfg);
    const target = open(dstCfg);
    try {
      const objects = jobObjects(job.source, await source.listObjects());
      const mappings = resolveSelection(job.dbObject, objects);
      const tables = mappings.map((m) => m.source);
      const [srcInfo, dstInfo] = await Promise.all([source.serverInfo(), target.serverInfo()]);
      results.push(...crossChecks(job, srcInfo, dstInfo, srcCfg, dstCfg));
      results.push(
        item('userSelectObjectsCheck', 'db_params', mappings.length > 0, 'the selection contains no table', 'Select at least one table, or check that the selected databases hold tables.'),
      );
      const srcResults = await source.precheckSource({ role: 'source', taskType: job.taskType, tables, databases: [...new Set(tables.map((t) => t.db))] });
      const schemas = mappings.length ? await source.readSchema(tables) : [];
      results.push(columnMapCheck(mappings, schemas));
      const dstResults = await target.precheckTarget(
        { role: 'target', taskType: job.taskType, tables: mappings.map((m) => m.target), databases: [...new Set(mappings.map((m) => m.target.db))] },
        // The tables as the target gets them: a dropped column's character set does not matter there.
        schemas.map((s, i) => mapTableSchema(s, mappings[i]!.columns).schema),
      );
      results.push(...srcResults.filter((r) => r.item !== 'srcDbConnection'), ...dstResults.filter((r) => r.item !== 'dstDbConnection'));
      // Views, routines, triggers, events: readable on the source, definers on the target (lib/steps/objects.ts).
      results.push(...(await precheckObjects(job, source, target, objects, mappings)));
      await log(deps, job, `precheck ${queryId}: ${mappings.length} tables selected (${mappings.slice(0, 5).map((m) => refName(m.source)).join(', ')}${mappings.length > 5 ? ', ...' : ''})`);
    } catch (error) {
      logger.warn('precheck could not complete', { jobId, error });
      results.push({ item: 'precheckExecution', group: 'db_params', result: 'failed', failed_reason: (error as Error).message, advice: 'Fix the cause above and run the precheck again.' });
    } finally {
      await Promise.allSettled([source.close(), target.close()]);
    }
  }
  await mutateJob(projectId, jobId, deps, (j) => {
    if (j.precheck?.id !== queryId) return j;
    j.precheck = { ...j.precheck, status: 'success', finishedAt: Date.now(), results };
    j.precheck.passed = precheckPassed(j.precheck);
    return j;
  });
  return results;
}

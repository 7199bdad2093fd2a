/**
 * MySQL and MariaDB (MySQL 5.7/8.x, MariaDB 10.2+) as a source and as a target. The class only
 * routes: connection.ts (pool, connection test, server facts, binlog position), precheck.ts,
 * schema.ts, chunks.ts, rows.ts, cdc.ts (binlog reader and change applier, with ddl.ts) and
 * errors.ts do the work. Every method reports database
 * failures as RetryableError or FatalEngineError (errors.ts).
 */
import { projectColumns } from '../column-map.js';
import type {
  CdcPosition,
  ColumnMap,
  Comparer,
  CompareRange,
  DigestRow,
  DigestSpec,
  HashKind,
  ObjectDescription,
  RangeDigest,
  CdcSource,
  CdcTarget,
  ChangeStream,
  ChangeTransaction,
  CheckResult,
  Chunk,
  ConnectionTestResult,
  CopyChunkOptions,
  CopyChunkResult,
  DbObjects,
  EndpointConfig,
  PrecheckScope,
  RowPage,
  SchemaApply,
  ServerInfo,
  SourceEngine,
  TableMapping,
  TableRef,
  TableSchema,
  TargetEngine,
} from '../engine.js';
import { MySqlApplyState, applyChanges, openChangeStream, prepareCdc, releaseCdc } from './cdc.js';
import { planChunks } from './chunks.js';
import { describeObjects, digestBuckets, digestRange, hashKinds, readKeys, readRange, splitPoints } from './digest.js';
import { copyChunk } from './copy.js';
import { MySqlClient, currentPosition, testConnection } from './connection.js';
import { precheckSource, precheckTarget } from './precheck.js';
import { countRows, readChunk, truncate, writeRows, type ColumnList } from './rows.js';
import { applySchema, copyColumns, createSecondaryIndexes, listObjects, readSchema } from './schema.js';
import type { AccountDef, AccountResult, AccountSource, AccountTarget, DbObjectDef, ObjectPlacement, ObjectResult, ObjectScope, ObjectSource, ObjectTarget, SourceAccount } from '../engine.js';
import { accountsExist, createObjects, readObjects } from './objects.js';
import { createAccounts, grantAccounts, listAccounts, readAccounts } from './users.js';

export class MySqlEngine implements SourceEngine, TargetEngine, CdcSource, CdcTarget, Comparer, ObjectSource, ObjectTarget, AccountSource, AccountTarget {
  readonly kind = 'mysql' as const;
  private readonly client: MySqlClient;
  /** What the CDC applier learned on the target (renamed tables, keys, generated columns). */
  private readonly cdcState = new MySqlApplyState();
  /** Copyable columns per table, read once per engine instance. */
  private readonly columns = new Map<string, Promise<ColumnList>>();

  constructor(readonly cfg: EndpointConfig) {
    this.client = new MySqlClient(cfg);
  }

  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw this.client.classify(e);
    }
  }

  testConnection(): Promise<ConnectionTestResult> {
    return testConnection(this.cfg);
  }

  serverInfo(): Promise<ServerInfo> {
    return this.guard(() => this.client.serverInfo());
  }

  precheckSource(scope: PrecheckScope): Promise<CheckResult[]> {
    return this.guard(() => precheckSource(this.client, scope));
  }

  precheckTarget(scope: PrecheckScope, sourceTables: TableSchema[]): Promise<CheckResult[]> {
    return this.guard(() => precheckTarget(this.client, scope, sourceTables));
  }

  listObjects(): Promise<DbObjects> {
    return this.guard(() => listObjects(this.client));
  }

  readSchema(tables: TableRef[]): Promise<TableSchema[]> {
    return this.guard(() => readSchema(this.client, tables));
  }

  applySchema(tables: SchemaApply[], opts: { deferSecondaryIndexes: boolean }): Promise<void> {
    return this.guard(() => applySchema(this.client, tables, opts));
  }

  createSecondaryIndexes(tables: SchemaApply[]): Promise<void> {
    return this.guard(() => createSecondaryIndexes(this.client, tables));
  }

  planChunks(table: TableSchema, rowsPerChunk: number): Promise<Chunk[]> {
    return this.guard(() => planChunks(this.client, table, rowsPerChunk));
  }

  async *readChunk(chunk: Chunk, opts: { pageRows: number; columns?: ColumnMap; where?: string }): AsyncIterable<RowPage> {
    try {
      const all = await this.copyColumns(chunk.table);
      const cols = projectColumns(opts.columns, all.map((c) => c.name));
      for await (const page of readChunk(this.client, chunk, { pageRows: opts.pageRows, columns: cols.source, where: opts.where }, all)) yield { ...page, columns: cols.target };
    } catch (e) {
      throw this.client.classify(e);
    }
  }

  copyChunkTo(chunk: Chunk, target: TargetEngine, into: TableRef, opts: CopyChunkOptions): Promise<CopyChunkResult | undefined> {
    if (!(target instanceof MySqlEngine)) return Promise.resolve(undefined);
    return this.guard(async () => copyChunk(this.client, target.client, chunk, into, projectColumns(opts.columns, (await this.copyColumns(chunk.table)).map((c) => c.name)), opts));
  }

  writeRows(table: TableRef, page: RowPage, opts: { keyColumns: string[] }): Promise<number> {
    return this.guard(() => writeRows(this.client, table, page, opts.keyColumns));
  }

  countRows(table: TableRef, where?: string): Promise<number> {
    return this.guard(() => countRows(this.client, table, where));
  }

  truncate(table: TableRef): Promise<void> {
    return this.guard(() => truncate(this.client, table));
  }

  currentPosition(): Promise<CdcPosition> {
    return this.guard(() => currentPosition(this.client));
  }

  prepareCdc(_name: string, _tables: TableRef[]): Promise<CdcPosition> {
    return this.guard(() => prepareCdc(this.client));
  }

  openChangeStream(from: CdcPosition, tables: TableRef[]): Promise<ChangeStream> {
    return this.guard(() => openChangeStream(this.client, from, tables));
  }

  releaseCdc(_position: CdcPosition): Promise<void> {
    return this.guard(() => releaseCdc());
  }

  applyChanges(
    txs: ChangeTransaction[],
    route: (source: TableRef) => TableMapping | undefined,
    opts: { keyColumns: (source: TableRef) => string[]; conflictPolicy?: 'ignore' | 'overwrite' | 'stop' },
  ): Promise<{ rows: number; ddl: number }> {
    return this.guard(() => applyChanges(this.client, txs, route, opts, this.cdcState));
  }

  // --- compare (digest.ts): read-only, the compare's own reads of this database ---------------

  describeObjects(databases: { db: string; schema?: string }[], tables: TableRef[]): Promise<ObjectDescription> {
    return this.guard(() => describeObjects(this.client, databases, tables));
  }

  hashKinds(table: TableRef): Promise<HashKind[]> {
    return this.guard(() => hashKinds(this.client, table));
  }

  digestRange(range: CompareRange, spec: DigestSpec): Promise<RangeDigest> {
    return this.guard(() => digestRange(this.client, range, spec));
  }

  digestBuckets(range: CompareRange, spec: DigestSpec, split: { boundaries: unknown[][] } | { hashDigit: true }): Promise<Map<string, RangeDigest>> {
    return this.guard(() => digestBuckets(this.client, range, spec, split));
  }

  splitPoints(range: CompareRange, spec: DigestSpec, every: number): Promise<unknown[][]> {
    return this.guard(() => splitPoints(this.client, range, spec, every));
  }

  readRange(range: CompareRange, spec: DigestSpec, limit: number): Promise<DigestRow[]> {
    return this.guard(() => readRange(this.client, range, spec, limit));
  }

  readKeys(table: TableRef, keyColumns: string[], keys: unknown[][], spec: DigestSpec): Promise<DigestRow[]> {
    return this.guard(() => readKeys(this.client, table, keyColumns, keys, spec));
  }

  // --- views, routines, triggers, events (objects.ts) and accounts (users.ts) -----------------

  readObjects(scope: ObjectScope): Promise<DbObjectDef[]> {
    return this.guard(() => readObjects(this.client, scope));
  }

  createObjects(defs: DbObjectDef[], placement: ObjectPlacement): Promise<ObjectResult[]> {
    return this.guard(() => createObjects(this.client, defs, placement));
  }

  accountsExist(ids: string[]): Promise<string[]> {
    return this.guard(() => accountsExist(this.client, ids));
  }

  listAccounts(): Promise<SourceAccount[]> {
    return this.guard(() => listAccounts(this.client));
  }

  readAccounts(ids: string[], scope: ObjectScope): Promise<AccountDef[]> {
    return this.guard(() => readAccounts(this.client, ids, scope));
  }

  createAccounts(defs: AccountDef[], opts: { passwords: Map<string, string> }): Promise<AccountResult[]> {
    return this.guard(() => createAccounts(this.client, defs, opts));
  }

  grantAccounts(defs: AccountDef[], placement: ObjectPlacement): Promise<AccountResult[]> {
    return this.guard(() => grantAccounts(this.client, defs, placement));
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private copyColumns(ref: TableRef): Promise<ColumnList> {
    const k = JSON.stringify([ref.db, ref.table]);
    let cols = this.columns.get(k);
    if (!cols) {
      cols = copyColumns(this.client, ref);
      cols.catch(() => this.columns.delete(k));
      this.columns.set(k, cols);
    }
    return cols;
  }
}

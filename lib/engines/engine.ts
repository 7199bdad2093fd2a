/**
 * The engine contract: everything a migration needs from a database, as a source and as a
 * target. One class per engine implements both (`class MySqlEngine implements SourceEngine,
 * TargetEngine`), in a folder per engine with the same file names (mysql/, postgres/), and every
 * engine passes the one contract suite in test/it/engine.contract.ts.
 *
 * Dialect details (quoting, positions, upsert syntax, catalog queries) never leave the engine:
 * lib/steps sees only these types. Rows cross this boundary as arrays in column order, in the
 * engine's own driver representation; a RowPage read from an engine is written to an engine of
 * the same kind (MySQL→MySQL, PostgreSQL→PostgreSQL).
 */

export type EngineKind = 'mysql' | 'postgresql';

/** How to reach a database. Built by lib/engines/index.ts from a job endpoint or a connection. */
export interface EndpointConfig {
  kind: EngineKind;
  host: string;
  port: number;
  user: string;
  password: string;
  /** MySQL: optional default database. PostgreSQL: the database to connect to (default `postgres`). */
  database?: string;
  ssl?: {
    enabled: boolean;
    /** PEM CA certificate (decoded from the seed's base64 `ssl_cert_key`). */
    ca?: string;
    /** Verify the server certificate against `ca`. */
    verify?: boolean;
  };
  /** Bound for connect + authenticate. Default 10 s. */
  connectTimeoutMs?: number;
  /** Max connections the engine's pool opens (full-load parallelism). Default 8. */
  poolSize?: number;
}

/**
 * A table. MySQL: `db` is the database, `schema` is undefined. PostgreSQL: `db` is the database,
 * `schema` the schema inside it (default `public`).
 */
export interface TableRef {
  db: string;
  schema?: string;
  table: string;
}

export interface ColumnSchema {
  name: string;
  /** Full native type as the engine declares it: `int(10) unsigned`, `varchar(64)`, `numeric(10,2)`, `timestamp(6) with time zone`, `integer[]`. */
  type: string;
  nullable: boolean;
  /** Default as a SQL expression in the engine's dialect, or undefined for none. */
  default?: string;
  /** MySQL AUTO_INCREMENT / PostgreSQL identity or serial. */
  autoIncrement?: boolean;
  charset?: string;
  collation?: string;
  comment?: string;
}

export interface IndexSchema {
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
  /** Engine-native definition used to recreate it exactly (e.g. pg_get_indexdef), when the engine has one. */
  definition?: string;
}

export interface TableSchema {
  ref: TableRef;
  columns: ColumnSchema[];
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey: string[];
  /** All indexes including the primary key and unique keys. */
  indexes: IndexSchema[];
  charset?: string;
  collation?: string;
  /** Estimated row count from statistics (for chunk planning and progress). */
  estimatedRows: number;
  /** Estimated data size in bytes. */
  estimatedBytes: number;
  /** Engine-private data needed to recreate the table exactly (e.g. MySQL SHOW CREATE TABLE). */
  native?: Record<string, unknown>;
}

/**
 * Column renames and drops of one table (the selection's `columns`, built by lib/steps/selection.ts
 * and applied through lib/engines/column-map.ts). Keys and `drop` are source column names; a column
 * named in neither keeps its name (so does one the source adds later). Primary-key columns are
 * never dropped.
 */
export interface ColumnMap {
  /** Source column name → target column name. */
  rename: Record<string, string>;
  /** Source columns not copied: absent on the target, left out of every copy, change and compare. */
  drop: string[];
}

/** Where a source table goes on the target (the job's object selection and renames, resolved). */
export interface TableMapping {
  source: TableRef;
  target: TableRef;
  /** Column renames and drops; undefined = every column under its own name. */
  columns?: ColumnMap;
  /** Row filter, validated SQL boolean expression over the source table's columns. */
  where?: string;
}

/**
 * A key range of one table. Bounds are primary-key tuples (values in key column order, in the
 * engine's driver representation, JSON-serialisable). `lower` is exclusive, `upper` inclusive;
 * undefined means unbounded. A table without a usable key is one chunk with no bounds.
 */
export interface Chunk {
  id: string;
  table: TableRef;
  keyColumns: string[];
  lower?: unknown[];
  upper?: unknown[];
  estimatedRows: number;
}

/** Rows read from a source, ready to be written to a target of the same engine kind. */
export interface RowPage {
  columns: string[];
  rows: unknown[][];
  /** Approximate payload size, for throttling and progress. */
  bytes: number;
}

/** How a whole-chunk copy (SourceEngine.copyChunkTo) is paced and filtered. */
export interface CopyChunkOptions {
  /** The table's column renames and drops: every copyable column but the dropped ones, written under its target name. */
  columns?: ColumnMap;
  /** Row filter, validated SQL boolean expression over the source table's columns. */
  where?: string;
  /**
   * Called as data moves, with the bytes moved since the last call. It may wait (throttling) and
   * may throw to stop the copy, which then writes nothing (the chunk's target transaction is rolled back).
   */
  onData?: (bytes: number) => Promise<void> | void;
  /**
   * This claim of the chunk is its first: no earlier attempt can have written rows of it. Lets a
   * target whose key is deferred skip clearing the chunk's range (otherwise it always clears it).
   */
  firstAttempt?: boolean;
  /**
   * Whether the caller still holds the chunk (its lease), asked once the target has locked the
   * chunk's range, before anything is written. False: nothing is written and the copy throws.
   */
  stillOwned?: () => Promise<boolean>;
}

export interface CopyChunkResult {
  rows: number;
  bytes: number;
}

/** Where CDC starts: taken from the source before the first row of the full load is read. */
export type CdcPosition =
  | { kind: 'mysql'; file: string; pos: number; gtid?: string; serverId?: number }
  | { kind: 'postgresql'; lsn: string; slot?: string; publication?: string };

export type CheckResultValue = 'passed' | 'failed' | 'alarm';

/** One precheck item, in the shape the seed's precheck-result APIs return. */
export interface CheckResult {
  /** Stable item name, e.g. `srcBinlogFormatCheck` (seed Appendix F names where one exists). */
  item: string;
  /** Seed group, e.g. `db_params`, `db_user_privilege`, `db_version`, `network`. */
  group: string;
  result: CheckResultValue;
  failed_reason?: string;
  advice?: string;
  /** Objects the finding is about (tables without a key, ...). */
  objects?: string[];
}

/** A precise test-connection outcome. `code` is the seed's DRS.KE* code when it failed. */
export interface ConnectionTestResult {
  success: boolean;
  code?: string;
  message?: string;
  /** Server version string when connected. */
  version?: string;
  elapsedMs: number;
}

export interface ServerInfo {
  kind: EngineKind;
  /** e.g. `10.11.19-MariaDB`, `15.19`. */
  version: string;
  /** Major.minor as a number, e.g. 10.11 or 15. */
  versionNumber: number;
  flavor: 'mysql' | 'mariadb' | 'postgresql';
  timeZone: string;
  charset: string;
  collation?: string;
  /** Key server variables relevant to replication (binlog_format, wal_level, ...). */
  variables: Record<string, string>;
}

/** What a precheck needs to know about the job. */
/** One item of an engine's precheck catalogue (each engine's precheck.ts exports its PRECHECKS). */
export interface PrecheckItem {
  item: string;
  group: string;
  role: 'source' | 'target';
  /** Only for tasks with incremental sync (INCR_TRANS, FULL_INCR_TRANS). */
  incremental?: boolean;
  checks: string;
}

export interface PrecheckScope {
  role: 'source' | 'target';
  taskType: 'FULL_TRANS' | 'INCR_TRANS' | 'FULL_INCR_TRANS';
  /** Selected tables (source names for the source, target names for the target). */
  tables: TableRef[];
  /** Databases involved (source or target names). */
  databases: string[];
}

/** The database objects a user can select (for object selection APIs). */
export interface DbObjects {
  databases: { name: string; schemas?: { name: string; tables: string[] }[]; tables?: string[] }[];
}

export interface SourceEngine {
  readonly kind: EngineKind;
  /** Connect, authenticate, run a query, within the connect timeout. Never throws. */
  testConnection(): Promise<ConnectionTestResult>;
  serverInfo(): Promise<ServerInfo>;
  /** Source-side checks for the job (binlog / wal_level, privileges, keys, types...). */
  precheckSource(scope: PrecheckScope): Promise<CheckResult[]>;
  listObjects(): Promise<DbObjects>;
  readSchema(tables: TableRef[]): Promise<TableSchema[]>;
  /**
   * Split a table into key ranges of about `rowsPerChunk` rows, deterministic for the same
   * data. Tables without a usable key (no primary or non-null unique key) are one chunk.
   */
  planChunks(table: TableSchema, rowsPerChunk: number): Promise<Chunk[]>;
  /**
   * Read a chunk in pages of about `pageRows` rows, in key order. With `columns`, dropped columns
   * are not read and the page's `columns` are the target names.
   */
  readChunk(chunk: Chunk, opts: { pageRows: number; columns?: ColumnMap; where?: string }): AsyncIterable<RowPage>;
  countRows(table: TableRef, where?: string): Promise<number>;
  /**
   * Optional fast path for the full load: copy a whole chunk into `into` on `target` (an engine
   * of the same kind) in one target transaction, without handing rows to the caller. Idempotent
   * like writeRows: all of the chunk or nothing is written. Undefined when the engine cannot do
   * it for this target, or when the target range already holds rows of the chunk (a chunk
   * written before but not marked done); nothing was written then, and the caller copies the
   * chunk with readChunk + writeRows instead.
   */
  copyChunkTo?(chunk: Chunk, target: TargetEngine, into: TableRef, opts: CopyChunkOptions): Promise<CopyChunkResult | undefined>;
  /** The change position now (binlog file/pos + GTID; PostgreSQL: see the CDC issue). */
  currentPosition(): Promise<CdcPosition>;
  close(): Promise<void>;
}

/** One table for applySchema: the source's schema, where it goes, its column renames and drops. */
export interface SchemaApply {
  schema: TableSchema;
  target: TableRef;
  columns?: ColumnMap;
}

export interface TargetEngine {
  readonly kind: EngineKind;
  testConnection(): Promise<ConnectionTestResult>;
  serverInfo(): Promise<ServerInfo>;
  /** Target-side checks (database exists and is writable, privileges, non-empty tables...). */
  precheckTarget(scope: PrecheckScope, sourceTables: TableSchema[]): Promise<CheckResult[]>;
  /**
   * Create the tables (and their databases/schemas) on the target under the mapped names.
   * Idempotent: an existing identical table is left alone. With `deferSecondaryIndexes`, only
   * the primary key and unique keys are created now; `createSecondaryIndexes` adds the rest.
   * `deferPrimaryKey` (with `deferSecondaryIndexes`; engines that cannot defer it cheaply ignore
   * it): the primary key waits for `createSecondaryIndexes` too. Only for tables then loaded
   * with `copyChunkTo`, which keeps chunks idempotent without the key (writeRows needs the key).
   * `columns` (the table's renames and drops): the table gets the target column names everywhere
   * (keys, indexes, constraints, generated expressions); an index or constraint over a dropped
   * column is left out and logged.
   */
  applySchema(tables: SchemaApply[], opts: { deferSecondaryIndexes: boolean; deferPrimaryKey?: boolean }): Promise<void>;
  /** Add what applySchema deferred: the primary key (if deferred), the other indexes, then the foreign keys. */
  createSecondaryIndexes(tables: SchemaApply[]): Promise<void>;
  /** Upsert: writing the same page twice leaves the same rows. Returns rows written. */
  writeRows(table: TableRef, page: RowPage, opts: { keyColumns: string[] }): Promise<number>;
  truncate(table: TableRef): Promise<void>;
  countRows(table: TableRef, where?: string): Promise<number>;
  close(): Promise<void>;
}

// --- incremental sync (CDC) -------------------------------------------------------------

/** One row change, in source commit order. Values in the engine's driver representation. */
export interface RowChange {
  op: 'insert' | 'update' | 'delete';
  /** The source table. */
  table: TableRef;
  /** Column names, in the order of `before` / `after` values. */
  columns: string[];
  /** update/delete: the old row (full image with MySQL ROW+FULL / PG REPLICA IDENTITY FULL; else at least the key). */
  before?: unknown[];
  /** insert/update: the new row. */
  after?: unknown[];
  /**
   * PostgreSQL: columns of `after` whose value was not sent because it is an unchanged TOASTed
   * value. The applier must not write them (keep the target's value).
   */
  unchangedColumns?: string[];
}

/** A statement the source executed on a selected object (MySQL binlog QUERY events). */
export interface DdlChange {
  op: 'ddl';
  /** Default database the statement ran in. */
  db: string;
  statement: string;
  /** Tables the statement touches (parsed), when the reader could tell. */
  tables?: TableRef[];
}

export interface TruncateChange {
  op: 'truncate';
  tables: TableRef[];
}

/**
 * PostgreSQL relation message whose column list differs from the previous one for that table:
 * logical decoding carries no DDL, so this is the only sign of a schema change.
 */
export interface RelationChange {
  op: 'relation';
  table: TableRef;
  columns: { name: string; type: string }[];
}

export type Change = RowChange | DdlChange | TruncateChange | RelationChange;

/** One source transaction. `position` resumes right after it. */
export interface ChangeTransaction {
  position: CdcPosition;
  /** Source commit time, epoch ms (MySQL binlog: second resolution). */
  commitTime: number;
  /** When the reader received it (epoch ms): lag when caught up is now − receivedAt. */
  receivedAt: number;
  changes: Change[];
}

export interface ChangeStream {
  /**
   * Up to `maxTransactions` whole transactions in commit order, waiting up to `waitMs` when none
   * is ready; an empty array means caught up. Never splits a transaction.
   */
  next(opts: { maxTransactions: number; maxEvents: number; waitMs: number }): Promise<ChangeTransaction[]>;
  /** Everything up to `position` is committed on the target: the source may discard it (PG: flush LSN). */
  acknowledge(position: CdcPosition): Promise<void>;
  close(): Promise<void>;
}

export interface CdcSource {
  /**
   * Create what CDC needs on the source before the first row of the full load is read (PG:
   * publication + logical slot named from `name`; MySQL: nothing) and return the start position.
   * Idempotent for the same name (an existing slot is reused, its position returned).
   */
  prepareCdc(name: string, tables: TableRef[]): Promise<CdcPosition>;
  /** Stream changes of `tables` after `from`. Safe to call again with the same `from` (at-least-once). */
  openChangeStream(from: CdcPosition, tables: TableRef[]): Promise<ChangeStream>;
  /** Drop what prepareCdc created. Idempotent. */
  releaseCdc(position: CdcPosition): Promise<void>;
}

export interface CdcTarget {
  /**
   * Apply transactions, in order, in one target transaction: inserts and updates as upserts of
   * the after image (an update that changes the key deletes the old key), deletes by key,
   * truncates, and DDL (MySQL→MySQL) rewritten to the target names. Idempotent: applying the
   * same transactions again converges to the same rows. `route` maps a source table to its
   * target table (undefined: not selected, skip).
   */
  applyChanges(txs: ChangeTransaction[], route: (source: TableRef) => TableMapping | undefined, opts: { keyColumns: (source: TableRef) => string[]; conflictPolicy?: 'ignore' | 'overwrite' | 'stop' }): Promise<{ rows: number; ddl: number }>;
}

/** Retryable vs fatal, decided once per engine (classifyError in each engine's errors.ts). */
export class RetryableError extends Error {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = 'RetryableError';
  }
}

/** A database error that retrying will not fix (bad SQL, missing privilege, constraint...). */
export class FatalEngineError extends Error {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = 'FatalEngineError';
  }
}

// --- compare (verification) ---------------------------------------------------------------

/**
 * A column as the object compare sees it: the engine's type with display details that do not
 * change the data dropped (MySQL `int(11)` → `int`), nullability, default as an SQL expression.
 */
export interface ObjectColumn {
  name: string;
  type: string;
  /** Base type (`decimal`, `varchar`, `timestamp with time zone`), lower case: decides how values are normalised. */
  dataType: string;
  nullable: boolean;
  default?: string;
  /** MySQL: GENERATED columns are computed by the target itself. */
  generated?: boolean;
}

export interface ObjectIndex {
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
}

/** One table as read from the catalog, or `exists: false`. */
export interface ObjectTable {
  ref: TableRef;
  exists: boolean;
  columns: ObjectColumn[];
  primaryKey: string[];
  indexes: ObjectIndex[];
}

/** A database (MySQL), or a database and a schema in it (PostgreSQL), and whether it exists. */
export interface ObjectDatabase {
  db: string;
  schema?: string;
  exists: boolean;
}

export interface ObjectDescription {
  databases: ObjectDatabase[];
  tables: ObjectTable[];
}

/**
 * A part of one table to digest or read: a primary-key range (bounds as in Chunk: lower
 * exclusive, upper inclusive, JSON-safe driver values) and, for tables without a key, a prefix
 * of the row hash (hex) that selects a bucket of the whole-row multiset.
 */
export interface CompareRange {
  table: TableRef;
  keyColumns: string[];
  lower?: unknown[];
  upper?: unknown[];
  hashPrefix?: string;
}

/**
 * The row hash function. `md5`: the first 64 bits of MD5 over the normalised row as UTF-8 (every
 * engine). `pg64`: PostgreSQL's hashtextextended over the normalised row text (several times
 * faster; UTF-8 databases only). Both sides of a compare must use the same one.
 */
export type HashKind = 'md5' | 'pg64';

/** What is hashed: the columns (with their types on this side), the job's row filter, the hash function. */
export interface DigestSpec {
  columns: ObjectColumn[];
  /** Validated row filter (lib/engines/sql-filter.ts), applied on both sides. */
  where?: string;
  /** Default `md5`. */
  hash?: HashKind;
}

/**
 * An order-independent digest of a multiset of rows, computed inside the database: the row count
 * and the sum (exact, as a decimal string) of each row's 64-bit hash over its normalised values
 * (DigestSpec.hash). Equal rows give equal digests on every server of the same engine kind.
 */
export interface RangeDigest {
  rows: number;
  sum: string;
}

/** One row read for narrowing: the key (normalised text), the row hash and the normalised values. */
export interface DigestRow {
  /** Key values as normalised text (empty for keyless tables). */
  key: string[];
  /** Key values in the driver representation (JSON-safe), to look the row up again. */
  rawKey: unknown[];
  /** The row hash as hex (the digit buckets of keyless tables are cut on it). */
  hash: string;
  /** Normalised text per DigestSpec column, null for NULL. */
  values: (string | null)[];
}

/**
 * Everything a compare reads from one database. Every method reads the database itself (DESIGN §5
 * rule 5: never the copy path's bookkeeping), binds values as parameters and quotes identifiers
 * with the engine's own quoting. Read-only and idempotent.
 */
export interface Comparer {
  /** Databases (MySQL) or schemas (PostgreSQL `db.schema`) and tables; missing ones come back with `exists: false`. */
  describeObjects(databases: { db: string; schema?: string }[], tables: TableRef[]): Promise<ObjectDescription>;
  /** The hash functions this side can compute for a table, best first (the compare picks one both sides have). */
  hashKinds(table: TableRef): Promise<HashKind[]>;
  countRows(table: TableRef, where?: string): Promise<number>;
  /** Digest of the rows of a range. */
  digestRange(range: CompareRange, spec: DigestSpec): Promise<RangeDigest>;
  /**
   * Digests of the sub-ranges of `range`: split at `boundaries` (keys, ascending; sub-range i is
   * (boundaries[i-1], boundaries[i]], the last one runs to range.upper), or for keyless tables by
   * the next hex digit of the row hash after range.hashPrefix. Keys are bucket numbers ("0", "1"…)
   * or hex digits; empty buckets are absent.
   */
  digestBuckets(range: CompareRange, spec: DigestSpec, split: { boundaries: unknown[][] } | { hashDigit: true }): Promise<Map<string, RangeDigest>>;
  /** The key of every `every`-th row of `range` in key order (ascending, JSON-safe driver values): cut points for digestBuckets. */
  splitPoints(range: CompareRange, spec: DigestSpec, every: number): Promise<unknown[][]>;
  /** The rows of a range in key order (at most `limit`). */
  readRange(range: CompareRange, spec: DigestSpec, limit: number): Promise<DigestRow[]>;
  /** The rows with these keys (driver values, as DigestRow.rawKey), for re-checking. */
  readKeys(table: TableRef, keyColumns: string[], keys: unknown[][], spec: DigestSpec): Promise<DigestRow[]>;
  close(): Promise<void>;
}

// --- views, routines, triggers, events and accounts (objects.ts, users.ts) --------------------

/**
 * Schema objects besides tables. MySQL: views, procedures, functions, triggers, events.
 * PostgreSQL: views, functions, procedures, triggers (events do not exist).
 */
export type DbObjectKind = 'view' | 'procedure' | 'function' | 'trigger' | 'event';

/** A database (MySQL) or a database and a schema in it (PostgreSQL). */
export interface ObjectContainer {
  db: string;
  schema?: string;
}

/** What to read: every object of the wholly selected containers, and the triggers of the selected tables. */
export interface ObjectScope {
  containers: ObjectContainer[];
  tables: TableRef[];
  kinds: DbObjectKind[];
}

/** One object as the source defines it. Carries no credentials. */
export interface DbObjectDef {
  kind: DbObjectKind;
  db: string;
  schema?: string;
  name: string;
  /** PostgreSQL functions and procedures: the identity argument list (overloads differ by it). */
  signature?: string;
  /** Triggers: their table. */
  table?: TableRef;
  /** MySQL `user@host` of the DEFINER clause; PostgreSQL the owner role. */
  definer?: string;
  /** The source's own DDL; undefined when the source user cannot read it (`unreadable` says why). */
  ddl?: string;
  unreadable?: string;
  /** Engine-private details needed to recreate it (sql_mode, time zone, reloptions...). */
  native?: Record<string, unknown>;
}

/** How the selection maps names: body references to renamed databases/schemas are rewritten with it. */
export interface ObjectPlacement {
  /** Every selected container and its target name; `whole` when all of it is selected (its views and routines are migrated). */
  renames: { from: ObjectContainer; to: ObjectContainer; whole: boolean }[];
  /** Where a selected table goes; undefined when it is not selected. */
  table(ref: TableRef): TableRef | undefined;
  /** True: objects get the target's migration user as definer/owner; false: the source's definer/owner is kept. */
  replaceDefiner: boolean;
}

export interface ObjectResult {
  kind: DbObjectKind;
  source: { db: string; schema?: string; name: string; signature?: string };
  target: { db: string; schema?: string; name: string };
  /** `existing`: an object of that name was already on the target and was left alone. */
  status: 'done' | 'existing' | 'failed';
  message?: string;
}

export interface ObjectSource {
  readObjects(scope: ObjectScope): Promise<DbObjectDef[]>;
}

export interface ObjectTarget {
  /**
   * Create the objects under their target names, in dependency order, each on its own: one
   * failure is reported in its result and does not stop the others. Idempotent: an object that
   * already exists is left alone (`existing`). Throws only what a retry can fix.
   */
  createObjects(defs: DbObjectDef[], placement: ObjectPlacement): Promise<ObjectResult[]>;
  /** Which of these accounts (MySQL `user@host`, PostgreSQL role names) exist on this server. */
  accountsExist(ids: string[]): Promise<string[]>;
}

/** A database account or role as listed for the user (get-src-user). Never carries a credential. */
export interface SourceAccount {
  /** MySQL `user@host`; PostgreSQL the role name. */
  id: string;
  name: string;
  host?: string;
  isRole: boolean;
  canLogin: boolean;
  /** False for system accounts and what cannot be recreated; `reason` says why. */
  transferable: boolean;
  reason?: string;
  /** GRANT statements (MySQL) or attributes and memberships (PostgreSQL), credentials removed. */
  privileges: string[];
  /** Roles granted to it. */
  roles: string[];
  /** The source user can read this account's password hash, so it can be carried over unchanged. */
  hashReadable: boolean;
}

/**
 * An account read for migration. `native` holds what recreates it, including the password hash:
 * it lives in memory for one step and is never stored, logged or returned.
 */
export interface AccountDef {
  id: string;
  name: string;
  host?: string;
  isRole: boolean;
  canLogin: boolean;
  native: Record<string, unknown>;
}

export interface AccountResult {
  id: string;
  isRole: boolean;
  status: 'done' | 'existing' | 'failed';
  message?: string;
  /** Privileges that were not recreated (on objects that are not migrated). */
  skipped?: string[];
  /** Parent roles the account could not be made a member of (they are not on the target). */
  missingParents?: string[];
}

export interface AccountSource {
  listAccounts(): Promise<SourceAccount[]>;
  /** The accounts with what recreates them; ids not found are absent. `scope` limits the object privileges read. */
  readAccounts(ids: string[], scope: ObjectScope): Promise<AccountDef[]>;
}

export interface AccountTarget {
  /**
   * Create the accounts (roles first): same authentication (password hash) as the source unless
   * `passwords` gives a new one. An existing account is left alone (`existing`).
   */
  createAccounts(defs: AccountDef[], opts: { passwords: Map<string, string> }): Promise<AccountResult[]>;
  /** Grant the created accounts their memberships and privileges, rewritten to the target names. */
  grantAccounts(defs: AccountDef[], placement: ObjectPlacement): Promise<AccountResult[]>;
}

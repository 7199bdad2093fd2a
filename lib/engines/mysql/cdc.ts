/**
 * MySQL/MariaDB incremental sync: read the binlog (zongji) as whole source transactions, and
 * apply transactions to a MySQL target idempotently.
 *
 * Reading. One zongji replication connection per stream, with a random server id in a high range
 * (two replicas with one id kick each other off). It starts at the GTID set when the position has
 * one, else at file/pos. Events are grouped into transactions: a GTID event (or BEGIN) opens one,
 * XID or a COMMIT/ROLLBACK query closes it, and a DDL query is a transaction of its own. Only
 * whole transactions are handed out; the position of a transaction is the binlog position right
 * after its commit event (plus the GTID set including it, when the start position had one), so
 * resuming there never replays half a transaction and never skips one. Transactions with nothing
 * selected still advance the position (consecutive ones are merged into one empty transaction).
 *
 * Values are converted to exactly what the full load's mysql2 reader returns for the same row
 * (connection.ts: dateStrings, bigNumberStrings, jsonStrings, UTC session), so the applier writes
 * the same values the full load wrote. The differences from zongji's own decoding are in
 * `fromBinlogValue`; GEOMETRY is read as the raw internal SRID+WKB bytes (the full load's form)
 * by decoding those columns as BLOBs.
 *
 * zongji pitfalls handled here: stop() is never called inside a 'binlog' handler (setImmediate),
 * 'error' is always attached and ends the stream with a classified error, events after close are
 * ignored, and completed transactions are buffered up to a cap, above which the replication
 * connection is paused until `next()` drains the buffer (one transaction is always held whole, so
 * a single huge transaction can exceed the cap). A paused stream that is not drained for longer
 * than the server's net_write_timeout is dropped by the server; next() then throws a
 * RetryableError and the caller reopens from its checkpoint.
 *
 * Without binlog_row_metadata=FULL (MySQL 8.0+, MariaDB 10.5+), zongji decodes rows with the
 * table's columns as INFORMATION_SCHEMA shows them *now*: rows written before a DROP COLUMN,
 * RENAME TABLE or DROP TABLE that has already happened cannot be decoded, and the stream fails
 * with a FatalEngineError that says so (never with misattributed values, except after a column
 * reorder, which FULL metadata avoids too).
 *
 * Applying. One target transaction per call, in a lenient sql_mode as a replica would (values the
 * source accepted are not re-judged by the target's strict mode); inserts and updates are upserts of the full after
 * image (multi-row `INSERT ... ON DUPLICATE KEY UPDATE` for runs of the same table), an update
 * that changes the key deletes the old key first, deletes delete by key (a keyless table: one row
 * equal in every column, `<=>`, LIMIT 1). DDL commits the DML before it (MySQL commits implicitly
 * anyway), runs rewritten to the target names (ddl.ts), and a new transaction starts after it.
 * Replaying DDL that already ran (a crash between the target commit and the checkpoint) is
 * recognised by its error code (duplicate column, unknown table...) and skipped with a warning.
 * The statements are built in source order, with values escaped by mysql2 exactly as it escapes
 * query values, and sent several per query (about 1 MB, START TRANSACTION and COMMIT included)
 * on the client's multi-statement connection: one round trip per batch instead of one per
 * statement. Anything that needs an answer (a row filter's evaluation, DDL) sends what is queued first.
 */
import ZongJi, { GtidSet, MariadbGtidPosition, type AnyBinlogEvent, type MariadbGtidEvent, type QueryEvent, type TableMapEntry } from '@vlasky/zongji';
import { randomInt } from 'node:crypto';
import type { Connection as Conn } from 'mysql2';
import { logger } from '../../logger.js';
import { isEmptyMap, projectColumns, sourceColumn, targetKeys } from '../column-map.js';
import type { CdcPosition, Change, ChangeStream, ChangeTransaction, ColumnMap, DdlChange, RowChange, TableMapping, TableRef, TruncateChange } from '../engine.js';
import { FatalEngineError, RetryableError } from '../engine.js';
import { takeTransactions, WakeSignal } from '../change-buffer.js';
import { validateRowFilter } from '../sql-filter.js';
import { currentPosition, qid, qtable, toDriverValue, versionParts, type MySqlClient } from './connection.js';
import { DdlSyntaxError, ddlTables, parseDdl, quoteStatement, rewriteDdl, type NameSpan, type ParsedDdl } from './ddl.js';
import { classifyMySqlError } from './errors.js';
import { sizeOf } from './rows.js';
import { isGenerated } from './schema.js';

// --- positions ---------------------------------------------------------------------------

/** MySQL needs nothing created on the source: the start position is the binlog position now. */
export async function prepareCdc(client: MySqlClient): Promise<CdcPosition> {
  return currentPosition(client);
}

/** Nothing to release on MySQL (the binlog is the server's; retention is its expire setting). */
export async function releaseCdc(): Promise<void> {}

// --- values ------------------------------------------------------------------------------

/** Binlog column type codes (mysql's enum_field_types) that need converting. */
export const BinlogType = { LONGLONG: 8, YEAR: 13, JSON: 245, ENUM: 247, BLOB: 252, GEOMETRY: 255 } as const;

/**
 * A zongji value as the full load's mysql2 reader returns it:
 * - BIGINT (signed or unsigned): always a string (zongji: a number when it fits 2^53);
 * - YEAR 0000: 0 (zongji adds 1900 to the stored byte, giving 1900, which YEAR cannot hold);
 * - ENUM stored as the empty-string error value (index 0): '' (zongji: undefined);
 * - JSON: the text (zongji is given jsonStrings; kept as is);
 * everything else is already identical: DECIMAL as string, DATE/DATETIME/TIMESTAMP/TIME as
 * strings with the column's fractional digits (TIMESTAMP in UTC), FLOAT as the exact single
 * precision value (the full load reads `col + 0`), BIT/BINARY/VARBINARY/BLOB/GEOMETRY as Buffers,
 * SET as 'a,b', text decoded from its charset, MariaDB UUID/INET as strings.
 */
export function fromBinlogValue(type: number, value: unknown): unknown {
  if (value === null) return null;
  switch (type) {
    case BinlogType.LONGLONG:
      return typeof value === 'number' || typeof value === 'bigint' ? String(value) : value;
    case BinlogType.YEAR:
      return value === 1900 ? 0 : value;
    case BinlogType.ENUM:
      return value === undefined ? '' : value;
    default:
      return value === undefined ? null : value;
  }
}

interface ColumnInfo {
  name: string;
  type: number;
}

/**
 * Make zongji read GEOMETRY columns as BLOBs: the raw bytes are MySQL's internal value (4-byte
 * SRID + WKB), which is what the full load reads and what an INSERT takes back. Both types carry
 * the same length-prefix metadata.
 */
function patchGeometry(entry: TableMapEntry | undefined): void {
  for (const c of (entry?.columns ?? []) as ColumnInfo[]) if (c.type === BinlogType.GEOMETRY) c.type = BinlogType.BLOB;
}

// --- reading -----------------------------------------------------------------------------

const tableKey = (db: string, table: string) => JSON.stringify([db, table]);

export interface MySqlStreamOptions {
  /** Row changes buffered in completed transactions before the connection is paused. Default 50,000. */
  maxBufferedEvents?: number;
  /** Bound for connecting and starting the dump. Default: the endpoint's connect timeout, else 10 s. */
  startTimeoutMs?: number;
}

interface OpenTx {
  gtid?: string;
  mariadb?: { domainId: number; serverId: number; seqNo: number | string };
  changes: Change[];
  events: number;
}

/** Random replica server id, 0x40000000..0x7ffffffe: far from the small ids people give servers. */
export function randomServerId(): number {
  return randomInt(0x40000000, 0x7fffffff);
}

const TX_END = /^(COMMIT|ROLLBACK)\s*$/i;

class BinlogChangeStream implements ChangeStream {
  private readonly z: ZongJi;
  private readonly selected = new Set<string>();
  private readonly dbs = new Set<string>();
  private readonly ready: ChangeTransaction[] = [];
  private bufferedEvents = 0;
  private open?: OpenTx;
  private error?: Error;
  private closed = false;
  private paused = false;
  private readonly signal = new WakeSignal();
  private gtidState?: GtidSet | MariadbGtidPosition;
  private readonly high: number;
  readonly serverId = randomServerId();

  constructor(
    private readonly client: MySqlClient,
    private readonly from: Extract<CdcPosition, { kind: 'mysql' }>,
    tables: TableRef[],
    opts: MySqlStreamOptions,
  ) {
    this.high = opts.maxBufferedEvents ?? 50_000;
    for (const t of tables) {
      this.selected.add(tableKey(t.db, t.table));
      this.dbs.add(t.db);
    }
    const cfg = client.cfg;
    this.z = new ZongJi({
      host: cfg.host,
      port: cfg.port,
      user: cfg.user,
      password: cfg.password,
      ...(cfg.ssl?.enabled ? { ssl: { ...(cfg.ssl.ca ? { ca: cfg.ssl.ca } : {}), rejectUnauthorized: cfg.ssl.verify ?? cfg.ssl.ca !== undefined } } : {}),
      connectTimeout: cfg.connectTimeoutMs ?? 10_000,
      charset: 'utf8mb4',
      dateStrings: true,
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: true,
      jsonStrings: true,
    });
    this.z.on('error', (e: Error) => this.fail(e));
    this.z.on('binlog', (evt: AnyBinlogEvent) => {
      if (this.closed || this.error) return;
      try {
        this.onEvent(evt);
      } catch (e) {
        this.fail(e);
      }
    });
  }

  private filters() {
    const includeSchema: Record<string, string[]> = {};
    for (const k of this.selected) {
      const [db, table] = JSON.parse(k) as [string, string];
      (includeSchema[db] ??= []).push(table);
    }
    return {
      includeEvents: ['rotate', 'mariadbgtid', 'gtid', 'anonymousgtid', 'query', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'xaprepare'],
      includeSchema,
    };
  }

  async start(timeoutMs: number): Promise<void> {
    const from = this.from;
    if (from.gtid !== undefined && from.gtid !== '') {
      this.gtidState = from.gtid.includes(':') ? GtidSet.parse(from.gtid) : MariadbGtidPosition.parse(from.gtid);
    }
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new RetryableError(`The binlog stream from ${this.client.cfg.host}:${this.client.cfg.port} did not start within ${timeoutMs} ms.`)), timeoutMs);
      this.z.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
      this.waitError = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
    this.z.start({
      serverId: this.serverId,
      ...(this.gtidState ? { gtidSet: from.gtid } : { filename: from.file, position: from.pos }),
      ...this.filters(),
    });
    try {
      await started;
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      this.waitError = undefined;
    }
  }

  private waitError?: (e: Error) => void;

  private fail(e: unknown): void {
    if (this.error || this.closed) return;
    this.error = classifyStreamError(e, this.client.cfg.password);
    logger.warn('binlog stream failed', { error: this.error, serverId: this.serverId });
    this.waitError?.(this.error);
    setImmediate(() => this.z.stop());
    this.signal.wake();
  }

  private onEvent(evt: AnyBinlogEvent): void {
    switch (evt.getEventName()) {
      case 'mariadbgtid': {
        const g = evt as MariadbGtidEvent;
        this.begin({ gtid: g.gtid, mariadb: { domainId: g.domainId, serverId: g.serverId, seqNo: g.seqNo }, changes: [], events: 0 });
        return;
      }
      case 'gtid':
        this.begin({ gtid: (evt as { gtid: string }).gtid, changes: [], events: 0 });
        return;
      case 'anonymousgtid':
        this.begin({ changes: [], events: 0 });
        return;
      case 'tablemap':
        patchGeometry(this.z.tableMap[(evt as { tableId: number }).tableId]);
        return;
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        this.onRows(evt as unknown as RowsEvent);
        return;
      case 'xid':
        this.commit(evt);
        return;
      case 'query':
        this.onQuery(evt as QueryEvent);
        return;
      case 'xaprepare':
        throw new FatalEngineError('The source binlog contains an XA transaction (XA PREPARE); incremental sync does not support XA transactions.');
      default:
        return;
    }
  }

  private begin(tx: OpenTx): void {
    if (this.open && this.open.changes.length > 0) {
      throw new FatalEngineError(`A binlog event group ended without a commit event before ${tx.gtid ?? 'the next transaction'}; the binlog is not in the expected ROW format.`);
    }
    this.open = tx;
  }

  private onRows(evt: RowsEvent): void {
    const entry = evt.tableMap[evt.tableId];
    if (!entry) return;
    const open = (this.open ??= { changes: [], events: 0 });
    if (!this.selected.has(tableKey(entry.parentSchema, entry.tableName))) return;
    const cols = (entry.columns ?? []) as ColumnInfo[];
    const names = cols.map((c) => c.name);
    const table = { db: entry.parentSchema, table: entry.tableName };
    const image = (row: Record<string, unknown>) => cols.map((c) => fromBinlogValue(c.type, row[c.name]));
    const name = evt.getEventName();
    for (const row of evt.rows) {
      let change: RowChange;
      if (name === 'updaterows') {
        const r = row as { before: Record<string, unknown>; after: Record<string, unknown> };
        change = { op: 'update', table, columns: names, before: image(r.before), after: image(r.after) };
      } else if (name === 'writerows') {
        change = { op: 'insert', table, columns: names, after: image(row as Record<string, unknown>) };
      } else {
        change = { op: 'delete', table, columns: names, before: image(row as Record<string, unknown>) };
      }
      open.changes.push(change);
      open.events++;
    }
  }

  private onQuery(evt: QueryEvent): void {
    const sql = evt.query.trim();
    if (/^BEGIN\s*$/i.test(sql)) {
      this.open ??= { changes: [], events: 0 };
      return;
    }
    if (TX_END.test(sql)) {
      // ROLLBACK in the binlog: a transaction with non-transactional changes, which did happen.
      this.commit(evt);
      return;
    }
    if (/^XA\s/i.test(sql)) throw new FatalEngineError('The source binlog contains an XA transaction; incremental sync does not support XA transactions.');
    if (/^SAVEPOINT\s|^ROLLBACK\s+TO\s/i.test(sql)) return;
    const change = this.ddlChange(evt);
    const open = (this.open ??= { changes: [], events: 0 });
    if (change) {
      open.changes.push(change);
      open.events++;
    }
    // A DDL statement is an event group of its own (and commits implicitly).
    this.commit(evt);
  }

  /** The DdlChange for a statement on a selected database, or undefined when it is none of ours. */
  private ddlChange(evt: QueryEvent): DdlChange | undefined {
    const db = evt.schema ?? '';
    let parsed: ParsedDdl | undefined;
    try {
      parsed = parseDdl(evt.query, db);
    } catch (e) {
      if (!(e instanceof DdlSyntaxError)) throw e;
    }
    if (!parsed) return this.dbs.has(db) ? { op: 'ddl', db, statement: evt.query } : undefined;
    if (parsed.kind === 'tx' || parsed.kind === 'ignore' || parsed.temporary) return undefined;
    const tables = ddlTables(parsed);
    const touches = this.dbs.has(db) || tables.some((t) => this.dbs.has(t.db)) || (parsed.database !== undefined && this.dbs.has(parsed.database));
    if (!touches) return undefined;
    this.followRenames(parsed);
    return { op: 'ddl', db, statement: evt.query, ...(tables.length ? { tables } : {}) };
  }

  /** A selected table renamed stays selected under its new name. */
  private followRenames(parsed: ParsedDdl): void {
    let changed = false;
    let subject: NameSpan | undefined;
    for (const n of parsed.names) {
      if (n.role === 'subject') subject = n;
      if (n.role === 'new_name' && subject && this.selected.has(tableKey(subject.ref.db, subject.ref.table))) {
        this.selected.add(tableKey(n.ref.db, n.ref.table));
        this.dbs.add(n.ref.db);
        changed = true;
      }
    }
    if (changed) this.z.start(this.filters());
  }

  private commit(evt: AnyBinlogEvent): void {
    const tx = this.open ?? { changes: [], events: 0 };
    this.open = undefined;
    if (tx.gtid && this.gtidState) {
      if (this.gtidState instanceof MariadbGtidPosition) {
        if (tx.mariadb) this.gtidState.add(tx.mariadb);
      } else {
        this.gtidState.add(tx.gtid);
      }
    }
    const pos = evt.nextPosition > 0 ? evt.nextPosition : Number(this.z.options.position ?? 0);
    const position: CdcPosition = {
      kind: 'mysql',
      file: String(this.z.options.filename ?? this.from.file),
      pos,
      ...(this.gtidState ? { gtid: this.gtidState.toString() } : {}),
      ...(this.from.serverId !== undefined ? { serverId: this.from.serverId } : {}),
    };
    const done: ChangeTransaction = { position, commitTime: evt.timestamp, receivedAt: Date.now(), changes: tx.changes };
    const last = this.ready[this.ready.length - 1];
    if (done.changes.length === 0 && last && last.changes.length === 0) this.ready[this.ready.length - 1] = done;
    else this.ready.push(done);
    this.bufferedEvents += tx.events;
    if (this.bufferedEvents >= this.high) {
      // Again on every commit while over the cap: zongji resumes the connection itself after a metadata lookup.
      this.paused = true;
      this.z.connection?.pause();
    }
    this.signal.wake();
  }

  async next(opts: { maxTransactions: number; maxEvents: number; waitMs: number }): Promise<ChangeTransaction[]> {
    if (this.ready.length === 0 && !this.error && !this.closed && opts.waitMs > 0) {
      await this.signal.wait(opts.waitMs);
    }
    if (this.ready.length === 0) {
      if (this.error) throw this.error;
      return [];
    }
    const { batch: out, events } = takeTransactions(this.ready, opts);
    this.bufferedEvents = Math.max(0, this.bufferedEvents - events);
    if (this.paused && this.bufferedEvents < this.high / 2) {
      this.paused = false;
      this.z.connection?.resume();
    }
    return out;
  }

  /** The binlog keeps no consumer state: nothing to acknowledge on MySQL. */
  async acknowledge(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal.wake();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      this.z.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
      setImmediate(() => this.z.stop());
    });
  }
}

interface RowsEvent {
  getEventName(): string;
  tableId: number;
  tableMap: Record<number, TableMapEntry>;
  rows: (Record<string, unknown> | { before: Record<string, unknown>; after: Record<string, unknown> })[];
}

/** Driver errors through the engine's classifier; zongji's own (decoding, metadata) are fatal, with advice. */
function classifyStreamError(e: unknown, password: string): Error {
  const c = classifyMySqlError(e, password);
  if (c instanceof RetryableError || c instanceof FatalEngineError) return c;
  const msg = e instanceof Error ? e.message : String(e);
  if (/schema changed|Insufficient permissions to access|Control connection unavailable/.test(msg)) {
    return new FatalEngineError(
      `The binlog has rows for a table whose definition has changed since (${msg}). Set binlog_row_metadata=FULL on the source (MySQL 8.0+, MariaDB 10.5+) so rows carry their own column names, then restart incremental sync.`,
      { cause: e },
    );
  }
  return new FatalEngineError(`Reading the binlog failed: ${msg}`, { cause: e });
}

/**
 * Stream the changes of `tables` after `from` (file/pos, or the GTID set when it has one). The
 * stream is started (connected, dump requested) when this resolves.
 */
export async function openChangeStream(client: MySqlClient, from: CdcPosition, tables: TableRef[], opts: MySqlStreamOptions = {}): Promise<ChangeStream> {
  if (from.kind !== 'mysql') throw new FatalEngineError(`A ${from.kind} position cannot start a MySQL binlog stream.`);
  const stream = new BinlogChangeStream(client, from, tables, opts);
  await stream.start(opts.startTimeoutMs ?? client.cfg.connectTimeoutMs ?? 10_000);
  return stream;
}

// --- applying ----------------------------------------------------------------------------

export interface ApplyOptions {
  keyColumns: (source: TableRef) => string[];
  conflictPolicy?: 'ignore' | 'overwrite' | 'stop';
}

/**
 * What an applier remembers across calls within one engine instance: tables renamed by DDL it
 * applied (the new source name routes to the renamed target), and target table facts it read.
 */
export class MySqlApplyState {
  readonly renamed = new Map<string, TableMapping>();
  readonly targets = new Map<string, Promise<TargetFacts>>();
}

interface TargetFacts {
  primaryKey: string[];
  /** Generated columns: the target computes them, an INSERT may not set them. */
  generated: Set<string>;
}

/** Upper bounds for one multi-row statement. */
const BATCH_ROWS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Statements sent together in one query (one round trip), up to this many bytes (a larger statement goes alone). */
const SEND_BYTES = 1024 * 1024;

/** Batch connections whose session runs in the applier's lenient sql_mode. */
const lenient = new WeakSet<Conn>();

function run(conn: Conn, sql: string, values: unknown[] = []): Promise<{ affectedRows: number } & Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    conn.query({ sql, values }, (err, res) => (err ? reject(err) : resolve(res as unknown as { affectedRows: number })));
  });
}

/** A statement waiting to be sent, with what a failure of it means. */
interface Queued {
  sql: string;
  /** An insert under conflict policy "stop": a duplicate key is the user's conflict, not a retryable error. */
  strictInsert?: TableRef;
}

/**
 * Send statements as one multi-statement query: the server runs them in order and stops at the
 * first error. A duplicate key on an insert under conflict policy "stop" is the user's conflict
 * (fatal, naming the table); other errors keep only the failing statement's start as their SQL.
 */
function runAll(conn: Conn, statements: Queued[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const q = conn.query(statements.map((s) => s.sql).join(';\n'), (err) => {
      if (!err) return resolve();
      const failed = statements[done];
      Object.assign(err, { sql: failed?.sql.slice(0, 2000) ?? '' });
      if (failed?.strictInsert && err.errno === 1062) {
        reject(new FatalEngineError(`An insert into ${qtable(failed.strictInsert)} hit an existing key (conflict policy "stop"): ${err.message}`, { cause: err }));
      } else reject(err);
    });
    // one result per statement that ran
    q.on('result', () => done++);
  });
}

interface Batch {
  kind: 'upsert' | 'insert_ignore' | 'insert' | 'delete';
  target: TableRef;
  columns: string[];
  keys: string[];
  rows: unknown[][];
  bytes: number;
}

/** DDL kinds whose replay errors (already applied) are recognised, with the MySQL error numbers. */
const REPLAYED_DDL: Record<string, number[]> = {
  create_table: [1050],
  alter_table: [1060, 1061, 1091, 1146, 1826],
  truncate: [1146],
  create_index: [1061, 1146],
  drop_index: [1091, 1146],
};

class MySqlApplier {
  private conn!: Conn;
  private batch?: Batch;
  /** Statements built but not yet sent (in order), and their size. */
  private queued: Queued[] = [];
  private queuedBytes = 0;
  private sendBytes = SEND_BYTES;
  private rows = 0;
  private ddl = 0;
  private rowAlias = false;
  private readonly policy: 'ignore' | 'overwrite' | 'stop';
  private readonly matchers = new Map<string, string>();

  constructor(
    private readonly client: MySqlClient,
    private readonly route: (source: TableRef) => TableMapping | undefined,
    private readonly opts: ApplyOptions,
    private readonly state: MySqlApplyState,
  ) {
    this.policy = opts.conflictPolicy ?? 'overwrite';
  }

  /**
   * The batch's statements are built in source order and sent together, several per round trip
   * (SEND_BYTES), on the client's multi-statement connection; they are sent before anything that
   * needs an answer (a row filter's evaluation, DDL) and at the end, followed by the COMMIT.
   */
  async apply(txs: ChangeTransaction[]): Promise<{ rows: number; ddl: number }> {
    const info = await this.client.serverInfo();
    const [major, minor] = versionParts(info.version);
    const patch = Number(/^\d+\.\d+\.(\d+)/.exec(info.version)?.[1] ?? 0);
    // MySQL 8.0.20 deprecates VALUES() in ON DUPLICATE KEY UPDATE for a row alias (8.0.19+); MariaDB has only VALUES().
    this.rowAlias = info.flavor === 'mysql' && (major > 8 || (major === 8 && (minor > 0 || patch >= 19)));
    const maxPacket = Number(info.variables.max_allowed_packet ?? 0);
    if (maxPacket > 0) this.sendBytes = Math.min(SEND_BYTES, maxPacket / 2);
    return this.client.withBatchConnection(async (conn, discard) => {
      this.conn = conn;
      try {
        // Like a replica applying row events: values the source accepted are written as they are,
        // not re-judged by the target's strict mode (an ENUM '' or a zero date written under a
        // lenient source sql_mode). The connection is the applier's own, so the mode stays set.
        if (!lenient.has(conn)) {
          await run(conn, "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
          lenient.add(conn);
        }
        this.enqueue({ sql: 'START TRANSACTION' });
        for (const tx of txs) for (const change of tx.changes) await this.change(change);
        await this.commit();
        return { rows: this.rows, ddl: this.ddl };
      } catch (e) {
        this.queued = [];
        await run(conn, 'ROLLBACK').catch(() => discard());
        throw this.client.classify(e);
      }
    });
  }

  /** Queue a statement (values escaped as mysql2 escapes query values); a full queue is sent first. */
  private async queue(sql: string, values: unknown[], strictInsert?: TableRef): Promise<void> {
    const text = this.conn.format(sql, values);
    const bytes = Buffer.byteLength(text);
    if (this.queued.length && this.queuedBytes + bytes > this.sendBytes) await this.send();
    this.enqueue({ sql: text, ...(strictInsert ? { strictInsert } : {}) }, bytes);
  }

  private enqueue(q: Queued, bytes = q.sql.length): void {
    this.queued.push(q);
    this.queuedBytes += bytes;
  }

  /** Send the DML so far with a COMMIT (nothing when no statement followed the last START TRANSACTION). */
  private async commit(): Promise<void> {
    await this.flush();
    if (this.queued[this.queued.length - 1]?.sql === 'START TRANSACTION') this.queued.pop();
    else this.enqueue({ sql: 'COMMIT' });
    await this.send();
  }

  /** Send every queued statement (one round trip), in order. */
  private async send(): Promise<void> {
    const statements = this.queued;
    if (!statements.length) return;
    this.queued = [];
    this.queuedBytes = 0;
    await runAll(this.conn, statements);
  }

  private mapping(source: TableRef): TableMapping | undefined {
    return this.route(source) ?? this.state.renamed.get(tableKey(source.db, source.table));
  }

  private facts(target: TableRef): Promise<TargetFacts> {
    const k = tableKey(target.db, target.table);
    let facts = this.state.targets.get(k);
    if (!facts) {
      facts = this.client
        .rows<{ c: string; extra: string; pk: number | string }>(
          "SELECT column_name AS c, extra AS extra, (column_key = 'PRI') AS pk FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
          [target.db, target.table],
        )
        .then(async (cols) => {
          const pk = cols.some((c) => Number(c.pk) === 1)
            ? (
                await this.client.rows<{ c: string }>(
                  "SELECT column_name AS c FROM information_schema.key_column_usage WHERE table_schema = ? AND table_name = ? AND constraint_name = 'PRIMARY' ORDER BY ordinal_position",
                  [target.db, target.table],
                )
              ).map((r) => r.c)
            : [];
          return { primaryKey: pk, generated: new Set(cols.filter((c) => isGenerated(c.extra ?? '')).map((c) => c.c)) };
        });
      facts.catch(() => this.state.targets.delete(k));
      this.state.targets.set(k, facts);
    }
    return facts;
  }

  private forgetFacts(target: TableRef): void {
    this.state.targets.delete(tableKey(target.db, target.table));
  }

  /** The caller's key, else (a table created or renamed by DDL during the stream) the target's primary key; source names. */
  private async keysOf(source: TableRef, facts: TargetFacts, map: ColumnMap | undefined): Promise<string[]> {
    const given = this.opts.keyColumns(source);
    return given.length ? given : facts.primaryKey.map((k) => sourceColumn(map, k));
  }

  private async change(change: Change): Promise<void> {
    switch (change.op) {
      case 'insert':
      case 'update':
      case 'delete':
        if (await this.rowChange(change)) this.rows++;
        return;
      case 'ddl':
        return this.ddlChange(change);
      case 'truncate':
        return this.truncate(change);
      case 'relation':
        return; // PostgreSQL only
    }
  }

  // ---- rows

  private async matches(m: TableMapping, columns: string[], values: unknown[] | undefined): Promise<boolean> {
    if (!m.where || !values) return true;
    let sql = this.matchers.get(m.where);
    if (!sql) {
      sql = validateRowFilter(m.where, 'mysql');
      this.matchers.set(m.where, sql);
    }
    await this.flush();
    await this.send();
    const derived = columns.map((c) => `? AS ${qid(c)}`).join(', ');
    const r = (await run(this.conn, `SELECT (${sql}) AS m FROM (SELECT ${derived}) AS _drs_row`, values.map(toDriverValue))) as unknown as { m: unknown }[];
    return Number(r[0]?.m ?? 0) === 1;
  }

  /** Apply one row change; false when it is not part of the job (unrouted, or outside the row filter). */
  private async rowChange(change: RowChange): Promise<boolean> {
    const m = this.mapping(change.table);
    if (!m) return false;
    const target = m.target;
    const facts = await this.facts(target);
    const sourceKeys = await this.keysOf(change.table, facts, m.columns);
    for (const k of sourceKeys) if (!change.columns.includes(k)) throw new FatalEngineError(`The key column ${k} of ${qtable(change.table)} is not in the binlog row; cannot apply changes to ${qtable(target)}.`);
    // Columns to write: the change's columns the mapping keeps, under their target names, without generated ones.
    const kept = projectColumns(m.columns, change.columns);
    const at = kept.target.flatMap((c, j) => (facts.generated.has(c) ? [] : [j]));
    const idx = at.map((j) => kept.index[j]!);
    const columns = at.map((j) => kept.target[j]!);
    const keys = targetKeys(m.columns, sourceKeys);
    for (const k of keys) if (!columns.includes(k)) throw new FatalEngineError(`The key column ${k} of ${qtable(target)} is a generated column; cannot apply changes to it.`);
    const project = (img: unknown[] | undefined) => (img ? idx.map((i) => toDriverValue(img[i])) : undefined);
    const before = project(change.before);
    const after = project(change.after);
    const keyOf = (img: unknown[]) => keys.map((k) => img[columns.indexOf(k)]);

    if (change.op === 'insert') {
      if (!(await this.matches(m, change.columns, change.after))) return false;
      const kind = keys.length === 0 ? 'insert' : this.policy === 'overwrite' ? 'upsert' : this.policy === 'ignore' ? 'insert_ignore' : 'insert';
      await this.add(kind, target, columns, keys, after!);
      return true;
    }
    // With a row filter, the target holds only rows inside it: deleting a key it does not hold is
    // harmless, so deletes and rows moving out need no evaluation of the old row.
    if (change.op === 'delete') {
      if (keys.length === 0) {
        if (!(await this.matches(m, change.columns, change.before))) return false;
        await this.deleteOne(target, columns, before!);
      } else {
        await this.add('delete', target, columns, keys, keyOf(before!));
      }
      return true;
    }
    const isIn = await this.matches(m, change.columns, change.after);
    if (keys.length === 0) {
      const wasIn = await this.matches(m, change.columns, change.before);
      if (!wasIn && !isIn) return false;
      if (wasIn && before) await this.deleteOne(target, columns, before);
      if (isIn) await this.add('insert', target, columns, keys, after!);
      return true;
    }
    // a row moving out of the filter is deleted, one moving in (or staying) is upserted
    if (before && (!isIn || !sameValues(keyOf(before), keyOf(after!)))) await this.add('delete', target, columns, keys, keyOf(before));
    if (isIn) await this.add('upsert', target, columns, keys, after!);
    return true;
  }

  private async add(kind: Batch['kind'], target: TableRef, columns: string[], keys: string[], row: unknown[]): Promise<void> {
    const b = this.batch;
    const size = row.reduce((n: number, v) => n + sizeOf(v), 0);
    if (b && (b.kind !== kind || b.target.db !== target.db || b.target.table !== target.table || b.columns.length !== columns.length || b.columns.some((c, i) => c !== columns[i]) || b.rows.length >= BATCH_ROWS || b.bytes + size > BATCH_BYTES)) {
      await this.flush();
    }
    if (!this.batch) this.batch = { kind, target, columns, keys, rows: [], bytes: 0 };
    this.batch.rows.push(row);
    this.batch.bytes += size;
  }

  private async flush(): Promise<void> {
    const b = this.batch;
    if (!b) return;
    this.batch = undefined;
    const table = qtable(b.target);
    const cols = b.columns.map(qid).join(', ');
    if (b.kind === 'delete') {
      if (b.keys.length === 1) {
        await this.queue(`DELETE FROM ${table} WHERE ${qid(b.keys[0]!)} IN (?)`, [b.rows.map((r) => r[0])]);
      } else {
        await this.queue(`DELETE FROM ${table} WHERE (${b.keys.map(qid).join(', ')}) IN (?)`, [b.rows]);
      }
      return;
    }
    if (b.kind === 'insert_ignore') {
      await this.queue(`INSERT IGNORE INTO ${table} (${cols}) VALUES ?`, [b.rows]);
      return;
    }
    if (b.kind === 'insert') {
      await this.queue(`INSERT INTO ${table} (${cols}) VALUES ?`, [b.rows], b.target);
      return;
    }
    const keys = new Set(b.keys);
    const update = b.columns.filter((c) => !keys.has(c));
    const set = (update.length ? update : [b.keys[0]!]).map((c) => `${qid(c)} = ${this.rowAlias ? `_drs_new.${qid(c)}` : `VALUES(${qid(c)})`}`);
    await this.queue(`INSERT INTO ${table} (${cols}) VALUES ?${this.rowAlias ? ' AS _drs_new' : ''} ON DUPLICATE KEY UPDATE ${set.join(', ')}`, [b.rows]);
  }

  /** A keyless table: delete one row equal to the image in every column (NULL-safe). */
  private async deleteOne(target: TableRef, columns: string[], image: unknown[]): Promise<void> {
    await this.flush();
    await this.queue(`DELETE FROM ${qtable(target)} WHERE ${columns.map((c) => `${qid(c)} <=> ?`).join(' AND ')} LIMIT 1`, image);
  }

  // ---- DDL

  private async truncate(change: TruncateChange): Promise<void> {
    for (const t of change.tables) {
      const m = this.mapping(t);
      if (m) await this.runDdl(`TRUNCATE TABLE ${qtable(m.target)}`, 'truncate', `TRUNCATE ${qtable(t)}`);
    }
  }

  private async ddlChange(change: DdlChange): Promise<void> {
    const fail = (why: string, cause?: unknown) =>
      new FatalEngineError(`Cannot apply the DDL statement ${quoteStatement(change.statement)} (database ${change.db}): ${why}`, cause ? { cause } : undefined);
    let parsed: ParsedDdl;
    try {
      parsed = parseDdl(change.statement, change.db);
    } catch (e) {
      throw fail(`it could not be parsed (${(e as Error).message})`, e);
    }
    switch (parsed.kind) {
      case 'tx':
      case 'ignore':
        return;
      case 'dml':
        throw fail('statement-based DML in the binlog (binlog_format must be ROW for every session writing to selected tables)');
      case 'unknown':
        throw fail('this kind of statement is not supported by incremental sync');
      case 'drop_database':
        throw fail('dropping a whole database is not replicated; remove the database from the job or recreate it');
      default:
        break;
    }
    if (parsed.temporary) return;
    const subjects = parsed.names.filter((n) => n.role === 'subject');
    const mapped = subjects.map((n) => this.mapping(n.ref));
    if (mapped.every((m) => m === undefined)) return; // none of the job's tables
    // Renamed or dropped columns: the statement's column names (and what it adds) cannot be rewritten safely.
    const columnMapped = parsed.kind === 'drop_table' ? undefined : parsed.names.find((n) => !isEmptyMap(this.mapping(n.ref)?.columns));
    if (columnMapped) {
      throw fail(`the table ${qtable(columnMapped.ref)} has a column mapping (renamed or dropped columns), so DDL on it cannot be replicated; skip DDL in the job policy (ddl_trans false) or recreate the job`);
    }
    if (parsed.kind === 'drop_table') {
      const targets = mapped.filter((m): m is TableMapping => !!m).map((m) => m.target);
      await this.runDdl(`DROP TABLE IF EXISTS ${targets.map(qtable).join(', ')}`, 'drop_table', change.statement);
      for (const t of targets) this.forgetFacts(t);
      for (const n of subjects) this.forget(n.ref);
      return;
    }
    if (parsed.kind === 'rename_table') return this.rename(parsed, change, fail);
    if (mapped.some((m) => m === undefined)) throw fail('it names tables both inside and outside the job');

    const newNames = new Map<NameSpan, TableMapping>();
    let sql: string;
    try {
      sql = rewriteDdl(parsed, (span) => {
        if (span.role === 'subject') return this.mapping(span.ref)!.target;
        if (span.role === 'new_name') {
          const m = this.renameTarget(subjects[0]!.ref, span.ref);
          if (!m) throw fail(`the new name ${qtable(span.ref)} is outside the job's databases`);
          newNames.set(span, m);
          return m.target;
        }
        const m = this.mapping(span.ref);
        if (!m) throw fail(`it refers to ${qtable(span.ref)}, which is not part of the job`);
        return m.target;
      });
    } catch (e) {
      if (e instanceof FatalEngineError) throw e;
      throw fail((e as Error).message, e);
    }
    await this.runDdl(sql, parsed.kind, change.statement);
    for (const n of subjects) this.forgetFacts(this.mapping(n.ref)!.target);
    for (const [span, m] of newNames) this.remember(subjects[0]!.ref, span.ref, m);
  }

  /** Where a renamed table goes: the route for its new name, else next to the old target under the new name. */
  private renameTarget(from: TableRef, to: TableRef): TableMapping | undefined {
    const routed = this.route(to);
    if (routed) return routed;
    const old = this.mapping(from);
    if (!old || to.db !== from.db) return undefined;
    return { ...old, source: to, target: { ...old.target, table: to.table } };
  }

  private remember(from: TableRef, to: TableRef, m: TableMapping): void {
    this.state.renamed.set(tableKey(to.db, to.table), m);
    this.forget(from);
  }

  private forget(ref: TableRef): void {
    this.state.renamed.delete(tableKey(ref.db, ref.table));
  }

  private async rename(parsed: ParsedDdl, change: DdlChange, fail: (why: string) => FatalEngineError): Promise<void> {
    const pairs: { from: TableRef; to: TableRef; old: TableMapping; next: TableMapping }[] = [];
    for (let i = 0; i + 1 < parsed.names.length; i += 2) {
      const from = parsed.names[i]!.ref;
      const to = parsed.names[i + 1]!.ref;
      const old = this.mapping(from);
      if (!old) {
        if (this.route(to)) throw fail(`it renames ${qtable(from)}, which is not part of the job, into the job as ${qtable(to)}`);
        continue;
      }
      const next = this.renameTarget(from, to);
      if (!next) throw fail(`the new name ${qtable(to)} is outside the job's databases`);
      pairs.push({ from, to, old, next });
    }
    if (!pairs.length) return;
    const sql = `RENAME TABLE ${pairs.map((p) => `${qtable(p.old.target)} TO ${qtable(p.next.target)}`).join(', ')}`;
    try {
      await this.runDdl(sql, 'rename_table', change.statement, false);
    } catch (e) {
      const errno = (e as { errno?: number; cause?: { errno?: number } }).cause?.errno ?? (e as { errno?: number }).errno;
      if (errno !== 1050 && errno !== 1146) throw e;
      // Replayed: every old target gone and every new one present means it already ran.
      for (const p of pairs) {
        const exists = async (t: TableRef) =>
          (await this.client.rows('SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [t.db, t.table])).length > 0;
        if ((await exists(p.old.target)) || !(await exists(p.next.target))) throw e;
      }
      logger.warn('replayed RENAME TABLE skipped: already applied on the target', { statement: sql });
    }
    for (const p of pairs) {
      this.forgetFacts(p.old.target);
      this.forgetFacts(p.next.target);
      this.remember(p.from, p.to, p.next);
    }
  }

  /** Commit the DML so far, run one DDL statement (auto-committed), start a new transaction. */
  private async runDdl(sql: string, kind: string, original: string, tolerateReplay = true): Promise<void> {
    await this.commit();
    try {
      await run(this.conn, sql);
      this.ddl++;
    } catch (e) {
      const errno = (e as { errno?: number }).errno ?? -1;
      if (tolerateReplay && (REPLAYED_DDL[kind] ?? []).includes(errno)) {
        logger.warn('replayed DDL skipped: already applied on the target', { statement: quoteStatement(sql), errno });
      } else {
        const c = this.client.classify(e);
        if (c instanceof RetryableError) throw c;
        throw new FatalEngineError(`The DDL statement ${quoteStatement(original)} failed on the target as ${quoteStatement(sql)}: ${(e as Error).message}`, { cause: e });
      }
    } finally {
      this.enqueue({ sql: 'START TRANSACTION' });
    }
  }
}

function sameValues(a: unknown[], b: unknown[]): boolean {
  return a.every((v, i) => {
    const w = b[i];
    if (Buffer.isBuffer(v) && Buffer.isBuffer(w)) return v.equals(w);
    return v === w || String(v) === String(w);
  });
}

/**
 * Apply transactions in order in one target transaction (DDL splits it: MySQL commits DDL
 * implicitly). Idempotent: applying the same transactions again leaves the same rows.
 */
export async function applyChanges(
  client: MySqlClient,
  txs: ChangeTransaction[],
  route: (source: TableRef) => TableMapping | undefined,
  opts: ApplyOptions,
  state: MySqlApplyState = new MySqlApplyState(),
): Promise<{ rows: number; ddl: number }> {
  return new MySqlApplier(client, route, opts, state).apply(txs);
}

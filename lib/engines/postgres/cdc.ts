/**
 * PostgreSQL incremental sync: logical decoding with pgoutput (pg-logical-replication), read as
 * whole transactions, and applied to a PostgreSQL target idempotently.
 *
 * Preparing. `prepareCdc` creates, idempotently and in this order: REPLICA IDENTITY FULL on the
 * selected tables that have no primary key (a table in a publication that publishes updates and
 * deletes but has no replica identity makes UPDATE and DELETE on the *source* fail, and without
 * the full old row a keyless row cannot be found on the target; tables with a primary key are left
 * as they are), a publication `FOR TABLE` the selected tables, and a pgoutput logical slot. The
 * names come from the job (`drs_` + a sanitised name, with a hash when sanitising changed it).
 * The position returned is the slot's consistent point (an existing slot: its confirmed flush
 * position). `releaseCdc` waits for the slot to be inactive, then drops the publication and the
 * slot; both may already be gone.
 *
 * Reading. Every value is kept as the text pgoutput sends, which is what the full load reads (it
 * parses no type): the replication connection pins the same session settings as the engine's pool
 * (DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3, bytea hex,
 * search_path pg_catalog) as startup options, so a timestamp is never shifted and a float never
 * rounded. pg-logical-replication's own tuple parsing (local-time timestamps, an unchanged TOAST
 * value indistinguishable from a missing one) is replaced by a parser of our own. An unchanged
 * TOASTed value ('u') is filled from the old row when the old row is full; otherwise the column
 * is listed in `unchangedColumns` and the applier leaves it alone. A relation message whose
 * columns differ from the previous one for that table (or the first in a stream) becomes a
 * RelationChange in the transaction.
 *
 * Acknowledging. Only `acknowledge(position)` moves the slot's confirmed flush position: the
 * library's auto-acknowledge and its keepalive timer are off, because that timer reports the last
 * *received* position as flushed, which would let the server discard changes not yet applied.
 * Our own keepalive (every 10 s, and whenever the server asks) reports the last acknowledged
 * position. pg-logical-replication's acknowledge(lsn) reports lsn+1, so we pass lsn-1 to report
 * exactly the commit end position (what PostgreSQL's own subscribers report).
 *
 * Applying. One transaction per target database per call: inserts/updates as
 * `INSERT ... ON CONFLICT (key) DO UPDATE` of the after image (OVERRIDING SYSTEM VALUE, as the
 * full load), an update that changes the key deletes the old key first, an update with unchanged
 * TOAST columns is an UPDATE of the sent columns only, deletes by key, keyless tables by one
 * physical row (ctid) equal in every column, TRUNCATE of the mapped tables. A RelationChange is
 * compared with the target table: a column added at the source is added on the target (same
 * type); a column dropped, renamed or retyped fails with a FatalEngineError naming the table.
 * The statements are built in source order with the values as literals (they are PostgreSQL's
 * text forms, which a literal carries exactly) and sent several per simple query (about 1 MB,
 * BEGIN and COMMIT included): one round trip per batch instead of one per statement. Anything
 * that needs an answer (a row filter, an update of the sent columns only, the target's columns
 * for a relation message) sends what is queued first.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { logger } from '../../logger.js';
import { projectColumns, sourceColumn, targetColumn, targetKeys } from '../column-map.js';
import type { CdcPosition, Change, ChangeStream, ChangeTransaction, RelationChange, RowChange, TableMapping, TableRef, TruncateChange } from '../engine.js';
import { FatalEngineError, RetryableError } from '../engine.js';
import { takeTransactions, WakeSignal } from '../change-buffer.js';
import { validateRowFilter } from '../sql-filter.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, lit, literal, qid, qtable, schemaOf, type PgClient } from './connection.js';

type PgPosition = Extract<CdcPosition, { kind: 'postgresql' }>;

// --- LSNs --------------------------------------------------------------------------------

/** `16/B374D848` as a number. */
export function lsnToBigInt(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) throw new FatalEngineError(`Not a PostgreSQL LSN: ${JSON.stringify(lsn.slice(0, 40))}`);
  return (BigInt('0x' + m[1]) << 32n) | BigInt('0x' + m[2]);
}

/** PostgreSQL's own spelling: upper-case hex halves without padding (`0/16B3748`). */
export function lsnFromBigInt(n: bigint): string {
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

export const normalizeLsn = (lsn: string): string => lsnFromBigInt(lsnToBigInt(lsn));

// --- names -------------------------------------------------------------------------------

/**
 * A slot/publication name for a job: `drs_` + the name lower-cased with anything but [a-z0-9_]
 * replaced; when that changed the name or it is too long, a hash of the original keeps names of
 * different jobs apart. At most 63 characters (NAMEDATALEN - 1).
 */
export function cdcIdentifier(name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (clean === name && clean.length > 0 && clean.length <= 59) return `drs_${clean}`;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `drs_${clean.slice(0, 48)}_${hash}`;
}

// --- preparing and releasing ---------------------------------------------------------------

function oneDatabase(client: PgClient, tables: TableRef[]): string {
  const dbs = new Set(tables.map((t) => t.db));
  if (dbs.size > 1) throw new FatalEngineError(`Incremental sync reads one PostgreSQL database per job (a replication slot belongs to one database); the selection spans ${[...dbs].join(', ')}.`);
  return [...dbs][0] ?? client.defaultDb;
}

export async function prepareCdc(client: PgClient, name: string, tables: TableRef[]): Promise<CdcPosition> {
  const db = oneDatabase(client, tables);
  const ident = cdcIdentifier(name);
  // 1. Keyless tables need the full old row (and the source needs a replica identity to accept UPDATE/DELETE once published).
  for (const t of tables) {
    // (the engine's pool returns every value as text: booleans are 't' / 'f')
    const [row] = await client.rows<{ haspk: string; ident: string }>(
      db,
      'SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)::text AS haspk, c.relreplident::text AS ident FROM pg_class c WHERE c.oid = $1::regclass',
      [qtable(t)],
    );
    if (!row) throw new FatalEngineError(`The table ${qtable(t)} does not exist in database ${db}.`);
    // Only DEFAULT without a key is raised to FULL; NOTHING or USING INDEX is the user's explicit choice (precheck reports NOTHING).
    if (row.haspk !== 'true' && row.ident === 'd') await client.exec(db, `ALTER TABLE ${qtable(t)} REPLICA IDENTITY FULL`);
  }
  // 2. The publication, exactly the selected tables.
  const list = tables.map(qtable).join(', ');
  const [pub] = await client.rows(db, 'SELECT 1 FROM pg_publication WHERE pubname = $1', [ident]);
  if (!pub) {
    try {
      await client.exec(db, tables.length ? `CREATE PUBLICATION ${qid(ident)} FOR TABLE ${list}` : `CREATE PUBLICATION ${qid(ident)}`);
    } catch (e) {
      if ((e as { cause?: { code?: string } }).cause?.code !== '42710') throw e; // created concurrently
    }
  } else if (tables.length) {
    await client.exec(db, `ALTER PUBLICATION ${qid(ident)} SET TABLE ${list}`);
  }
  // 3. The slot: its consistent point is where CDC starts.
  const [slot] = await client.rows<{ plugin: string; database: string; lsn: string | null }>(
    db,
    'SELECT plugin, database, confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [ident],
  );
  let lsn: string;
  if (slot) {
    if (slot.plugin !== 'pgoutput' || slot.database !== db) {
      throw new FatalEngineError(`A replication slot named ${ident} already exists for another purpose (plugin ${slot.plugin}, database ${slot.database}).`);
    }
    lsn = slot.lsn!;
  } else {
    const [created] = await client.rows<{ lsn: string }>(db, "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", [ident]);
    lsn = created!.lsn;
  }
  return { kind: 'postgresql', lsn: normalizeLsn(lsn), slot: ident, publication: ident };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Drop the slot (once no stream holds it) and the publication. Idempotent. */
export async function releaseCdc(client: PgClient, position: CdcPosition, opts: { waitMs?: number } = {}): Promise<void> {
  if (position.kind !== 'postgresql') throw new FatalEngineError(`A ${position.kind} position cannot release PostgreSQL CDC objects.`);
  const slotName = position.slot;
  let db = client.defaultDb;
  if (slotName) {
    const deadline = Date.now() + (opts.waitMs ?? 15_000);
    for (;;) {
      const [slot] = await client.rows<{ active: string; database: string }>(client.defaultDb, 'SELECT active::text AS active, database FROM pg_replication_slots WHERE slot_name = $1', [slotName]);
      if (!slot) break;
      db = slot.database;
      if (slot.active !== 'true') {
        try {
          await client.exec(client.defaultDb, 'SELECT pg_drop_replication_slot($1)', [slotName]);
          break;
        } catch (e) {
          const code = (e as { cause?: { code?: string } }).cause?.code;
          if (code === '42704') break; // dropped concurrently
          if (code !== '55006') throw e; // 55006: became active again
        }
      }
      if (Date.now() > deadline) throw new RetryableError(`The replication slot ${slotName} is still in use by a running stream; stop incremental sync first.`);
      await sleep(100);
    }
  }
  if (position.publication) await client.exec(db, `DROP PUBLICATION IF EXISTS ${qid(position.publication)}`);
}

// --- pgoutput ------------------------------------------------------------------------------

/** Marks an unchanged TOASTed value in a tuple. */
const UNCHANGED = Symbol('unchanged-toast');
type Tuple = (string | null | typeof UNCHANGED)[];

interface RelColumn {
  name: string;
  typeOid: number;
  typeMod: number;
  key: boolean;
}
interface Relation {
  oid: number;
  schema: string;
  name: string;
  replicaIdentity: string;
  columns: RelColumn[];
}

type Msg =
  | { tag: 'begin'; finalLsn: string; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: string; endLsn: string; commitTime: bigint }
  | { tag: 'relation'; relation: Relation }
  | { tag: 'insert'; relation: number; new: Tuple }
  | { tag: 'update'; relation: number; key?: Tuple; old?: Tuple; new: Tuple }
  | { tag: 'delete'; relation: number; key?: Tuple; old?: Tuple }
  | { tag: 'truncate'; relations: number[] }
  | { tag: 'other' };

const textDecoder = new TextDecoder();

/**
 * The pgoutput messages we use (protocol version 1), with tuple values kept as text, NULL as
 * null and an unchanged TOAST value as UNCHANGED.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
export class PgoutputReader {
  private p = 0;
  constructor(private readonly b: Buffer) {}
  private u8(): number {
    return this.b[this.p++]!;
  }
  private i16(): number {
    const v = this.b.readInt16BE(this.p);
    this.p += 2;
    return v;
  }
  private i32(): number {
    const v = this.b.readInt32BE(this.p);
    this.p += 4;
    return v;
  }
  private u64(): bigint {
    const v = this.b.readBigUInt64BE(this.p);
    this.p += 8;
    return v;
  }
  private lsn(): string {
    return lsnFromBigInt(this.u64());
  }
  /** Microseconds since 2000-01-01 → epoch microseconds. */
  private time(): bigint {
    return this.u64() + 946_684_800_000_000n;
  }
  private str(): string {
    const end = this.b.indexOf(0, this.p);
    if (end < 0) throw new Error('pgoutput: unterminated string');
    const s = textDecoder.decode(this.b.subarray(this.p, end));
    this.p = end + 1;
    return s;
  }
  private tuple(): Tuple {
    const n = this.i16();
    const out: Tuple = new Array(n);
    for (let i = 0; i < n; i++) {
      const kind = this.u8();
      if (kind === 0x6e) out[i] = null; // n
      else if (kind === 0x75) out[i] = UNCHANGED; // u
      else if (kind === 0x74 || kind === 0x62) {
        // t (text) / b (binary, only when asked for; not used)
        const len = this.i32();
        const raw = this.b.subarray(this.p, this.p + len);
        this.p += len;
        out[i] = kind === 0x74 ? textDecoder.decode(raw) : '\\x' + raw.toString('hex');
      } else throw new Error(`pgoutput: unknown tuple value kind ${kind}`);
    }
    return out;
  }

  parse(): Msg {
    const tag = String.fromCharCode(this.u8());
    switch (tag) {
      case 'B':
        return { tag: 'begin', finalLsn: this.lsn(), commitTime: this.time(), xid: this.i32() };
      case 'C': {
        this.u8();
        return { tag: 'commit', commitLsn: this.lsn(), endLsn: this.lsn(), commitTime: this.time() };
      }
      case 'R': {
        const oid = this.i32();
        const schema = this.str();
        const name = this.str();
        const replicaIdentity = String.fromCharCode(this.u8());
        const n = this.i16();
        const columns: RelColumn[] = [];
        for (let i = 0; i < n; i++) {
          const flags = this.u8();
          const colName = this.str();
          columns.push({ name: colName, typeOid: this.i32() >>> 0, typeMod: this.i32(), key: (flags & 1) === 1 });
        }
        return { tag: 'relation', relation: { oid, schema, name, replicaIdentity, columns } };
      }
      case 'I': {
        const relation = this.i32();
        this.u8(); // 'N'
        return { tag: 'insert', relation, new: this.tuple() };
      }
      case 'U': {
        const relation = this.i32();
        let k = String.fromCharCode(this.u8());
        let key: Tuple | undefined;
        let old: Tuple | undefined;
        if (k === 'K') key = this.tuple();
        else if (k === 'O') old = this.tuple();
        if (k !== 'N') k = String.fromCharCode(this.u8());
        return { tag: 'update', relation, key, old, new: this.tuple() };
      }
      case 'D': {
        const relation = this.i32();
        const k = String.fromCharCode(this.u8());
        const t = this.tuple();
        return k === 'K' ? { tag: 'delete', relation, key: t } : { tag: 'delete', relation, old: t };
      }
      case 'T': {
        const n = this.i32();
        this.u8(); // flags (cascade, restart identity)
        const relations: number[] = [];
        for (let i = 0; i < n; i++) relations.push(this.i32());
        return { tag: 'truncate', relations };
      }
      default:
        // O (origin), Y (type), M (message): nothing we need
        return { tag: 'other' };
    }
  }
}

/** pg-logical-replication's plugin with our parser. */
class RawPgoutputPlugin extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    // The service hands the parsed message to our 'data' handler untouched.
    return new PgoutputReader(buffer).parse() as unknown as Pgoutput.Message;
  }
}

// --- reading -------------------------------------------------------------------------------

/** The same settings as the engine's pool sessions, so text values are identical. */
const SESSION_OPTIONS = ['DateStyle=ISO,YMD', 'IntervalStyle=postgres', 'TimeZone=UTC', 'extra_float_digits=3', 'bytea_output=hex', 'search_path=pg_catalog', 'client_encoding=UTF8']
  .map((s) => `-c ${s}`)
  .join(' ');

export interface PgStreamOptions {
  /** Row changes buffered in completed transactions before the replication stream is paused. Default 50,000. */
  maxBufferedEvents?: number;
  /** Standby status interval, seconds (keeps the walsender from timing out). Default 10. */
  keepaliveSeconds?: number;
}

const relKey = (schema: string, table: string) => JSON.stringify([schema, table]);

interface OpenTx {
  changes: Change[];
  events: number;
  commitTime: number;
}

class PgChangeStream implements ChangeStream {
  private readonly svc: LogicalReplicationService;
  private readonly relations = new Map<number, Relation>();
  /** Column signature of the last relation message per table, to tell a schema change. */
  private readonly signatures = new Map<string, string>();
  private readonly typeNames = new Map<string, string>();
  private readonly selected: Set<string> | undefined;
  private readonly ready: ChangeTransaction[] = [];
  private bufferedEvents = 0;
  private open?: OpenTx;
  private error?: Error;
  private closed = false;
  private readonly signal = new WakeSignal();
  private drained?: () => void;
  private acked: bigint;
  private keepalive?: NodeJS.Timeout;
  private readonly high: number;
  private readonly slot: string;
  private readonly publication: string;

  constructor(
    private readonly client: PgClient,
    private readonly db: string,
    private readonly from: PgPosition,
    tables: TableRef[],
    confirmed: bigint,
    private readonly opts: PgStreamOptions,
  ) {
    this.high = opts.maxBufferedEvents ?? 50_000;
    this.slot = from.slot!;
    this.publication = from.publication!;
    this.selected = tables.length ? new Set(tables.map((t) => relKey(schemaOf(t), t.table))) : undefined;
    this.acked = confirmed;
    const cfg = client.cfg;
    this.svc = new LogicalReplicationService(
      {
        host: cfg.host,
        port: cfg.port,
        user: cfg.user,
        password: cfg.password,
        database: db,
        ssl: cfg.ssl?.enabled ? { ...(cfg.ssl.ca ? { ca: cfg.ssl.ca } : {}), rejectUnauthorized: cfg.ssl.verify ?? cfg.ssl.ca !== undefined } : false,
        connectionTimeoutMillis: cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        application_name: 'drs-replication-cdc',
        options: SESSION_OPTIONS,
        keepAlive: true,
      },
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.svc.on('error', (e: Error) => this.fail(e));
    this.svc.on('data', async (_lsn: string, msg: Msg) => {
      if (this.closed || this.error) return;
      try {
        await this.onMessage(msg);
      } catch (e) {
        this.fail(e);
      }
    });
    this.svc.on('heartbeat', (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) this.sendStatus();
    });
  }

  async start(): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.svc.once('start', () => resolve());
      this.startFailed = reject;
    });
    const plugin = new RawPgoutputPlugin({ protoVersion: 1, publicationNames: [this.publication] });
    this.svc.subscribe(plugin, this.slot, normalizeLsn(this.from.lsn)).catch((e: unknown) => this.fail(e));
    try {
      await started;
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      this.startFailed = undefined;
    }
    const every = (this.opts.keepaliveSeconds ?? 10) * 1000;
    this.keepalive = setInterval(() => this.sendStatus(), every);
    this.keepalive.unref();
  }

  private startFailed?: (e: Error) => void;

  private fail(e: unknown): void {
    if (this.error || this.closed) return;
    const c = this.client.classify(e);
    this.error = c instanceof Error && (c instanceof RetryableError || c instanceof FatalEngineError) ? c : new FatalEngineError(`Reading the replication stream failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    logger.warn('replication stream failed', { error: this.error, slot: this.slot });
    this.startFailed?.(this.error);
    this.signal.wake();
    this.drained?.();
  }

  /** Standby status with the last acknowledged position as written, flushed and applied. */
  private sendStatus(): void {
    if (this.closed || this.error || this.acked <= 0n) return;
    this.svc.acknowledge(lsnFromBigInt(this.acked - 1n)).catch(() => undefined);
  }

  private async typeName(oid: number, mod: number): Promise<string> {
    const k = `${oid}:${mod}`;
    let name = this.typeNames.get(k);
    if (!name) {
      const [row] = await this.client.rows<{ t: string }>(this.db, 'SELECT format_type($1::oid, $2::int) AS t', [oid, mod]);
      name = row!.t;
      this.typeNames.set(k, name);
    }
    return name;
  }

  private isSelected(rel: Relation): boolean {
    return !this.selected || this.selected.has(relKey(rel.schema, rel.name));
  }

  private ref(rel: Relation): TableRef {
    return { db: this.db, schema: rel.schema, table: rel.name };
  }

  private async onMessage(msg: Msg): Promise<void> {
    switch (msg.tag) {
      case 'begin':
        this.open = { changes: [], events: 0, commitTime: Number(msg.commitTime / 1000n) };
        return;
      case 'relation': {
        const rel = msg.relation;
        this.relations.set(rel.oid, rel);
        if (!this.isSelected(rel)) return;
        const columns = await Promise.all(rel.columns.map(async (c) => ({ name: c.name, type: await this.typeName(c.typeOid, c.typeMod) })));
        const sig = JSON.stringify(columns);
        const k = relKey(rel.schema, rel.name);
        if (this.signatures.get(k) === sig) return;
        this.signatures.set(k, sig);
        const change: RelationChange = { op: 'relation', table: this.ref(rel), columns };
        (this.open ??= { changes: [], events: 0, commitTime: Date.now() }).changes.push(change);
        return;
      }
      case 'insert':
      case 'update':
      case 'delete':
        return this.onRow(msg);
      case 'truncate': {
        const tables = msg.relations.flatMap((oid) => {
          const rel = this.relations.get(oid);
          return rel && this.isSelected(rel) ? [this.ref(rel)] : [];
        });
        if (tables.length) {
          const change: TruncateChange = { op: 'truncate', tables };
          const open = (this.open ??= { changes: [], events: 0, commitTime: Date.now() });
          open.changes.push(change);
          open.events++;
        }
        return;
      }
      case 'commit':
        return this.commit(msg);
      default:
        return;
    }
  }

  private onRow(msg: Extract<Msg, { tag: 'insert' | 'update' | 'delete' }>): void {
    const rel = this.relations.get(msg.relation);
    if (!rel) throw new FatalEngineError(`The replication stream sent a row for an unknown relation ${msg.relation}.`);
    if (!this.isSelected(rel)) return;
    const columns = rel.columns.map((c) => c.name);
    const plain = (t: Tuple | undefined): unknown[] | undefined => (t ? t.map((v) => (v === UNCHANGED ? null : v)) : undefined);
    const change: RowChange = { op: msg.tag, table: this.ref(rel), columns };
    if (msg.tag === 'insert') {
      change.after = plain(msg.new);
    } else if (msg.tag === 'delete') {
      change.before = plain(msg.old ?? msg.key);
    } else {
      const before = msg.old ?? msg.key;
      change.before = plain(before);
      const unchanged: string[] = [];
      change.after = msg.new.map((v, i) => {
        if (v !== UNCHANGED) return v;
        // A full old row has the value (REPLICA IDENTITY FULL logs it detoasted).
        const o = msg.old?.[i];
        if (o !== undefined && o !== UNCHANGED) return o;
        unchanged.push(columns[i]!);
        return null;
      });
      if (unchanged.length) change.unchangedColumns = unchanged;
    }
    const open = (this.open ??= { changes: [], events: 0, commitTime: Date.now() });
    open.changes.push(change);
    open.events++;
  }

  private async commit(msg: Extract<Msg, { tag: 'commit' }>): Promise<void> {
    const tx = this.open ?? { changes: [], events: 0, commitTime: 0 };
    this.open = undefined;
    const done: ChangeTransaction = {
      position: { kind: 'postgresql', lsn: msg.endLsn, slot: this.slot, publication: this.publication },
      commitTime: Number(msg.commitTime / 1000n),
      receivedAt: Date.now(),
      changes: tx.changes,
    };
    const last = this.ready[this.ready.length - 1];
    if (done.changes.length === 0 && last && last.changes.length === 0) this.ready[this.ready.length - 1] = done;
    else this.ready.push(done);
    this.bufferedEvents += tx.events;
    this.signal.wake();
    // Backpressure: the library pauses the socket until this handler returns.
    while (this.bufferedEvents >= this.high && !this.closed && !this.error) {
      await new Promise<void>((resolve) => (this.drained = resolve));
    }
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
    if (this.bufferedEvents < this.high) {
      const d = this.drained;
      this.drained = undefined;
      d?.();
    }
    return out;
  }

  async acknowledge(position: CdcPosition): Promise<void> {
    if (position.kind !== 'postgresql') throw new FatalEngineError(`A ${position.kind} position cannot be acknowledged on a PostgreSQL stream.`);
    const lsn = lsnToBigInt(position.lsn);
    if (lsn <= this.acked) return;
    this.acked = lsn;
    this.sendStatus();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.sendStatus();
    this.closed = true;
    clearInterval(this.keepalive);
    this.signal.wake();
    this.drained?.();
    await this.svc.destroy().catch(() => undefined);
  }
}

/**
 * Stream the changes of `tables` from the slot in `from`, starting after `from.lsn` (the server
 * starts at the slot's confirmed position when that is later). Resolves once streaming started.
 */
export async function openChangeStream(client: PgClient, from: CdcPosition, tables: TableRef[], opts: PgStreamOptions = {}): Promise<ChangeStream> {
  if (from.kind !== 'postgresql') throw new FatalEngineError(`A ${from.kind} position cannot start a PostgreSQL replication stream.`);
  if (!from.slot || !from.publication) throw new FatalEngineError('The PostgreSQL start position names no replication slot or publication; prepare incremental sync first.');
  const db = oneDatabase(client, tables);
  const [slot] = await client.rows<{ lsn: string | null }>(db, 'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [from.slot]);
  if (!slot) throw new FatalEngineError(`The replication slot ${from.slot} does not exist on the source (dropped, or never created): incremental sync cannot continue without a new full load.`);
  const stream = new PgChangeStream(client, db, from, tables, slot.lsn ? lsnToBigInt(slot.lsn) : 0n, opts);
  await stream.start();
  return stream;
}

// --- applying ------------------------------------------------------------------------------

export interface ApplyOptions {
  keyColumns: (source: TableRef) => string[];
  conflictPolicy?: 'ignore' | 'overwrite' | 'stop';
}

/** Target table facts read by an applier, per engine instance. */
export class PgApplyState {
  readonly targets = new Map<string, Promise<TargetFacts>>();
}

interface TargetFacts {
  primaryKey: string[];
  /** Identity GENERATED ALWAYS columns: inserted with OVERRIDING SYSTEM VALUE, never updated. */
  alwaysIdentity: Set<string>;
}

/** Values per multi-row statement, and rows. */
const MAX_PARAMS = 30_000;
const BATCH_ROWS = 1000;
/** Statements sent together in one simple query (one round trip), up to this many characters (a larger statement goes alone). */
const SEND_CHARS = 1024 * 1024;

/** A statement waiting to be sent on its database's connection. */
interface Queued {
  db: string;
  sql: string;
  /** An insert under conflict policy "stop": a duplicate key in this table is the user's conflict. */
  strictInsert?: TableRef;
}

interface Batch {
  kind: 'upsert' | 'ignore' | 'insert' | 'delete';
  target: TableRef;
  columns: string[];
  keys: string[];
  /** Columns an update may not set (identity GENERATED ALWAYS). */
  fixed: Set<string>;
  rows: unknown[][];
  /** Keys in this batch: an upsert must not touch one row twice in a statement. */
  seen: Set<string>;
}

const tKey = (t: TableRef) => JSON.stringify([t.db, schemaOf(t), t.table]);

/** A type name without its schema, for comparing a source column type with the target's. */
const bareType = (t: string) => t.replace(/^("[^"]+"|[a-z_][a-z0-9_$]*)\.(?=["a-z_])/i, '');

class PgApplier {
  private readonly conns = new Map<string, pg.PoolClient>();
  private batch?: Batch;
  /** Statements built but not yet sent, in order, and their size. */
  private queued: Queued[] = [];
  private queuedChars = 0;
  private rows = 0;
  private ddl = 0;
  private readonly policy: 'ignore' | 'overwrite' | 'stop';
  private readonly filters = new Map<string, string>();

  constructor(
    private readonly client: PgClient,
    private readonly route: (source: TableRef) => TableMapping | undefined,
    private readonly opts: ApplyOptions,
    private readonly state: PgApplyState,
  ) {
    this.policy = opts.conflictPolicy ?? 'overwrite';
  }

  /**
   * The batch's statements are built in source order with their values as literals and sent
   * together, several per round trip (one simple query, SEND_CHARS), BEGIN first and COMMIT
   * last; they are sent before anything that needs an answer (a row filter, an update of the
   * sent columns only, the target's columns for a relation message).
   */
  async apply(txs: ChangeTransaction[]): Promise<{ rows: number; ddl: number }> {
    let ok = false;
    try {
      for (const tx of txs) for (const c of tx.changes) await this.change(c);
      await this.flush();
      for (const db of this.conns.keys()) {
        // Nothing queued after BEGIN (and nothing sent): no transaction to run.
        let at = this.queued.length - 1;
        while (at >= 0 && this.queued[at]!.db !== db) at--;
        if (at >= 0 && this.queued[at]!.sql === 'BEGIN') this.queued.splice(at, 1);
        else this.queued.push({ db, sql: 'COMMIT' });
      }
      await this.send();
      ok = true;
      return { rows: this.rows, ddl: this.ddl };
    } catch (e) {
      throw this.client.classify(e);
    } finally {
      this.queued = [];
      for (const c of this.conns.values()) {
        let broken = false;
        if (!ok) await c.query('ROLLBACK').catch(() => (broken = true));
        c.release(broken);
      }
    }
  }

  private async conn(db: string): Promise<pg.PoolClient> {
    let c = this.conns.get(db);
    if (!c) {
      c = await this.client.acquire(db);
      this.conns.set(db, c);
      this.queued.push({ db, sql: 'BEGIN' });
    }
    return c;
  }

  /** Queue a statement; a full queue is sent first. */
  private async queue(db: string, sql: string, strictInsert?: TableRef): Promise<void> {
    await this.conn(db);
    if (this.queuedChars + sql.length > SEND_CHARS) await this.send();
    this.queued.push({ db, sql, ...(strictInsert ? { strictInsert } : {}) });
    this.queuedChars += sql.length;
  }

  /** Send every queued statement: one simple query per database, in order. */
  private async send(): Promise<void> {
    const queued = this.queued;
    if (!queued.length) return;
    this.queued = [];
    this.queuedChars = 0;
    for (const [db, c] of this.conns) {
      const statements = queued.filter((q) => q.db === db);
      if (!statements.length) continue;
      try {
        await c.query(statements.map((q) => q.sql).join(';\n'));
      } catch (e) {
        // A duplicate key in a table an insert under conflict policy "stop" wrote to: the user's conflict, fatal.
        const d = e as { code?: string; schema?: string; table?: string; message: string };
        const strict = d.code === '23505' ? statements.find((q) => q.strictInsert && schemaOf(q.strictInsert) === d.schema && q.strictInsert.table === d.table)?.strictInsert : undefined;
        if (strict) throw new FatalEngineError(`An insert into ${qtable(strict)} hit an existing key (conflict policy "stop"): ${d.message}`, { cause: e });
        throw e;
      }
    }
  }

  /** A statement whose result is needed: everything queued runs before it. */
  private async q(db: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    const c = await this.conn(db);
    await this.send();
    return c.query({ text, values });
  }

  private facts(target: TableRef): Promise<TargetFacts> {
    const k = tKey(target);
    let facts = this.state.targets.get(k);
    if (!facts) {
      facts = Promise.all([
        this.client.rows<{ c: string }>(
          target.db,
          'SELECT a.attname AS c FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)',
          [qtable(target)],
        ),
        this.client.rows<{ c: string }>(target.db, "SELECT attname AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attidentity = 'a'", [qtable(target)]),
      ]).then(([pk, always]) => ({ primaryKey: pk.map((r) => r.c), alwaysIdentity: new Set(always.map((r) => r.c)) }));
      facts.catch(() => this.state.targets.delete(k));
      this.state.targets.set(k, facts);
    }
    return facts;
  }

  private async change(c: Change): Promise<void> {
    switch (c.op) {
      case 'insert':
      case 'update':
      case 'delete':
        if (await this.rowChange(c)) this.rows++;
        return;
      case 'truncate':
        return this.truncate(c);
      case 'relation':
        return this.relation(c);
      case 'ddl':
        throw new FatalEngineError(`A MySQL DDL statement cannot be applied to a PostgreSQL target: ${c.statement.slice(0, 200)}`);
    }
  }

  private async matches(m: TableMapping, columns: string[], values: unknown[] | undefined): Promise<boolean> {
    if (!m.where || !values) return true;
    let sql = this.filters.get(m.where);
    if (!sql) {
      sql = validateRowFilter(m.where, 'postgresql');
      this.filters.set(m.where, sql);
    }
    await this.flush();
    // Evaluated against the row image typed like the target table's columns.
    const types = await this.columnTypes(m.target);
    // Source names (the filter's), typed like their target columns (a dropped column: text).
    const typeOf = (c: string) => {
      const t = targetColumn(m.columns, c);
      return (t !== undefined && types.get(t)) || 'text';
    };
    const derived = columns.map((c, i) => `$${i + 1}::${typeOf(c)} AS ${qid(c)}`).join(', ');
    const r = await this.q(m.target.db, `SELECT (${sql})::text AS m FROM (SELECT ${derived}) AS _drs_row`, values);
    return r.rows[0]?.m === 'true';
  }

  private async rowChange(change: RowChange): Promise<boolean> {
    const m = this.route(change.table);
    if (!m) return false;
    const target = m.target;
    const facts = await this.facts(target);
    const given = this.opts.keyColumns(change.table);
    const sourceKeys = given.length ? given : facts.primaryKey.map((k) => sourceColumn(m.columns, k));
    for (const k of sourceKeys) if (!change.columns.includes(k)) throw new FatalEngineError(`The key column ${k} of ${qtable(change.table)} is not in the change stream; cannot apply changes to ${qtable(target)}.`);
    // Columns to write: the change's columns the mapping keeps, under their target names.
    const kept = projectColumns(m.columns, change.columns);
    const idx = kept.index;
    const columns = kept.target;
    const keys = targetKeys(m.columns, sourceKeys);
    const project = (img: unknown[] | undefined) => (img ? idx.map((i) => img[i] ?? null) : undefined);
    const before = project(change.before);
    const after = project(change.after);
    const keyOf = (img: unknown[]) => keys.map((k) => img[columns.indexOf(k)]);
    const unchanged = new Set((change.unchangedColumns ?? []).flatMap((c) => {
      const t = targetColumn(m.columns, c);
      return t !== undefined ? [t] : [];
    }));
    const fixed = facts.alwaysIdentity;

    if (change.op === 'insert') {
      if (!(await this.matches(m, change.columns, change.after))) return false;
      const kind = keys.length === 0 ? 'insert' : this.policy === 'overwrite' ? 'upsert' : this.policy === 'ignore' ? 'ignore' : 'insert';
      await this.add(kind, target, columns, keys, after!, fixed);
      return true;
    }
    // With a row filter, the target holds only rows inside it: deleting a key it does not hold is
    // harmless, so deletes and rows moving out need no evaluation of the old row (which, without
    // REPLICA IDENTITY FULL, is only the key anyway).
    if (change.op === 'delete') {
      if (!before) throw new FatalEngineError(`A delete on ${qtable(change.table)} carries no old row (REPLICA IDENTITY NOTHING?); it cannot be applied.`);
      if (keys.length === 0) {
        if (!(await this.matches(m, change.columns, change.before))) return false;
        await this.deleteOne(target, columns, before);
      } else {
        await this.add('delete', target, columns, keys, keyOf(before));
      }
      return true;
    }
    const isIn = await this.matches(m, change.columns, change.after);
    if (keys.length === 0) {
      if (!before) throw new FatalEngineError(`An update on the keyless table ${qtable(change.table)} carries no old row; set REPLICA IDENTITY FULL on it.`);
      const wasIn = await this.matches(m, change.columns, change.before);
      if (!wasIn && !isIn) return false;
      if (wasIn && isIn) await this.updateOne(target, columns, before, after!, fixed);
      else if (wasIn) await this.deleteOne(target, columns, before);
      else await this.add('insert', target, columns, keys, after!, fixed);
      return true;
    }
    const keyChanged = before !== undefined && !keyOf(before).every((v, i) => v === keyOf(after!)[i]);
    if (!isIn) {
      await this.add('delete', target, columns, keys, keyOf(before ?? after!));
      return true;
    }
    if (unchanged.size) {
      // Only the values that were sent: the unchanged TOAST values stay as the target has them.
      // (With a row filter, a row moving into it in such an update has no full image to insert:
      // the update finds no row, which is logged; REPLICA IDENTITY FULL avoids it.)
      await this.updateSent(target, columns, keys, keyChanged ? keyOf(before!) : keyOf(after!), after!, new Set([...unchanged, ...fixed]), keyChanged ? keyOf(after!) : undefined);
      return true;
    }
    if (keyChanged) await this.add('delete', target, columns, keys, keyOf(before!));
    await this.add('upsert', target, columns, keys, after!, fixed);
    return true;
  }

  private async add(kind: Batch['kind'], target: TableRef, columns: string[], keys: string[], row: unknown[], fixed = new Set<string>()): Promise<void> {
    const key = JSON.stringify(kind === 'delete' ? row : keys.map((k) => row[columns.indexOf(k)]));
    const b = this.batch;
    if (
      b &&
      (b.kind !== kind ||
        tKey(b.target) !== tKey(target) ||
        b.columns.length !== columns.length ||
        b.columns.some((c, i) => c !== columns[i]) ||
        b.rows.length >= BATCH_ROWS ||
        (b.rows.length + 1) * columns.length > MAX_PARAMS ||
        (keys.length > 0 && b.seen.has(key)))
    ) {
      await this.flush();
    }
    if (!this.batch) this.batch = { kind, target, columns, keys, fixed, rows: [], seen: new Set() };
    this.batch.rows.push(row);
    if (keys.length) this.batch.seen.add(key);
  }

  private async flush(): Promise<void> {
    const b = this.batch;
    if (!b) return;
    this.batch = undefined;
    const tuples = b.rows.map((r) => `(${r.map(literal).join(', ')})`).join(', ');
    const table = qtable(b.target);
    const db = b.target.db;
    if (b.kind === 'delete') {
      await this.queue(db, `DELETE FROM ${table} WHERE (${b.keys.map(qid).join(', ')}) IN (${tuples})`);
      return;
    }
    const cols = b.columns.map(qid).join(', ');
    const head = `INSERT INTO ${table} (${cols}) OVERRIDING SYSTEM VALUE VALUES ${tuples}`;
    if (b.kind === 'insert') {
      await this.queue(db, head, b.keys.length ? b.target : undefined);
      return;
    }
    const conflict = `ON CONFLICT (${b.keys.map(qid).join(', ')})`;
    if (b.kind === 'ignore') {
      await this.queue(db, `${head} ${conflict} DO NOTHING`);
      return;
    }
    const keys = new Set(b.keys);
    const update = b.columns.filter((c) => !keys.has(c) && !b.fixed.has(c));
    await this.queue(db, `${head} ${conflict} ${update.length ? `DO UPDATE SET ${update.map((c) => `${qid(c)} = EXCLUDED.${qid(c)}`).join(', ')}` : 'DO NOTHING'}`);
  }

  private async updateSent(target: TableRef, columns: string[], keys: string[], where: unknown[], after: unknown[], unchanged: Set<string>, newKey?: unknown[]): Promise<void> {
    await this.flush();
    const values: unknown[] = [];
    const set = columns.flatMap((c, i) => (unchanged.has(c) || (keys.includes(c) && !newKey) ? [] : [`${qid(c)} = $${values.push(after[i])}`]));
    if (!set.length) return;
    const cond = (k: unknown[]) => keys.map((c, i) => `${qid(c)} = $${values.push(k[i])}`).join(' AND ');
    const base = values.length;
    const r = await this.q(target.db, `UPDATE ${qtable(target)} SET ${set.join(', ')} WHERE ${cond(where)}`, values);
    let updated = r.rowCount ?? 0;
    if (updated === 0 && newKey) {
      // Replayed after the key already moved: update the row at its new key.
      values.length = base;
      updated = (await this.q(target.db, `UPDATE ${qtable(target)} SET ${set.join(', ')} WHERE ${cond(newKey)}`, values)).rowCount ?? 0;
    }
    if (updated === 0) {
      // A replay after the row was deleted, or a row the target never had: there is no full row to write.
      logger.warn('an update with unchanged TOAST values found no row on the target', { table: qtable(target) });
    }
  }

  /** One physical row equal in every column (compared as text: json, point, xml... have no `=`). */
  private matchOne(target: TableRef, columns: string[], image: unknown[]): string {
    const eq = columns.map((c, i) => `${qid(c)}::text IS NOT DISTINCT FROM ${literal(image[i])}::text`).join(' AND ');
    return `ctid = (SELECT ctid FROM ${qtable(target)} WHERE ${eq} LIMIT 1)`;
  }

  private async deleteOne(target: TableRef, columns: string[], image: unknown[]): Promise<void> {
    await this.flush();
    await this.queue(target.db, `DELETE FROM ${qtable(target)} WHERE ${this.matchOne(target, columns, image)}`);
  }

  private async updateOne(target: TableRef, columns: string[], before: unknown[], after: unknown[], fixed: Set<string>): Promise<void> {
    await this.flush();
    const set = columns.flatMap((c, i) => (fixed.has(c) ? [] : [`${qid(c)} = ${literal(after[i])}`])).join(', ');
    if (!set) return;
    await this.queue(target.db, `UPDATE ${qtable(target)} SET ${set} WHERE ${this.matchOne(target, columns, before)}`);
  }

  private async truncate(change: TruncateChange): Promise<void> {
    await this.flush();
    const byDb = new Map<string, string[]>();
    for (const t of change.tables) {
      const m = this.route(t);
      if (m) byDb.set(m.target.db, [...(byDb.get(m.target.db) ?? []), qtable(m.target)]);
    }
    for (const [db, list] of byDb) {
      await this.queue(db, `TRUNCATE TABLE ${list.join(', ')}`);
      this.ddl++;
    }
  }

  /** The target table's columns (not generated ones: logical decoding never sends those) and their types, read in the apply transaction. */
  private async columnTypes(target: TableRef): Promise<Map<string, string>> {
    const r = await this.q(
      target.db,
      "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
      [qtable(target)],
    );
    return new Map(r.rows.map((x: { name: string; type: string }) => [x.name, x.type]));
  }

  private async relation(change: RelationChange): Promise<void> {
    const m = this.route(change.table);
    if (!m) return;
    await this.flush();
    const target = await this.columnTypes(m.target);
    if (target.size === 0) throw new FatalEngineError(`The target table ${qtable(m.target)} for ${qtable(change.table)} does not exist.`);
    const source = new Map(change.columns.map((c) => [c.name, c.type]));
    const problems: string[] = [];
    for (const [name, type] of target) {
      // Target columns come from source columns of the same name, or of the name the mapping renamed.
      const from = sourceColumn(m.columns, name);
      const now = source.get(from);
      if (now === undefined) problems.push(`column ${from} is no longer in the source table (dropped or renamed)`);
      else if (bareType(now) !== bareType(type)) problems.push(`column ${from} changed type from ${type} to ${now}`);
    }
    if (problems.length) {
      throw new FatalEngineError(`The source table ${qtable(change.table)} changed in a way incremental sync cannot follow on ${qtable(m.target)}: ${problems.join('; ')}. Recreate the target table and run a new full load.`);
    }
    for (const c of change.columns) {
      // A new column (one the mapping does not name) is added under its own name; dropped ones never.
      const name = targetColumn(m.columns, c.name);
      if (name === undefined || target.has(name)) continue;
      // The type text comes from format_type on the source: a type name, never a value.
      if (!/^[\w\s."(),[\]$]+$/.test(c.type)) throw new FatalEngineError(`The new column ${c.name} of ${qtable(change.table)} has a type that cannot be copied: ${lit(c.type)}`);
      await this.q(m.target.db, `ALTER TABLE ${qtable(m.target)} ADD COLUMN IF NOT EXISTS ${qid(name)} ${c.type}`);
      logger.info('column added on the target, following the source', { table: qtable(m.target), column: name, type: c.type });
      this.ddl++;
    }
  }
}

/** Apply transactions in order, in one transaction per target database. Idempotent. */
export async function applyChanges(
  client: PgClient,
  txs: ChangeTransaction[],
  route: (source: TableRef) => TableMapping | undefined,
  opts: ApplyOptions,
  state: PgApplyState = new PgApplyState(),
): Promise<{ rows: number; ddl: number }> {
  return new PgApplier(client, route, opts, state).apply(txs);
}

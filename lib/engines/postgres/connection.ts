/**
 * PostgreSQL connections: a pool per database (an engine may read tables of several databases),
 * session settings, identifier quoting, the connection test, server facts and the WAL position.
 *
 * Every value is read in PostgreSQL's own text form (no type parsing in the driver: every type
 * parser returns the raw string), with the session pinned so that text is the same on every
 * server: DateStyle ISO/YMD, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3 (exact
 * floats), bytea_output hex, standard_conforming_strings on, and search_path pg_catalog so
 * catalog functions (format_type, pg_get_expr, pg_get_indexdef) always schema-qualify user
 * objects. Text in, text out is what pg_dump does, and it round-trips every type exactly.
 * Values are bound parameters ($n), except in the CDC applier's batches, which carry the text
 * values as literals (`literal`); identifiers are double-quoted with quotes doubled.
 */
import pg from 'pg';
import { registerSecret } from '../../logger.js';
import type { CdcPosition, ConnectionTestResult, EndpointConfig, ServerInfo, TableRef } from '../engine.js';
import { FatalEngineError } from '../engine.js';
import { ConnectTimeoutError, classifyPostgresError, describeConnectFailure, isRefusedWithoutTls } from './errors.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_POOL_SIZE = 8;

export function qid(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new FatalEngineError('An object name is empty.');
  if (name.includes('\0')) throw new FatalEngineError('An object name contains a NUL character.');
  return '"' + name.replace(/"/g, '""') + '"';
}

export const schemaOf = (ref: TableRef) => ref.schema ?? 'public';

/** "schema"."table" */
export function qtable(ref: TableRef): string {
  return `${qid(schemaOf(ref))}.${qid(ref.table)}`;
}

/** A string literal for DDL (where parameters cannot go): standard_conforming_strings is on, so only quotes are doubled. */
export function lit(value: string): string {
  if (value.includes('\0')) throw new FatalEngineError('A literal contains a NUL character.');
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A value as an SQL literal that means exactly what the same value bound as a parameter means:
 * the applier's values are PostgreSQL's text forms (pgoutput), and an untyped literal goes
 * through the column type's input function just as an untyped text parameter does
 * (SESSION_SQL sets standard_conforming_strings on, so only quotes are doubled).
 */
export function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return lit(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return lit(String(v));
  throw new FatalEngineError(`A change carries a value the applier cannot write (${Object.prototype.toString.call(v)}); expected PostgreSQL text.`);
}

const SESSION_SQL =
  "SET search_path = pg_catalog; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = postgres; SET TimeZone = 'UTC'; " +
  'SET extra_float_digits = 3; SET bytea_output = hex; SET standard_conforming_strings = on; SET client_encoding = UTF8';

/** Every type as its text form. */
const rawTypes = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

function sslOptions(ssl: EndpointConfig['ssl']): pg.ClientConfig['ssl'] {
  if (!ssl?.enabled) return false;
  const verify = ssl.verify ?? ssl.ca !== undefined;
  return { ...(ssl.ca ? { ca: ssl.ca } : {}), rejectUnauthorized: verify };
}

function baseConfig(cfg: EndpointConfig, database: string): pg.ClientConfig {
  return {
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database,
    ssl: sslOptions(cfg.ssl),
    connectionTimeoutMillis: cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: 'drs-replication',
    types: rawTypes,
    keepAlive: true,
  };
}

export type Row = Record<string, string | null>;

/** Pool clients whose session settings are applied. */
const initialised = new WeakSet<pg.PoolClient>();

/** Pools per database; every method classifies errors (RetryableError / FatalEngineError). */
export class PgClient {
  private readonly pools = new Map<string, pg.Pool>();
  private info?: ServerInfo;

  constructor(readonly cfg: EndpointConfig) {
    registerSecret(cfg.password);
  }

  /** The database the endpoint names (default `postgres`). */
  get defaultDb(): string {
    return this.cfg.database ?? 'postgres';
  }

  private pool(db: string): pg.Pool {
    let pool = this.pools.get(db);
    if (!pool) {
      pool = new pg.Pool({ ...baseConfig(this.cfg, db), max: this.cfg.poolSize ?? DEFAULT_POOL_SIZE, idleTimeoutMillis: 30_000 });
      pool.on('error', () => undefined);
      this.pools.set(db, pool);
    }
    return pool;
  }

  classify(e: unknown): unknown {
    return classifyPostgresError(e, this.cfg.password);
  }

  /** A client of `db`'s pool with the session settings applied; the caller releases it (`release(true)` destroys it). */
  async acquire(db: string): Promise<pg.PoolClient> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool(db).connect();
      if (!initialised.has(client)) {
        await client.query(SESSION_SQL);
        initialised.add(client);
      }
      return client;
    } catch (e) {
      client?.release(true);
      throw this.classify(e);
    }
  }

  private async run<T>(db: string, use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.acquire(db);
    let broken = false;
    try {
      return await use(client);
    } catch (e) {
      broken = !(e as { severity?: string }).severity; // a server error leaves the connection usable; anything else may not
      throw this.classify(e);
    } finally {
      client.release(broken);
    }
  }

  rows<T = Row>(db: string, text: string, values: unknown[] = []): Promise<T[]> {
    return this.run(db, async (c) => (await c.query({ text, values })).rows as T[]);
  }

  arrays(db: string, text: string, values: unknown[] = []): Promise<(string | null)[][]> {
    return this.run(db, async (c) => (await c.query({ text, values, rowMode: 'array' })).rows as (string | null)[][]);
  }

  exec(db: string, text: string, values: unknown[] = []): Promise<number> {
    return this.run(db, async (c) => (await c.query({ text, values })).rowCount ?? 0);
  }

  /** Run `use` inside BEGIN/COMMIT on one client; ROLLBACK on error. */
  async transaction<T>(db: string, use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.acquire(db);
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await use(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw this.classify(e);
    } finally {
      client.release(broken);
    }
  }

  async serverInfo(): Promise<ServerInfo> {
    this.info ??= await readServerInfo(this);
    return this.info;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.end()));
  }
}

/** Connect, authenticate and read server_version on a fresh client, within `timeoutMs`. */
async function probe(cfg: EndpointConfig, timeoutMs: number): Promise<string> {
  const client = new pg.Client({ ...baseConfig(cfg, cfg.database ?? 'postgres'), connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      reject(new ConnectTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timeout]);
    const r = await Promise.race([client.query({ text: "SELECT current_setting('server_version')", rowMode: 'array' }), timeout]);
    return String(r.rows[0][0]);
  } finally {
    clearTimeout(timer);
    client.end().catch(() => undefined);
  }
}

/**
 * Connect + authenticate + query within the connect timeout; never throws.
 *
 * pg_hba.conf refuses a plain connection the same way whether TLS would help or not ("no
 * encryption"), so after that refusal we try once over TLS (without verifying the certificate,
 * only to tell the two apart): if that authenticates, the server requires SSL (KE0010).
 */
export async function testConnection(cfg: EndpointConfig): Promise<ConnectionTestResult> {
  registerSecret(cfg.password);
  const t0 = performance.now();
  const elapsedMs = () => Math.round(performance.now() - t0);
  const timeoutMs = cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  try {
    const version = await probe(cfg, timeoutMs);
    return { success: true, message: `Connected to ${cfg.host}:${cfg.port} (PostgreSQL ${version}).`, version, elapsedMs: elapsedMs() };
  } catch (e) {
    if (isRefusedWithoutTls(e) && !cfg.ssl?.enabled) {
      const left = Math.max(1000, timeoutMs - elapsedMs());
      const overTls = await probe({ ...cfg, ssl: { enabled: true, verify: false } }, left).then(
        () => true,
        () => false,
      );
      if (overTls) {
        return {
          success: false,
          code: 'DRS.KE0010',
          message: `The server at ${cfg.host}:${cfg.port} only accepts SSL connections for ${cfg.user} (pg_hba.conf hostssl). Enable SSL for this connection and upload the server's CA certificate.`,
          elapsedMs: elapsedMs(),
        };
      }
    }
    const where = { host: cfg.host, port: cfg.port, user: cfg.user, database: cfg.database ?? 'postgres', ssl: !!cfg.ssl?.enabled, password: cfg.password };
    return { success: false, ...describeConnectFailure(e, where), elapsedMs: elapsedMs() };
  }
}

const SETTINGS = [
  'server_version', 'server_version_num', 'server_encoding', 'TimeZone', 'DateStyle', 'IntervalStyle', 'wal_level', 'max_replication_slots',
  'max_wal_senders', 'max_connections', 'default_transaction_read_only', 'transaction_read_only', 'standard_conforming_strings', 'is_superuser',
  'wal_sender_timeout', 'max_slot_wal_keep_size', 'wal_keep_size', 'data_checksums', 'track_commit_timestamp', 'max_worker_processes',
];

/** `15.20 (Debian 15.20-0+deb12u1)` → 15; `9.6.24` → 9.6. */
export function versionNumber(num: number): number {
  if (num >= 100000) return Math.floor(num / 10000);
  return Math.floor(num / 10000) + (Math.floor(num / 100) % 100) / 10;
}

async function readServerInfo(client: PgClient): Promise<ServerInfo> {
  const db = client.defaultDb;
  // reset_val: the value a session gets from the server, database and role (ours overrides some).
  const rows = await client.rows<{ name: string; value: string }>(db, 'SELECT name, reset_val AS value FROM pg_settings WHERE name = ANY($1::text[])', [SETTINGS]);
  const variables: Record<string, string> = {};
  for (const r of rows) variables[r.name] = r.value;
  const [dbRow] = await client.rows<{ encoding: string; collate: string; recovery: string; current: string }>(
    db,
    'SELECT pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, pg_is_in_recovery()::text AS recovery, current_setting($1) AS current FROM pg_database d WHERE d.datname = current_database()',
    ['transaction_read_only'],
  );
  variables.in_recovery = dbRow?.recovery === 'true' ? 'on' : 'off';
  variables.session_transaction_read_only = dbRow?.current ?? 'off';
  const version = (variables.server_version ?? '').split(' ')[0] ?? '';
  return {
    kind: 'postgresql',
    version,
    versionNumber: versionNumber(Number(variables.server_version_num ?? 0)),
    flavor: 'postgresql',
    timeZone: variables.TimeZone ?? 'UTC',
    charset: dbRow?.encoding ?? variables.server_encoding ?? '',
    collation: dbRow?.collate,
    variables,
  };
}

/**
 * The WAL position now: the insert position, which is past every committed change (the write
 * position can lag behind it with synchronous_commit=off). Slot creation belongs to incremental sync.
 */
export async function currentPosition(client: PgClient): Promise<CdcPosition> {
  const [row] = await client.arrays(client.defaultDb, 'SELECT pg_current_wal_insert_lsn()::text');
  return { kind: 'postgresql', lsn: String(row![0]) };
}

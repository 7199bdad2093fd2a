/**
 * Server parameters and read-only mode, per engine kind, for the v3 parameter
 * comparison (batch-get-params / modify params) and the DR
 * switchover (stop writes on the old primary). Not part of the SourceEngine/TargetEngine
 * contract (no migration step needs them), so they live beside it and use the engines' own
 * clients (MySqlClient, PgClient): same session settings, same error classification, same
 * secret redaction.
 *
 * Parameters are an allow-list: only names listed here are read, compared or changed, so no
 * caller-supplied identifier ever reaches SQL. Values are bound (MySQL) or quoted literals (PG,
 * ALTER SYSTEM takes no parameters).
 */
import type { CdcPosition, EndpointConfig } from './engine.js';
import { FatalEngineError } from './engine.js';
import { openEngine } from './index.js';
import { MySqlClient } from './mysql/connection.js';
import { PgClient, lit } from './postgres/connection.js';

export interface ParamDef {
  key: string;
  group: 'common' | 'performance';
  dataType: 'figure' | 'string';
  /** MySQL: a static variable (changing it needs a server restart). PostgreSQL: read from pg_settings.context. */
  needRestart: boolean;
  /** `min-max` for numbers, `A|B|C` for enumerations, '' when free text. */
  range: string;
}

export interface ServerParam extends ParamDef {
  /** Undefined when the server does not have this parameter. */
  value?: string;
}

const M = (key: string, group: ParamDef['group'], dataType: ParamDef['dataType'], range: string, needRestart = false): ParamDef => ({ key, group, dataType, range, needRestart });

/** What the seed compares for MySQL (6.1.9): character sets, modes, limits, buffers. */
export const MYSQL_PARAMS: ParamDef[] = [
  M('character_set_server', 'common', 'string', 'utf8|utf8mb3|utf8mb4|latin1|gbk|binary'),
  M('collation_server', 'common', 'string', ''),
  M('sql_mode', 'common', 'string', ''),
  M('time_zone', 'common', 'string', ''),
  M('lower_case_table_names', 'common', 'figure', '0-2', true),
  M('explicit_defaults_for_timestamp', 'common', 'string', 'ON|OFF'),
  M('event_scheduler', 'common', 'string', 'ON|OFF|DISABLED'),
  M('max_allowed_packet', 'common', 'figure', '1024-1073741824'),
  M('group_concat_max_len', 'common', 'figure', '4-18446744073709551615'),
  M('innodb_strict_mode', 'common', 'string', 'ON|OFF'),
  M('default_storage_engine', 'common', 'string', ''),
  M('binlog_cache_size', 'performance', 'figure', '4096-18446744073709547520'),
  M('innodb_buffer_pool_size', 'performance', 'figure', '5242880-18446744073709551615'),
  M('innodb_log_buffer_size', 'performance', 'figure', '262144-4294967295', true),
  M('max_connections', 'performance', 'figure', '1-100000'),
  M('table_open_cache', 'performance', 'figure', '1-1048576'),
  M('tmp_table_size', 'performance', 'figure', '1024-18446744073709551615'),
  M('max_heap_table_size', 'performance', 'figure', '16384-18446744073709551615'),
  M('sort_buffer_size', 'performance', 'figure', '32768-18446744073709551615'),
  M('join_buffer_size', 'performance', 'figure', '128-18446744073709551615'),
  M('read_buffer_size', 'performance', 'figure', '8192-2147479552'),
  M('thread_cache_size', 'performance', 'figure', '0-16384'),
];

/** What is compared for PostgreSQL; restart need and ranges come from pg_settings. */
export const POSTGRES_PARAMS: { key: string; group: ParamDef['group'] }[] = [
  { key: 'server_encoding', group: 'common' },
  { key: 'lc_collate', group: 'common' },
  { key: 'TimeZone', group: 'common' },
  { key: 'DateStyle', group: 'common' },
  { key: 'standard_conforming_strings', group: 'common' },
  { key: 'default_transaction_isolation', group: 'common' },
  { key: 'statement_timeout', group: 'common' },
  { key: 'lock_timeout', group: 'common' },
  { key: 'max_connections', group: 'performance' },
  { key: 'shared_buffers', group: 'performance' },
  { key: 'work_mem', group: 'performance' },
  { key: 'maintenance_work_mem', group: 'performance' },
  { key: 'effective_cache_size', group: 'performance' },
  { key: 'max_wal_senders', group: 'performance' },
  { key: 'max_replication_slots', group: 'performance' },
];

async function withMySql<T>(cfg: EndpointConfig, use: (c: MySqlClient) => Promise<T>): Promise<T> {
  const c = new MySqlClient({ ...cfg, poolSize: 1 });
  try {
    return await use(c);
  } finally {
    await c.close();
  }
}

async function withPg<T>(cfg: EndpointConfig, use: (c: PgClient) => Promise<T>): Promise<T> {
  const c = new PgClient({ ...cfg, poolSize: 1 });
  try {
    return await use(c);
  } finally {
    await c.close();
  }
}

/** The compared parameters with the server's current values (SHOW GLOBAL VARIABLES / pg_settings). */
export async function readServerParams(cfg: EndpointConfig): Promise<ServerParam[]> {
  if (cfg.kind === 'mysql') {
    return withMySql(cfg, async (c) => {
      const keys = MYSQL_PARAMS.map((p) => p.key);
      const rows = await c.rows<{ Variable_name: string; Value: string | null }>(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${keys.map(() => '?').join(', ')})`, keys);
      const values = new Map(rows.map((r) => [r.Variable_name, r.Value ?? '']));
      return MYSQL_PARAMS.map((p) => ({ ...p, value: values.get(p.key) }));
    });
  }
  return withPg(cfg, async (c) => {
    const rows = await c.rows<{ name: string; setting: string | null; unit: string | null; context: string; vartype: string; min_val: string | null; max_val: string | null; enumvals: string | null }>(
      c.defaultDb,
      'SELECT name, setting, unit, context, vartype, min_val, max_val, array_to_string(enumvals, \'|\') AS enumvals FROM pg_catalog.pg_settings WHERE lower(name) = ANY($1::text[])',
      [POSTGRES_PARAMS.map((p) => p.key.toLowerCase())],
    );
    const byName = new Map(rows.map((r) => [r.name.toLowerCase(), r]));
    return POSTGRES_PARAMS.map((p) => {
      const r = byName.get(p.key.toLowerCase());
      const numeric = r && ['integer', 'real'].includes(r.vartype);
      return {
        key: p.key,
        group: p.group,
        dataType: numeric ? 'figure' : 'string',
        needRestart: !r || r.context === 'postmaster' || r.context === 'internal',
        range: !r ? '' : numeric ? `${r.min_val}-${r.max_val}` : r.vartype === 'bool' ? 'on|off' : (r.enumvals ?? ''),
        value: r ? `${r.setting ?? ''}${r.unit && numeric ? r.unit : ''}` : undefined,
      };
    });
  });
}

/**
 * Change dynamic parameters for real: MySQL `SET GLOBAL` (also SET PERSIST where the server has
 * it, so the change survives a restart), PostgreSQL `ALTER SYSTEM` + `pg_reload_conf()`. Needs
 * the privilege on the server (SUPER / SYSTEM_VARIABLES_ADMIN, or a PostgreSQL superuser); the
 * server's refusal is the error. Names must be on the allow-list (checked by the caller too).
 */
export async function writeServerParams(cfg: EndpointConfig, changes: { key: string; value: string }[]): Promise<void> {
  if (cfg.kind === 'mysql') {
    const defs = new Map(MYSQL_PARAMS.map((p) => [p.key, p]));
    await withMySql(cfg, async (c) => {
      for (const ch of changes) {
        const def = defs.get(ch.key);
        if (!def || !/^[a-z_]+$/.test(ch.key)) throw new FatalEngineError(`${ch.key} is not a parameter this service changes`);
        const value = def.dataType === 'figure' ? Number(ch.value) : ch.value;
        await c.exec(`SET GLOBAL ${ch.key} = ?`, [value]);
      }
    });
    return;
  }
  const allowed = new Set(POSTGRES_PARAMS.map((p) => p.key.toLowerCase()));
  await withPg(cfg, async (c) => {
    for (const ch of changes) {
      if (!allowed.has(ch.key.toLowerCase()) || !/^[A-Za-z_]+$/.test(ch.key)) throw new FatalEngineError(`${ch.key} is not a parameter this service changes`);
      await c.exec(c.defaultDb, `ALTER SYSTEM SET ${ch.key.toLowerCase()} = ${lit(ch.value)}`);
    }
    await c.exec(c.defaultDb, 'SELECT pg_catalog.pg_reload_conf()');
  });
}

/**
 * How writable a server is: `all` stops every client write (MySQL read_only + super_read_only;
 * MariaDB read_only, which privileged accounts with READ ONLY ADMIN still pass), `apps` stops
 * ordinary accounts but lets privileged ones write (read_only only: what a standby needs so the
 * replication account can apply), `off` allows writes. PostgreSQL has no per-account exception:
 * `all` and `apps` both set default_transaction_read_only.
 */
export type WriteMode = 'all' | 'apps' | 'off';

export async function setWriteMode(cfg: EndpointConfig, mode: WriteMode): Promise<void> {
  if (cfg.kind === 'mysql') {
    await withMySql(cfg, async (c) => {
      const info = await c.serverInfo();
      const mysql8 = info.flavor === 'mysql';
      if (mysql8 && mode !== 'all') await c.exec('SET GLOBAL super_read_only = OFF');
      await c.exec(`SET GLOBAL read_only = ${mode === 'off' ? 'OFF' : 'ON'}`);
      if (mysql8 && mode === 'all') await c.exec('SET GLOBAL super_read_only = ON');
    });
    return;
  }
  await withPg(cfg, async (c) => {
    await c.exec(c.defaultDb, `ALTER SYSTEM SET default_transaction_read_only = ${mode === 'off' ? "'off'" : "'on'"}`);
    await c.exec(c.defaultDb, 'SELECT pg_catalog.pg_reload_conf()');
  });
}

/** The server's replication position now (binlog file/pos + GTID; PostgreSQL: WAL LSN). */
export async function currentPositionOf(cfg: EndpointConfig): Promise<CdcPosition> {
  const e = openEngine({ ...cfg, poolSize: 1 });
  try {
    return await e.currentPosition();
  } finally {
    await e.close().catch(() => undefined);
  }
}

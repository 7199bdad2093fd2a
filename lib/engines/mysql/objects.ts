/**
 * MySQL/MariaDB views, procedures, functions, triggers and events: read from the source as the
 * source prints them (SHOW CREATE ...) and recreated on the target under the mapped names.
 *
 * The statement is rewritten token by token (strings and comments are never touched): the
 * object's own name is qualified with its target database, a trigger's table is its mapped target
 * table, every `db.` qualifier naming a renamed selected database names the target database, and
 * with replace_definer the DEFINER clause becomes `DEFINER=CURRENT_USER` (the migration user).
 * Each object is created with the sql_mode it was defined under (and an event with its time zone),
 * as mysqldump does, on one dedicated connection whose session is restored afterwards.
 *
 * Order: functions and procedures (their bodies are not resolved at creation), then views
 * (retried while a view waits for another view), then triggers and events when the step asks for
 * them. An object that already exists on the target is left alone and reported `existing`; one
 * that fails is reported with the server's message and does not stop the others. Only errors a
 * retry can fix (connection loss) are thrown.
 */
import type { PoolConnection } from 'mysql2';
import type { DbObjectDef, DbObjectKind, ObjectContainer, ObjectPlacement, ObjectResult, ObjectScope, TableRef } from '../engine.js';
import { RetryableError } from '../engine.js';
import { qid, type MySqlClient } from './connection.js';

// ---------------------------------------------------------------------------------------------
// A small lexer: enough to tell identifiers from strings and comments.

export interface Tok {
  t: 'ws' | 'comment' | 'str' | 'qid' | 'word' | 'punct';
  s: string;
  /** Identifier value (qid unquoted, word as written). */
  v?: string;
}

export interface LexOptions {
  /** sql_mode ANSI_QUOTES: "..." is an identifier. */
  ansiQuotes?: boolean;
  /** sql_mode NO_BACKSLASH_ESCAPES. */
  noBackslash?: boolean;
}

export function lex(sql: string, opts: LexOptions = {}): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = sql.length;
  const quoted = (q: string, backslash: boolean): number => {
    let j = i + 1;
    while (j < n) {
      const c = sql[j];
      if (backslash && c === '\\') {
        j += 2;
        continue;
      }
      if (c === q) {
        if (sql[j + 1] === q) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return n;
  };
  while (i < n) {
    const c = sql[i]!;
    let j: number;
    if (/\s/.test(c)) {
      j = i + 1;
      while (j < n && /\s/.test(sql[j]!)) j++;
      out.push({ t: 'ws', s: sql.slice(i, j) });
    } else if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]!)))) {
      j = sql.indexOf('\n', i);
      j = j < 0 ? n : j;
      out.push({ t: 'comment', s: sql.slice(i, j) });
    } else if (c === '/' && sql[i + 1] === '*') {
      j = sql.indexOf('*/', i + 2);
      j = j < 0 ? n : j + 2;
      out.push({ t: 'comment', s: sql.slice(i, j) });
    } else if (c === '`' || (c === '"' && opts.ansiQuotes)) {
      j = quoted(c, false);
      const body = sql.slice(i + 1, j - 1);
      out.push({ t: 'qid', s: sql.slice(i, j), v: body.split(c + c).join(c) });
    } else if (c === "'" || c === '"') {
      j = quoted(c, !opts.noBackslash);
      out.push({ t: 'str', s: sql.slice(i, j) });
    } else if (/[A-Za-z0-9_$\u0080-\uffff]/.test(c)) {
      j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      out.push({ t: 'word', s: sql.slice(i, j), v: sql.slice(i, j) });
    } else {
      j = i + 1;
      out.push({ t: 'punct', s: c });
    }
    i = j;
  }
  return out;
}

const significant = (t: Tok) => t.t !== 'ws' && t.t !== 'comment';
const isIdent = (t: Tok | undefined) => !!t && (t.t === 'qid' || t.t === 'word');
const kw = (t: Tok | undefined, ...words: string[]) => !!t && t.t === 'word' && words.includes(t.s.toUpperCase());

/** Indexes of the significant tokens, for looking ahead without whitespace. */
function sigIndex(toks: Tok[]): number[] {
  const idx: number[] = [];
  toks.forEach((t, i) => significant(t) && idx.push(i));
  return idx;
}

/**
 * Rewrite `db.` qualifiers: an identifier naming a renamed database, followed by `.` and another
 * identifier (or `*`), and not itself after a `.`. Bare words and backtick names both count.
 */
export function renameQualifiers(toks: Tok[], rename: (db: string) => string | undefined, skip: Set<number> = new Set()): void {
  const sig = sigIndex(toks);
  for (let k = 0; k < sig.length; k++) {
    const i = sig[k]!;
    if (skip.has(i) || !isIdent(toks[i])) continue;
    const dot = toks[sig[k + 1]!];
    const next = toks[sig[k + 2]!];
    const prev = toks[sig[k - 1]!];
    if (!dot || dot.s !== '.' || !(isIdent(next) || next?.s === '*')) continue;
    if (prev && prev.s === '.') continue;
    const to = rename(toks[i]!.v!);
    if (to !== undefined) toks[i] = { t: 'qid', s: qid(to), v: to };
  }
}

export const join = (toks: Tok[]) => toks.map((t) => t.s).join('');

// ---------------------------------------------------------------------------------------------
// Reading

interface Native {
  sqlMode: string;
  timeZone?: string;
  /** Triggers: ACTION_ORDER on their table and event. */
  order?: number;
}

const KIND_WORD: Record<DbObjectKind, string> = { view: 'VIEW', procedure: 'PROCEDURE', function: 'FUNCTION', trigger: 'TRIGGER', event: 'EVENT' };
const definerOf = (d: string | null | undefined) => (d ? d : undefined);

/** `(?, ?), (?, ?)` and values for a (schema, name) IN list. */
function pairs(items: { a: string; b: string }[]): { sql: string; values: string[] } {
  return { sql: items.map(() => '(?, ?)').join(', '), values: items.flatMap((p) => [p.a, p.b]) };
}

async function showCreate(client: MySqlClient, what: string, db: string, name: string, column: number): Promise<{ ddl?: string; unreadable?: string; row?: unknown[] }> {
  try {
    const { rows } = await client.arrays(`SHOW CREATE ${what} ${qid(db)}.${qid(name)}`);
    const row = rows[0];
    const ddl = row?.[column];
    if (ddl === null || ddl === undefined) return { unreadable: `the source user cannot read the definition of ${what.toLowerCase()} ${db}.${name} (it needs SHOW_ROUTINE / SELECT on mysql.proc, or to be its definer)` };
    return { ddl: Buffer.isBuffer(ddl) ? ddl.toString('utf8') : String(ddl), row };
  } catch (e) {
    if (e instanceof RetryableError) throw e;
    return { unreadable: `reading the definition of ${what.toLowerCase()} ${db}.${name} failed: ${(e as Error).message}` };
  }
}

export async function readObjects(client: MySqlClient, scope: ObjectScope): Promise<DbObjectDef[]> {
  const out: DbObjectDef[] = [];
  const dbs = [...new Set(scope.containers.map((c) => c.db))];
  const want = new Set(scope.kinds);
  const inList = dbs.map(() => '?').join(', ');
  if (dbs.length && (want.has('procedure') || want.has('function'))) {
    const rows = await client.rows<{ db: string; name: string; type: string; definer: string | null; mode: string }>(
      `SELECT ROUTINE_SCHEMA AS db, ROUTINE_NAME AS name, ROUTINE_TYPE AS type, DEFINER AS definer, SQL_MODE AS mode
         FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${inList}) AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION') ORDER BY ROUTINE_SCHEMA, ROUTINE_TYPE, ROUTINE_NAME`,
      dbs,
    );
    for (const r of rows) {
      const kind = r.type === 'PROCEDURE' ? 'procedure' : 'function';
      if (!want.has(kind)) continue;
      const read = await showCreate(client, r.type, r.db, r.name, 2);
      out.push({ kind, db: r.db, name: r.name, definer: definerOf(r.definer), ddl: read.ddl, unreadable: read.unreadable, native: { sqlMode: r.mode } satisfies Native });
    }
  }
  if (dbs.length && want.has('view')) {
    const rows = await client.rows<{ db: string; name: string; definer: string | null }>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, DEFINER AS definer FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (${inList}) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
      dbs,
    );
    for (const r of rows) {
      const read = await showCreate(client, 'VIEW', r.db, r.name, 1);
      // A view is printed fully qualified and its sql_mode is not kept: the default mode reads it.
      out.push({ kind: 'view', db: r.db, name: r.name, definer: definerOf(r.definer), ddl: read.ddl, unreadable: read.unreadable, native: { sqlMode: '' } satisfies Native });
    }
  }
  if (dbs.length && want.has('event')) {
    const rows = await client.rows<{ db: string; name: string; definer: string | null; mode: string; tz: string }>(
      `SELECT EVENT_SCHEMA AS db, EVENT_NAME AS name, DEFINER AS definer, SQL_MODE AS mode, TIME_ZONE AS tz FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (${inList}) ORDER BY EVENT_SCHEMA, EVENT_NAME`,
      dbs,
    );
    for (const r of rows) {
      const read = await showCreate(client, 'EVENT', r.db, r.name, 3);
      out.push({ kind: 'event', db: r.db, name: r.name, definer: definerOf(r.definer), ddl: read.ddl, unreadable: read.unreadable, native: { sqlMode: r.mode, timeZone: r.tz } satisfies Native });
    }
  }
  if (scope.tables.length && want.has('trigger')) {
    const p = pairs(scope.tables.map((t) => ({ a: t.db, b: t.table })));
    const rows = await client.rows<{ db: string; name: string; tdb: string; tbl: string; definer: string | null; mode: string; ord: number | string }>(
      `SELECT TRIGGER_SCHEMA AS db, TRIGGER_NAME AS name, EVENT_OBJECT_SCHEMA AS tdb, EVENT_OBJECT_TABLE AS tbl, DEFINER AS definer, SQL_MODE AS mode, ACTION_ORDER AS ord
         FROM information_schema.TRIGGERS WHERE (EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE) IN (${p.sql})
        ORDER BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER`,
      p.values,
    );
    for (const r of rows) {
      const read = await showCreate(client, 'TRIGGER', r.db, r.name, 2);
      out.push({ kind: 'trigger', db: r.db, name: r.name, table: { db: r.tdb, table: r.tbl }, definer: definerOf(r.definer), ddl: read.ddl, unreadable: read.unreadable, native: { sqlMode: r.mode, order: Number(r.ord) } satisfies Native });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rewriting

export interface Rewritten {
  sql: string;
  /** The definer as written in the statement (`user@host`), when it has one. */
  definer?: string;
}

const unquote = (t: Tok) => (t.t === 'qid' ? t.v! : t.t === 'str' ? t.s.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1') : t.s);

/**
 * The object's CREATE statement for the target: its name qualified with the target database, a
 * trigger's table mapped, renamed databases rewritten in the body, the definer replaced when asked.
 */
export function rewriteCreate(def: DbObjectDef, targetDb: string, placement: ObjectPlacement, opts: LexOptions = {}): Rewritten {
  const toks = lex(def.ddl!, opts);
  const sig = sigIndex(toks);
  let k = 0;
  const at = (o = 0) => toks[sig[k + o]!];
  const fail = (why: string): never => {
    throw new Error(`cannot rewrite the definition of ${def.kind} ${def.db}.${def.name}: ${why}`);
  };
  if (!kw(at(), 'CREATE')) fail('it does not start with CREATE');
  k++;
  if (kw(at(), 'OR') && kw(at(1), 'REPLACE')) k += 2;
  let definer: string | undefined;
  const skip = new Set<number>();
  for (;;) {
    if (kw(at(), 'ALGORITHM') && at(1)?.s === '=') k += 3;
    else if (kw(at(), 'SQL') && kw(at(1), 'SECURITY')) k += 3;
    else if (kw(at(), 'DEFINER') && at(1)?.s === '=') {
      const from = sig[k + 2]!;
      k += 2;
      if (kw(at(), 'CURRENT_USER')) {
        k++;
        if (at()?.s === '(' && at(1)?.s === ')') k += 2;
      } else {
        const user = at();
        k++;
        let host: Tok | undefined;
        if (at()?.s === '@') {
          host = at(1);
          k += 2;
        }
        definer = `${unquote(user!)}@${host ? unquote(host) : '%'}`;
      }
      const to = sig[k - 1]!;
      if (placement.replaceDefiner) {
        toks[from] = { t: 'word', s: 'CURRENT_USER' };
        for (let i = from + 1; i <= to; i++) toks[i] = { t: 'ws', s: '' };
      }
      for (let i = from; i <= to; i++) skip.add(i);
    } else if (kw(at(), 'AGGREGATE', 'NONSEMANTIC')) k++;
    else break;
  }
  if (!kw(at(), KIND_WORD[def.kind])) fail(`expected ${KIND_WORD[def.kind]}`);
  k++;
  if (kw(at(), 'IF') && kw(at(1), 'NOT') && kw(at(2), 'EXISTS')) k += 3;
  // The name: `name` or `db`.`name`.
  const nameFrom = sig[k]!;
  if (!isIdent(at())) fail('no object name');
  k++;
  if (at()?.s === '.' && isIdent(at(1))) k += 2;
  const nameTo = sig[k - 1]!;
  toks[nameFrom] = { t: 'qid', s: `${qid(targetDb)}.${qid(def.name)}` };
  for (let i = nameFrom + 1; i <= nameTo; i++) toks[i] = { t: 'ws', s: '' };
  for (let i = nameFrom; i <= nameTo; i++) skip.add(i);
  if (def.kind === 'trigger') {
    // BEFORE|AFTER INSERT|UPDATE|DELETE [OR ...] ON table
    while (at() && !kw(at(), 'ON')) k++;
    if (!at()) fail('no ON <table>');
    k++;
    const tFrom = sig[k]!;
    if (!isIdent(at())) fail('no trigger table');
    k++;
    if (at()?.s === '.' && isIdent(at(1))) k += 2;
    const tTo = sig[k - 1]!;
    const mapped = def.table ? placement.table(def.table) : undefined;
    if (!mapped) fail('its table is not migrated');
    toks[tFrom] = { t: 'qid', s: `${qid(mapped!.db)}.${qid(mapped!.table)}` };
    for (let i = tFrom + 1; i <= tTo; i++) toks[i] = { t: 'ws', s: '' };
    for (let i = tFrom; i <= tTo; i++) skip.add(i);
    // FOR EACH ROW [FOLLOWS|PRECEDES other]: triggers are created in their source order instead.
    if (kw(at(), 'FOR') && kw(at(1), 'EACH') && kw(at(2), 'ROW') && kw(at(3), 'FOLLOWS', 'PRECEDES') && isIdent(at(4))) {
      for (let i = sig[k + 3]!; i <= sig[k + 4]!; i++) toks[i] = { t: 'ws', s: '' };
    }
  }
  renameQualifiers(toks, (db) => containerRename(placement, db), skip);
  return { sql: join(toks), definer };
}

function containerRename(placement: ObjectPlacement, db: string): string | undefined {
  const r = placement.renames.find((x) => x.from.db === db);
  return r && r.to.db !== db ? r.to.db : undefined;
}

// ---------------------------------------------------------------------------------------------
// Creating

function targetOf(placement: ObjectPlacement, c: ObjectContainer): ObjectContainer | undefined {
  return placement.renames.find((r) => r.from.db === c.db)?.to;
}

/** Run `sql` under the object's sql_mode (and time zone), restoring the session afterwards. */
async function execAs(conn: PoolConnection, sql: string, mode: string, timeZone: string | undefined): Promise<void> {
  const q = (text: string, values: unknown[] = []) =>
    new Promise<unknown>((resolve, reject) => conn.query({ sql: text, values }, (e, r) => (e ? reject(e) : resolve(r))));
  const saved = (await q('SELECT @@SESSION.sql_mode AS m, @@SESSION.time_zone AS z')) as { m: string; z: string }[];
  try {
    await q('SET SESSION sql_mode = ?', [mode]);
    if (timeZone && timeZone !== 'SYSTEM') await q('SET SESSION time_zone = ?', [timeZone]);
    await q(sql);
  } finally {
    await q('SET SESSION sql_mode = ?, SESSION time_zone = ?', [saved[0]!.m, saved[0]!.z]);
  }
}

/** Modes a server of the other flavour does not know are dropped (MariaDB's NO_AUTO_CREATE_USER on MySQL 8...). */
function modeFor(mode: string, flavor: 'mysql' | 'mariadb' | 'postgresql'): string {
  const drop = flavor === 'mysql' ? ['NO_AUTO_CREATE_USER', 'ORACLE', 'POSTGRESQL', 'MSSQL', 'DB2', 'MAXDB', 'SIMULTANEOUS_ASSIGNMENT', 'TIME_ROUND_FRACTIONAL', 'EMPTY_STRING_IS_NULL'] : [];
  return mode
    .split(',')
    .filter((m) => m && !drop.includes(m))
    .join(',');
}

async function exists(client: MySqlClient, kind: DbObjectKind, db: string, name: string): Promise<boolean> {
  const sql = {
    view: 'SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    procedure: "SELECT 1 AS x FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'PROCEDURE'",
    function: "SELECT 1 AS x FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'FUNCTION'",
    trigger: 'SELECT 1 AS x FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?',
    event: 'SELECT 1 AS x FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?',
  }[kind];
  return (await client.rows(sql, [db, name])).length > 0;
}

const ORDER: DbObjectKind[] = ['function', 'procedure', 'view', 'trigger', 'event'];

export async function createObjects(client: MySqlClient, defs: DbObjectDef[], placement: ObjectPlacement): Promise<ObjectResult[]> {
  const info = await client.serverInfo();
  const results = new Map<DbObjectDef, ObjectResult>();
  const dbsReady = new Set<string>();
  const sorted = [...defs].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  const result = (d: DbObjectDef, targetDb: string, status: ObjectResult['status'], message?: string): ObjectResult => ({
    kind: d.kind,
    source: { db: d.db, name: d.name },
    target: { db: targetDb, name: d.name },
    status,
    ...(message ? { message } : {}),
  });
  /** One attempt; undefined when a view should be tried again after the others. */
  const attempt = async (d: DbObjectDef, last: boolean): Promise<ObjectResult | undefined> => {
    const to = targetOf(placement, d);
    if (!to) return result(d, d.db, 'failed', `the database ${d.db} is not selected`);
    if (!d.ddl) return result(d, to.db, 'failed', d.unreadable ?? 'the definition could not be read');
    if (!dbsReady.has(to.db)) {
      await client.exec(`CREATE DATABASE IF NOT EXISTS ${qid(to.db)}`);
      dbsReady.add(to.db);
    }
    if (await exists(client, d.kind, to.db, d.name)) return result(d, to.db, 'existing', `${d.kind} ${to.db}.${d.name} already exists on the target; left as it is`);
    const native = (d.native ?? {}) as Partial<Native>;
    const mode = native.sqlMode ?? '';
    let sql: string;
    try {
      sql = rewriteCreate(d, to.db, placement, { ansiQuotes: /\bANSI_QUOTES\b/.test(mode), noBackslash: /\bNO_BACKSLASH_ESCAPES\b/.test(mode) }).sql;
    } catch (e) {
      return result(d, to.db, 'failed', (e as Error).message);
    }
    try {
      await client.withConnection((conn) => execAs(conn, sql, modeFor(mode, info.flavor), native.timeZone));
      return result(d, to.db, 'done');
    } catch (e) {
      if (e instanceof RetryableError) throw e;
      const msg = (e as Error).message;
      // A view over a view that is not created yet: try again after the others.
      if (d.kind === 'view' && !last && /\b1146\b|doesn't exist/.test(msg)) return undefined;
      return result(d, to.db, 'failed', msg);
    }
  };
  let pending = sorted;
  while (pending.length) {
    const again: DbObjectDef[] = [];
    for (const d of pending) {
      const r = await attempt(d, false);
      if (r) results.set(d, r);
      else again.push(d);
    }
    // A pass that made no progress: the last try reports the real error.
    if (again.length === pending.length) {
      for (const d of again) results.set(d, (await attempt(d, true))!);
      break;
    }
    pending = again;
  }
  return defs.map((d) => results.get(d)!);
}

/** Which of these `user@host` accounts exist (mysql.user; roles have an empty host). */
export async function accountsExist(client: MySqlClient, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const parsed = ids.map(splitAccount);
  const p = pairs(parsed.map((a) => ({ a: a.user, b: a.host })));
  const rows = await client.rows<{ user: string; host: string }>(`SELECT User AS user, Host AS host FROM mysql.user WHERE (User, Host) IN (${p.sql})`, p.values);
  const have = new Set(rows.map((r) => `${r.user}@${r.host}`));
  return ids.filter((_id, i) => have.has(`${parsed[i]!.user}@${parsed[i]!.host}`));
}

/** `user@host` → parts (the host never contains `@`; a user name may). */
export function splitAccount(id: string): { user: string; host: string } {
  const at = id.lastIndexOf('@');
  return at < 0 ? { user: id, host: '' } : { user: id.slice(0, at), host: id.slice(at + 1) };
}

export type { TableRef };

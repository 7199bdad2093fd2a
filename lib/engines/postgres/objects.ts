/**
 * PostgreSQL views, functions, procedures and triggers: read from the source catalog as
 * pg_dump would (pg_get_viewdef, pg_get_functiondef, pg_get_triggerdef; the session's
 * search_path is pg_catalog, so every user object in them is schema-qualified) and recreated on
 * the target under the mapped names.
 *
 * Rewriting is token by token, never inside string literals (dollar-quoted function bodies are
 * code and are rewritten too): `schema.` qualifiers naming a renamed selected schema name the
 * target schema, a trigger's table is its mapped target table. Objects are created by the
 * target's migration user and so owned by it (replace_definer true); with replace_definer false
 * each gets the source's owner back (`ALTER ... OWNER TO`), which needs that role on the target.
 *
 * Order: functions and procedures (with check_function_bodies off, as pg_dump restores them),
 * then views (retried while a view waits for another), then triggers when the step asks for
 * them. Extension members, aggregates, window functions and materialized views are not read.
 * An existing object is left alone (`existing`); a failure is reported per object.
 */
import type { DbObjectDef, DbObjectKind, ObjectContainer, ObjectPlacement, ObjectResult, ObjectScope } from '../engine.js';
import { RetryableError } from '../engine.js';
import { lit, qid, type PgClient } from './connection.js';

// ---------------------------------------------------------------------------------------------
// Lexer

export interface PgTok {
  t: 'ws' | 'comment' | 'str' | 'qid' | 'word' | 'punct' | 'dollar';
  s: string;
  /** Identifier value: quoted as written, bare folded to lower case. */
  v?: string;
  /** Dollar-quoted body: its tokens, and the delimiter. */
  body?: PgTok[];
  tag?: string;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;

export function lexPg(sql: string): PgTok[] {
  const out: PgTok[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    let j = i + 1;
    if (/\s/.test(c)) {
      while (j < n && /\s/.test(sql[j]!)) j++;
      out.push({ t: 'ws', s: sql.slice(i, j) });
    } else if (c === '-' && sql[i + 1] === '-') {
      j = sql.indexOf('\n', i);
      j = j < 0 ? n : j;
      out.push({ t: 'comment', s: sql.slice(i, j) });
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') (depth++, (j += 2));
        else if (sql[j] === '*' && sql[j + 1] === '/') (depth--, (j += 2));
        else j++;
      }
      out.push({ t: 'comment', s: sql.slice(i, j) });
    } else if (c === "'") {
      const prev = out[out.length - 1];
      const escapes = !!prev && prev.t === 'word' && /^[eE]$/.test(prev.s);
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") {
          j++;
          break;
        } else j++;
      }
      out.push({ t: 'str', s: sql.slice(i, j) });
    } else if (c === '"') {
      while (j < n) {
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') {
          j++;
          break;
        } else j++;
      }
      out.push({ t: 'qid', s: sql.slice(i, j), v: sql.slice(i + 1, j - 1).replace(/""/g, '"') });
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 65))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 65))![0];
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end < 0 ? n : end;
      out.push({ t: 'dollar', s: sql.slice(i, end < 0 ? n : end + tag.length), tag, body: lexPg(sql.slice(i + tag.length, stop)) });
      j = end < 0 ? n : end + tag.length;
    } else if (WORD_START.test(c)) {
      while (j < n && WORD.test(sql[j]!)) j++;
      out.push({ t: 'word', s: sql.slice(i, j), v: sql.slice(i, j).toLowerCase() });
    } else if (/[0-9$]/.test(c)) {
      while (j < n && /[0-9A-Za-z_.]/.test(sql[j]!) && !(sql[j] === '.' && sql[j + 1] === '.')) j++;
      out.push({ t: 'punct', s: sql.slice(i, j) });
    } else {
      out.push({ t: 'punct', s: c });
    }
    i = j;
  }
  return out;
}

export function joinPg(toks: PgTok[]): string {
  return toks.map((t) => (t.t === 'dollar' ? `${t.tag}${joinPg(t.body!)}${t.tag}` : t.s)).join('');
}

const sigOf = (toks: PgTok[]) => toks.flatMap((t, i) => (t.t === 'ws' || t.t === 'comment' ? [] : [i]));
const isIdent = (t: PgTok | undefined) => !!t && (t.t === 'qid' || t.t === 'word');
const kwPg = (t: PgTok | undefined, ...w: string[]) => !!t && t.t === 'word' && w.includes(t.v!.toUpperCase());

/** `schema.` qualifiers naming a renamed schema, in code and in dollar-quoted bodies. */
export function renameSchemas(toks: PgTok[], rename: (schema: string) => string | undefined): void {
  const sig = sigOf(toks);
  for (let k = 0; k < sig.length; k++) {
    const i = sig[k]!;
    const t = toks[i]!;
    if (t.t === 'dollar') {
      renameSchemas(t.body!, rename);
      continue;
    }
    if (!isIdent(t)) continue;
    const dot = toks[sig[k + 1]!];
    const next = toks[sig[k + 2]!];
    const prev = toks[sig[k - 1]!];
    if (!dot || dot.s !== '.' || !(isIdent(next) || next?.s === '*')) continue;
    if (prev && prev.s === '.') continue;
    const to = rename(t.v!);
    if (to !== undefined) toks[i] = { t: 'qid', s: qid(to), v: to };
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

interface PgNative {
  /** Views: pg_get_viewdef without the final semicolon, and reloptions. */
  body?: string;
  options?: string[];
  /** Functions: f or p; trigger: tgenabled. */
  prokind?: string;
  enabled?: string;
}

const NOT_EXTENSION = (cls: string, col: string) => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${cls}'::regclass AND d.objid = ${col} AND d.deptype = 'e')`;

export async function readObjects(client: PgClient, scope: ObjectScope): Promise<DbObjectDef[]> {
  const out: DbObjectDef[] = [];
  const want = new Set(scope.kinds);
  const dbs = new Set([...scope.containers.map((c) => c.db), ...scope.tables.map((t) => t.db)]);
  for (const db of dbs) {
    const schemas = scope.containers.filter((c) => c.db === db).map((c) => c.schema ?? 'public');
    const tables = scope.tables.filter((t) => t.db === db);
    const fnOids = new Set<string>();
    const routines = want.has('function') || want.has('procedure');
    // Triggers of the selected tables; their functions are read with the functions ("with their functions").
    if ((want.has('trigger') || routines) && tables.length) {
      const rows = await client.rows<{ name: string; schema: string; tbl: string; def: string; enabled: string; fn: string }>(
        db,
        `SELECT t.tgname AS name, n.nspname AS schema, c.relname AS tbl, pg_get_triggerdef(t.oid) AS def, t.tgenabled AS enabled, t.tgfoid::int8::text AS fn
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE NOT t.tgisinternal AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
          ORDER BY n.nspname, c.relname, t.tgname`,
        [tables.map((t) => t.schema ?? 'public'), tables.map((t) => t.table)],
      );
      for (const r of rows) {
        if (want.has('trigger')) out.push({ kind: 'trigger', db, schema: r.schema, name: r.name, table: { db, schema: r.schema, table: r.tbl }, ddl: r.def, native: { enabled: r.enabled } satisfies PgNative });
        fnOids.add(r.fn);
      }
    }
    if (routines && (schemas.length || fnOids.size)) {
      const rows = await client.rows<{ schema: string; name: string; kind: string; args: string; def: string | null; owner: string }>(
        db,
        `SELECT n.nspname AS schema, p.proname AS name, p.prokind AS kind, pg_get_function_identity_arguments(p.oid) AS args,
                CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END AS def, pg_get_userbyid(p.proowner) AS owner
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE (n.nspname = ANY($1::text[]) OR p.oid = ANY($2::oid[])) AND ${NOT_EXTENSION('pg_proc', 'p.oid')}
          ORDER BY n.nspname, p.proname, 4`,
        [schemas, [...fnOids]],
      );
      for (const r of rows) {
        const kind: DbObjectKind = r.kind === 'p' ? 'procedure' : 'function';
        if (!want.has(kind)) continue;
        const unsupported = r.kind === 'a' ? 'aggregate functions are not migrated' : r.kind === 'w' ? 'window functions are not migrated' : undefined;
        out.push({ kind, db, schema: r.schema, name: r.name, signature: r.args, definer: r.owner, ddl: unsupported ? undefined : (r.def ?? undefined), unreadable: unsupported, native: { prokind: r.kind } satisfies PgNative });
      }
    }
    if (want.has('view') && schemas.length) {
      const rows = await client.rows<{ schema: string; name: string; def: string; options: string | null; owner: string }>(
        db,
        `SELECT n.nspname AS schema, c.relname AS name, pg_get_viewdef(c.oid) AS def, array_to_json(c.reloptions)::text AS options, pg_get_userbyid(c.relowner) AS owner
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'v' AND n.nspname = ANY($1::text[]) AND ${NOT_EXTENSION('pg_class', 'c.oid')}
          ORDER BY n.nspname, c.relname`,
        [schemas],
      );
      for (const r of rows) {
        const body = r.def.trim().replace(/;$/, '');
        out.push({ kind: 'view', db, schema: r.schema, name: r.name, definer: r.owner, ddl: `CREATE VIEW ${qid(r.schema)}.${qid(r.name)} AS\n${body}`, native: { body, options: r.options ? (JSON.parse(r.options) as string[]) : [] } satisfies PgNative });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Creating

function schemaRename(placement: ObjectPlacement, db: string): (schema: string) => string | undefined {
  return (schema) => {
    const r = placement.renames.find((x) => x.from.db === db && (x.from.schema ?? 'public') === schema);
    return r && (r.to.schema ?? 'public') !== schema ? (r.to.schema ?? 'public') : undefined;
  };
}

/** Where an object goes: its renamed container, or (a trigger's function outside the selection) the same schema in the target database. */
function targetOf(placement: ObjectPlacement, d: DbObjectDef): ObjectContainer {
  const r = placement.renames.find((x) => x.from.db === d.db && (x.from.schema ?? 'public') === (d.schema ?? 'public'));
  if (r) return { db: r.to.db, schema: r.to.schema ?? 'public' };
  const db = placement.renames.find((x) => x.from.db === d.db)?.to.db ?? d.db;
  return { db, schema: d.schema ?? 'public' };
}

/** The CREATE statement for the target (exported for tests). */
export function targetDdl(d: DbObjectDef, placement: ObjectPlacement): string {
  const to = targetOf(placement, d);
  const rename = schemaRename(placement, d.db);
  if (d.kind === 'view') {
    const n = (d.native ?? {}) as PgNative;
    const toks = lexPg(n.body ?? '');
    renameSchemas(toks, rename);
    const options = (n.options ?? []).filter((o) => /^[a-z_]+=[A-Za-z0-9_.]+$/.test(o));
    return `CREATE VIEW ${qid(to.schema!)}.${qid(d.name)}${options.length ? ` WITH (${options.join(', ')})` : ''} AS\n${joinPg(toks)}`;
  }
  const toks = lexPg(d.ddl!);
  const sig = sigOf(toks);
  if (kwPg(toks[sig[0]!], 'CREATE') && kwPg(toks[sig[1]!], 'OR') && kwPg(toks[sig[2]!], 'REPLACE')) {
    // Never replace what is there (existence is checked first; this keeps a race from overwriting).
    for (let i = sig[0]! + 1; i <= sig[2]!; i++) toks[i] = { t: 'ws', s: '' };
  }
  if (d.kind === 'trigger') {
    // CREATE [CONSTRAINT] TRIGGER name {BEFORE|AFTER|INSTEAD OF} event [OR ...] ON table ...
    let k = 0;
    while (k < sig.length && !kwPg(toks[sig[k]!], 'ON')) k++;
    const from = sig[k + 1];
    if (from === undefined || !isIdent(toks[from])) throw new Error(`cannot find the table of trigger ${d.name}`);
    let end = k + 1;
    if (toks[sig[end + 1]!]?.s === '.' && isIdent(toks[sig[end + 2]!])) end += 2;
    const mapped = d.table ? placement.table(d.table) : undefined;
    if (!mapped) throw new Error(`the table of trigger ${d.name} is not migrated`);
    toks[from] = { t: 'qid', s: `${qid(mapped.schema ?? 'public')}.${qid(mapped.table)}` };
    for (let i = from + 1; i <= sig[end]!; i++) toks[i] = { t: 'ws', s: '' };
    // Rename the function's schema (and nothing of the table, already mapped).
    const rest = toks.slice(sig[end]! + 1);
    renameSchemas(rest, rename);
    return joinPg([...toks.slice(0, sig[end]! + 1), ...rest]);
  }
  renameSchemas(toks, rename);
  return joinPg(toks);
}

async function ensureDatabase(client: PgClient, db: string): Promise<void> {
  const [found] = await client.rows(client.defaultDb, 'SELECT 1 AS x FROM pg_database WHERE datname = $1', [db]);
  if (found) return;
  try {
    await client.exec(client.defaultDb, `CREATE DATABASE ${qid(db)}`);
  } catch (e) {
    if ((e as { cause?: { code?: string } }).cause?.code !== '42P04') throw e;
  }
}

async function exists(client: PgClient, d: DbObjectDef, to: ObjectContainer, placement: ObjectPlacement): Promise<boolean> {
  if (d.kind === 'view') {
    const [r] = await client.rows<{ ok: string }>(to.db, 'SELECT (to_regclass($1) IS NOT NULL)::text AS ok', [`${qid(to.schema!)}.${qid(d.name)}`]);
    return r?.ok === 'true';
  }
  if (d.kind === 'trigger') {
    const t = placement.table(d.table!)!;
    const rows = await client.rows(
      to.db,
      'SELECT 1 AS x FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND g.tgname = $3',
      [t.schema ?? 'public', t.table, d.name],
    );
    return rows.length > 0;
  }
  const args = lexPg(d.signature ?? '');
  renameSchemas(args, schemaRename(placement, d.db));
  const rows = await client.rows(
    to.db,
    'SELECT 1 AS x FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2 AND pg_get_function_identity_arguments(p.oid) = $3',
    [to.schema, d.name, joinPg(args)],
  );
  return rows.length > 0;
}

const ORDER: DbObjectKind[] = ['function', 'procedure', 'view', 'trigger', 'event'];

export async function createObjects(client: PgClient, defs: DbObjectDef[], placement: ObjectPlacement): Promise<ObjectResult[]> {
  const results = new Map<DbObjectDef, ObjectResult>();
  const ready = new Set<string>();
  const sorted = [...defs].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  // Kept owners must exist on the target; an object whose owner does not stays the migration user's (and says so).
  const owners = placement.replaceDefiner ? new Set<string>() : new Set(await accountsExist(client, [...new Set(defs.map((d) => d.definer).filter((x): x is string => !!x))]));
  const result = (d: DbObjectDef, to: ObjectContainer, status: ObjectResult['status'], message?: string): ObjectResult => ({
    kind: d.kind,
    source: { db: d.db, schema: d.schema, name: d.name, ...(d.signature !== undefined ? { signature: d.signature } : {}) },
    target: { db: to.db, schema: to.schema, name: d.name },
    status,
    ...(message ? { message } : {}),
  });
  const attempt = async (d: DbObjectDef, last: boolean): Promise<ObjectResult | undefined> => {
    const to = targetOf(placement, d);
    if (!d.ddl) return result(d, to, 'failed', d.unreadable ?? 'the definition could not be read');
    if (!ready.has(`${to.db}\u0000${to.schema}`)) {
      await ensureDatabase(client, to.db);
      await client.exec(to.db, `CREATE SCHEMA IF NOT EXISTS ${qid(to.schema!)}`);
      ready.add(`${to.db}\u0000${to.schema}`);
    }
    if (await exists(client, d, to, placement)) return result(d, to, 'existing', `${d.kind} ${to.schema}.${d.name} already exists on the target; left as it is`);
    let sql: string;
    try {
      sql = targetDdl(d, placement);
    } catch (e) {
      return result(d, to, 'failed', (e as Error).message);
    }
    const n = (d.native ?? {}) as PgNative;
    const target = `${qid(to.schema!)}.${qid(d.name)}`;
    try {
      await client.transaction(to.db, async (c) => {
        await c.query('SET LOCAL check_function_bodies = off');
        await c.query(sql);
        if (d.kind === 'trigger' && n.enabled && n.enabled !== 'O') {
          const t = placement.table(d.table!)!;
          const how = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' }[n.enabled as 'D' | 'R' | 'A'];
          if (how) await c.query(`ALTER TABLE ${qid(t.schema ?? 'public')}.${qid(t.table)} ${how} TRIGGER ${qid(d.name)}`);
        }
        if (!placement.replaceDefiner && d.definer && d.kind !== 'trigger' && owners.has(d.definer)) {
          const args = lexPg(d.signature ?? '');
          renameSchemas(args, schemaRename(placement, d.db));
          const what = d.kind === 'view' ? `VIEW ${target}` : `${d.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${target}(${joinPg(args)})`;
          await c.query(`ALTER ${what} OWNER TO ${qid(d.definer)}`);
        }
      });
      const orphan = !placement.replaceDefiner && d.definer && d.kind !== 'trigger' && !owners.has(d.definer);
      return result(d, to, 'done', orphan ? `its owner ${d.definer} does not exist on the target: owned by the migration user` : undefined);
    } catch (e) {
      if (e instanceof RetryableError) throw e;
      const code = (e as { cause?: { code?: string } }).cause?.code;
      if (d.kind === 'view' && !last && (code === '42P01' || code === '42883' || code === '3F000')) return undefined;
      return result(d, to, 'failed', (e as Error).message);
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
    if (again.length === pending.length) {
      for (const d of again) results.set(d, (await attempt(d, true))!);
      break;
    }
    pending = again;
  }
  return defs.map((d) => results.get(d)!);
}

export async function accountsExist(client: PgClient, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await client.rows<{ name: string }>(client.defaultDb, 'SELECT rolname AS name FROM pg_roles WHERE rolname = ANY($1::text[])', [ids]);
  const have = new Set(rows.map((r) => r.name));
  return ids.filter((i) => have.has(i));
}

export { lit };

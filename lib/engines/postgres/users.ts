/**
 * PostgreSQL roles: listed for the user, read for migration, recreated on the target with their
 * attributes, password hash, memberships and privileges on the migrated objects.
 *
 * `CREATE ROLE ... PASSWORD '<hash>'` stores an md5 or SCRAM-SHA-256 verifier as it is, so the
 * role keeps its password. The hash is in pg_authid, which only a superuser can read: without
 * that, a LOGIN role needs a new password (is_set_password) and fails otherwise. Memberships are
 * granted when the parent role exists on the target (else reported). Privileges are read from
 * the ACLs of the migrated database, schemas, relations (and their columns) and routines and
 * granted under the target names; privileges on anything that is not on the target are reported
 * as skipped. The hash lives in memory for one step, registered with the log redaction.
 */
import { registerSecret } from '../../logger.js';
import type { AccountDef, AccountResult, ObjectPlacement, ObjectScope, SourceAccount } from '../engine.js';
import { RetryableError } from '../engine.js';
import { lit, qid, type PgClient } from './connection.js';
import { joinPg, lexPg, renameSchemas } from './objects.js';

interface Grant {
  on: 'database' | 'schema' | 'table' | 'sequence' | 'function' | 'procedure' | 'column';
  schema?: string;
  name?: string;
  /** Routines: identity arguments. Columns: the column. */
  args?: string;
  column?: string;
  privilege: string;
  grantable: boolean;
}

interface PgAccountNative {
  attrs: { superuser: boolean; inherit: boolean; createrole: boolean; createdb: boolean; login: boolean; replication: boolean; bypassrls: boolean; connlimit: number; validUntil: string | null };
  /** undefined: unreadable (pg_authid needs superuser); null: the role has no password. */
  hash?: string | null;
  parents: string[];
  grants: Grant[];
  /** The source database (for database privileges). */
  db: string;
}

const bool = (v: string | null | undefined) => v === 'true' || v === 't';

async function hashesReadable(client: PgClient): Promise<boolean> {
  const [r] = await client.rows<{ ok: string }>(client.defaultDb, "SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT')::text AS ok");
  return r?.ok === 'true';
}

export async function listAccounts(client: PgClient, limit = 500): Promise<SourceAccount[]> {
  const readable = await hashesReadable(client);
  const rows = await client.rows<{ oid: string; rolname: string; login: string; attrs: string; memberof: string | null }>(
    client.defaultDb,
    `SELECT r.oid::int8::text AS oid, r.rolname, r.rolcanlogin::text AS login,
            concat_ws(' ', CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                      CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
                      CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END, CASE WHEN r.rolcanlogin THEN 'LOGIN' END) AS attrs,
            (SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON m.roleid = b.oid WHERE m.member = r.oid) AS memberof
       FROM pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY r.rolname LIMIT $1`,
    [limit],
  );
  return rows.map((r) => {
    const reason = r.oid === '10' ? 'the bootstrap superuser: every server has its own' : undefined;
    return {
      id: r.rolname,
      name: r.rolname,
      isRole: !bool(r.login),
      canLogin: bool(r.login),
      transferable: !reason,
      ...(reason ? { reason } : {}),
      privileges: r.attrs ? [r.attrs] : [],
      roles: r.memberof ? r.memberof.split(',') : [],
      hashReadable: readable,
    };
  });
}

export async function readAccounts(client: PgClient, ids: string[], scope: ObjectScope): Promise<AccountDef[]> {
  if (ids.length === 0) return [];
  const db = scope.containers[0]?.db ?? scope.tables[0]?.db ?? client.defaultDb;
  const readable = await hashesReadable(client);
  const roles = await client.rows<{ oid: string; name: string; sup: string; inh: string; cr: string; cd: string; login: string; repl: string; bypass: string; conn: string; until: string | null; parents: string | null }>(
    db,
    `SELECT r.oid::int8::text AS oid, r.rolname AS name, r.rolsuper::text AS sup, r.rolinherit::text AS inh, r.rolcreaterole::text AS cr, r.rolcreatedb::text AS cd,
            r.rolcanlogin::text AS login, r.rolreplication::text AS repl, r.rolbypassrls::text AS bypass, r.rolconnlimit::text AS conn, r.rolvaliduntil::text AS until,
            (SELECT json_agg(b.rolname ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid)::text AS parents
       FROM pg_roles r WHERE r.rolname = ANY($1::text[])`,
    [ids],
  );
  const oids = roles.map((r) => r.oid);
  const schemas = [...new Set([...scope.containers.map((c) => c.schema ?? 'public'), ...scope.tables.map((t) => t.schema ?? 'public')])];
  const wholeSchemas = scope.containers.map((c) => c.schema ?? 'public');
  const tables = scope.tables.filter((t) => t.db === db);
  type AclRow = { grantee: string; on: string; schema: string | null; name: string | null; args: string | null; col: string | null; priv: string; grantable: string };
  const acl = await client.rows<AclRow>(
    db,
    `SELECT a.grantee::int8::text AS grantee, 'database' AS on, NULL AS schema, NULL AS name, NULL AS args, NULL AS col, a.privilege_type AS priv, a.is_grantable::text AS grantable
       FROM pg_database d, LATERAL aclexplode(d.datacl) a WHERE d.datname = current_database() AND a.grantee = ANY($1::oid[])
     UNION ALL
     SELECT a.grantee::int8::text, 'schema', n.nspname, NULL, NULL, NULL, a.privilege_type, a.is_grantable::text
       FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a WHERE n.nspname = ANY($2::text[]) AND a.grantee = ANY($1::oid[])
     UNION ALL
     SELECT a.grantee::int8::text, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, n.nspname, c.relname, NULL, NULL, a.privilege_type, a.is_grantable::text
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL aclexplode(c.relacl) a
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND a.grantee = ANY($1::oid[])
        AND (n.nspname = ANY($3::text[]) OR (n.nspname, c.relname) IN (SELECT * FROM unnest($4::text[], $5::text[])))
     UNION ALL
     SELECT a.grantee::int8::text, 'column', n.nspname, c.relname, NULL, att.attname, a.privilege_type, a.is_grantable::text
       FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL aclexplode(att.attacl) a
      WHERE att.attnum > 0 AND NOT att.attisdropped AND a.grantee = ANY($1::oid[])
        AND (n.nspname = ANY($3::text[]) OR (n.nspname, c.relname) IN (SELECT * FROM unnest($4::text[], $5::text[])))
     UNION ALL
     SELECT a.grantee::int8::text, CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), NULL, a.privilege_type, a.is_grantable::text
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, LATERAL aclexplode(p.proacl) a
      WHERE n.nspname = ANY($3::text[]) AND p.prokind IN ('f', 'p') AND a.grantee = ANY($1::oid[])`,
    [oids, schemas, wholeSchemas, tables.map((t) => t.schema ?? 'public'), tables.map((t) => t.table)],
  );
  const hashes = new Map<string, string | null>();
  if (readable) {
    const rows = await client.rows<{ name: string; pw: string | null }>(db, 'SELECT rolname AS name, rolpassword AS pw FROM pg_authid WHERE rolname = ANY($1::text[])', [ids]);
    for (const r of rows) {
      registerSecret(r.pw ?? undefined);
      hashes.set(r.name, r.pw);
    }
  }
  return roles.map((r): AccountDef => {
    const native: PgAccountNative = {
      attrs: { superuser: bool(r.sup), inherit: bool(r.inh), createrole: bool(r.cr), createdb: bool(r.cd), login: bool(r.login), replication: bool(r.repl), bypassrls: bool(r.bypass), connlimit: Number(r.conn), validUntil: r.until },
      ...(readable ? { hash: hashes.get(r.name) ?? null } : {}),
      parents: r.parents ? (JSON.parse(r.parents) as string[]) : [],
      grants: acl
        .filter((a) => a.grantee === r.oid)
        .map((a) => ({ on: a.on as Grant['on'], ...(a.schema !== null ? { schema: a.schema } : {}), ...(a.name !== null ? { name: a.name } : {}), ...(a.args !== null ? { args: a.args } : {}), ...(a.col !== null ? { column: a.col } : {}), privilege: a.priv, grantable: bool(a.grantable) })),
      db,
    };
    return { id: r.name, name: r.name, isRole: !bool(r.login), canLogin: bool(r.login), native: native as unknown as Record<string, unknown> };
  });
}

function createRoleSql(d: AccountDef, password: string | undefined): { sql?: string; error?: string } {
  const n = d.native as unknown as PgAccountNative;
  const a = n.attrs;
  const parts = [
    a.superuser ? 'SUPERUSER' : 'NOSUPERUSER',
    a.inherit ? 'INHERIT' : 'NOINHERIT',
    a.createrole ? 'CREATEROLE' : 'NOCREATEROLE',
    a.createdb ? 'CREATEDB' : 'NOCREATEDB',
    a.login ? 'LOGIN' : 'NOLOGIN',
    a.replication ? 'REPLICATION' : 'NOREPLICATION',
    a.bypassrls ? 'BYPASSRLS' : 'NOBYPASSRLS',
    `CONNECTION LIMIT ${Number.isInteger(a.connlimit) ? a.connlimit : -1}`,
  ];
  if (a.validUntil) parts.push(`VALID UNTIL ${lit(a.validUntil)}`);
  if (password !== undefined) parts.push(`PASSWORD ${lit(password)}`);
  else if (n.hash) parts.push(`PASSWORD ${lit(n.hash)}`);
  else if (n.hash === undefined && a.login) {
    return { error: 'the source user cannot read password hashes (pg_authid needs a superuser): set a new password for it (is_set_password)' };
  }
  return { sql: `CREATE ROLE ${qid(d.name)} WITH ${parts.join(' ')}` };
}

export async function createAccounts(client: PgClient, defs: AccountDef[], opts: { passwords: Map<string, string> }): Promise<AccountResult[]> {
  const existing = new Set(
    (await client.rows<{ name: string }>(client.defaultDb, 'SELECT rolname AS name FROM pg_roles WHERE rolname = ANY($1::text[])', [defs.map((d) => d.name)])).map((r) => r.name),
  );
  const out: AccountResult[] = [];
  for (const d of defs) {
    if (existing.has(d.name)) {
      out.push({ id: d.id, isRole: d.isRole, status: 'existing', message: `role ${d.name} already exists on the target; left as it is` });
      continue;
    }
    const password = opts.passwords.get(d.id);
    registerSecret(password);
    const { sql, error } = createRoleSql(d, password);
    if (!sql) {
      out.push({ id: d.id, isRole: d.isRole, status: 'failed', message: error });
      continue;
    }
    try {
      await client.exec(client.defaultDb, sql);
      out.push({ id: d.id, isRole: d.isRole, status: 'done' });
    } catch (e) {
      if (e instanceof RetryableError) throw e;
      const n = d.native as unknown as PgAccountNative;
      let msg = (e as Error).message;
      for (const s of [n.hash, password]) if (s && s.length >= 4) msg = msg.split(s).join('***');
      out.push({ id: d.id, isRole: d.isRole, status: 'failed', message: msg });
    }
  }
  return out;
}

/** The GRANT for the target, or undefined when its object is not migrated. */
function grantSql(g: Grant, role: string, placement: ObjectPlacement, sourceDb: string): { db: string; sql: string; check?: string } | undefined {
  const dbRename = placement.renames.find((r) => r.from.db === sourceDb);
  if (!dbRename) return undefined;
  const targetDb = dbRename.to.db;
  const opt = g.grantable ? ' WITH GRANT OPTION' : '';
  if (g.on === 'database') return { db: targetDb, sql: `GRANT ${g.privilege} ON DATABASE ${qid(targetDb)} TO ${qid(role)}${opt}` };
  const container = placement.renames.find((r) => r.from.db === sourceDb && (r.from.schema ?? 'public') === g.schema);
  if (!container) return undefined;
  const schema = container.to.schema ?? 'public';
  if (g.on === 'schema') return { db: targetDb, sql: `GRANT ${g.privilege} ON SCHEMA ${qid(schema)} TO ${qid(role)}${opt}` };
  if (g.on === 'function' || g.on === 'procedure') {
    if (!container.whole) return undefined;
    const args = lexPg(g.args ?? '');
    renameSchemas(args, (s) => placement.renames.find((r) => r.from.db === sourceDb && (r.from.schema ?? 'public') === s)?.to.schema);
    return { db: targetDb, sql: `GRANT ${g.privilege} ON ${g.on.toUpperCase()} ${qid(schema)}.${qid(g.name!)}(${joinPg(args)}) TO ${qid(role)}${opt}` };
  }
  const mapped = placement.table({ db: sourceDb, schema: g.schema, table: g.name! });
  const rel = mapped ? `${qid(mapped.schema ?? 'public')}.${qid(mapped.table)}` : container.whole ? `${qid(schema)}.${qid(g.name!)}` : undefined;
  if (!rel) return undefined;
  if (g.on === 'column') return { db: targetDb, sql: `GRANT ${g.privilege} (${qid(g.column!)}) ON TABLE ${rel} TO ${qid(role)}${opt}`, check: rel };
  return { db: targetDb, sql: `GRANT ${g.privilege} ON ${g.on === 'sequence' ? 'SEQUENCE' : 'TABLE'} ${rel} TO ${qid(role)}${opt}`, check: rel };
}

const describe = (g: Grant) => `${g.privilege} ON ${g.on.toUpperCase()} ${[g.schema, g.name].filter(Boolean).join('.')}${g.args !== undefined ? `(${g.args})` : ''}${g.column ? ` (${g.column})` : ''}`;

export async function grantAccounts(client: PgClient, defs: AccountDef[], placement: ObjectPlacement): Promise<AccountResult[]> {
  const out: AccountResult[] = [];
  const roles = new Set(
    (await client.rows<{ name: string }>(client.defaultDb, 'SELECT rolname AS name FROM pg_roles WHERE rolname = ANY($1::text[])', [[...new Set(defs.flatMap((d) => (d.native as unknown as PgAccountNative).parents))]])).map((r) => r.name),
  );
  for (const d of defs) {
    const n = d.native as unknown as PgAccountNative;
    const failed: string[] = [];
    const skipped: string[] = [];
    const missingParents: string[] = [];
    for (const parent of n.parents) {
      if (!roles.has(parent)) {
        missingParents.push(parent);
        continue;
      }
      try {
        await client.exec(client.defaultDb, `GRANT ${qid(parent)} TO ${qid(d.name)}`);
      } catch (e) {
        if (e instanceof RetryableError) throw e;
        failed.push(`membership in ${parent}: ${(e as Error).message}`);
      }
    }
    for (const g of n.grants) {
      const s = grantSql(g, d.name, placement, n.db);
      if (!s) {
        skipped.push(describe(g));
        continue;
      }
      if (s.check) {
        const [r] = await client.rows<{ ok: string }>(s.db, 'SELECT (to_regclass($1) IS NOT NULL)::text AS ok', [s.check]);
        if (r?.ok !== 'true') {
          skipped.push(describe(g));
          continue;
        }
      }
      try {
        await client.exec(s.db, s.sql);
      } catch (e) {
        if (e instanceof RetryableError) throw e;
        const code = (e as { cause?: { code?: string } }).cause?.code;
        if (code === '42883' || code === '42P01' || code === '3F000') skipped.push(describe(g));
        else failed.push(`${describe(g)}: ${(e as Error).message}`);
      }
    }
    out.push({
      id: d.id,
      isRole: d.isRole,
      status: failed.length ? 'failed' : 'done',
      ...(failed.length ? { message: `grants failed: ${failed.join('; ')}` } : {}),
      ...(skipped.length ? { skipped } : {}),
      ...(missingParents.length ? { missingParents } : {}),
    });
  }
  return out;
}

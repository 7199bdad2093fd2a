/**
 * MySQL/MariaDB accounts and roles: listed for the user, read for migration, recreated on the
 * target with the same authentication and their grants rewritten to the target names.
 *
 * An account is recreated from the source's own `SHOW CREATE USER` (authentication plugin and
 * password hash: MariaDB `IDENTIFIED BY PASSWORD '<hash>'` / `IDENTIFIED VIA plugin USING ...`,
 * MySQL `IDENTIFIED WITH plugin AS ...`, plus REQUIRE, resource limits, locking), so the account
 * keeps its password without anyone knowing it; with a new password the authentication clause is
 * replaced by `IDENTIFIED BY ?`. Roles (MariaDB) are created with CREATE ROLE. Grants come from
 * `SHOW GRANTS`: global ones as they are, database/table/routine ones only on migrated objects
 * and with the target names (the others are reported as skipped), role grants and default roles
 * as they are.
 *
 * The hash is a secret: it is read at migration time, kept in memory only, registered with the
 * log redaction, stripped from every listed grant, and never part of an error message.
 */
import { registerSecret } from '../../logger.js';
import type { AccountDef, AccountResult, ObjectPlacement, ObjectScope, SourceAccount } from '../engine.js';
import { RetryableError } from '../engine.js';
import { qid, type MySqlClient } from './connection.js';
import { join, lex, splitAccount, type Tok } from './objects.js';

/** Accounts every server has or that belong to the server itself. */
const SYSTEM_USERS = new Set(['root', 'mariadb.sys', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'PUBLIC']);

const account = (user: string, host: string, isRole: boolean) => (isRole ? qid(user) : `${qid(user)}@${qid(host)}`);

/** Remove credentials from a SHOW GRANTS line (MariaDB prints the hash in the USAGE grant). */
export function withoutCredentials(grant: string): string {
  return grant
    .replace(/\s+IDENTIFIED\s+BY\s+PASSWORD\s+'(?:[^'\\]|\\.|'')*'/gi, '')
    .replace(/\s+IDENTIFIED\s+(?:VIA|WITH)\s+[\s\S]*?(?=\s+(?:REQUIRE|WITH\s+(?:MAX_|GRANT))|$)/gi, '');
}

interface UserRow {
  user: string;
  host: string;
  isRole: string | number | null;
}

/** Accounts and roles, with their grants (credentials removed). */
export async function listAccounts(client: MySqlClient, limit = 500): Promise<SourceAccount[]> {
  const info = await client.serverInfo();
  const rows =
    info.flavor === 'mariadb'
      ? await client.rows<UserRow>("SELECT User AS user, Host AS host, is_role AS isRole FROM mysql.user ORDER BY User, Host LIMIT ?", [limit])
      : await client.rows<UserRow>('SELECT User AS user, Host AS host, NULL AS isRole FROM mysql.user ORDER BY User, Host LIMIT ?', [limit]);
  const out: SourceAccount[] = [];
  for (const r of rows) {
    const isRole = r.isRole === 'Y' || r.isRole === 1;
    let grants: string[] = [];
    let readable = true;
    try {
      grants = (await client.arrays(isRole ? 'SHOW GRANTS FOR ?' : 'SHOW GRANTS FOR ?@?', isRole ? [r.user] : [r.user, r.host])).rows.map((x) => withoutCredentials(String(x[0])));
    } catch (e) {
      if (e instanceof RetryableError) throw e;
      readable = false;
    }
    if (!isRole && readable) {
      try {
        await client.arrays('SHOW CREATE USER ?@?', [r.user, r.host]);
      } catch (e) {
        if (e instanceof RetryableError) throw e;
        readable = false;
      }
    }
    const roles = grants.map((g) => /^GRANT\s+`((?:[^`]|``)+)`(?:@`[^`]*`)?\s+TO\s/i.exec(g)?.[1]?.replace(/``/g, '`')).filter((x): x is string => !!x);
    const reason = r.user === '' ? 'anonymous accounts are not migrated' : SYSTEM_USERS.has(r.user) ? 'a system account: every server has its own' : !readable ? 'the source user cannot read this account (needs SELECT on the mysql database)' : undefined;
    out.push({
      id: isRole ? r.user : `${r.user}@${r.host}`,
      name: r.user,
      ...(isRole ? {} : { host: r.host }),
      isRole,
      canLogin: !isRole,
      transferable: !reason,
      ...(reason ? { reason } : {}),
      privileges: grants,
      roles,
      hashReadable: readable,
    });
  }
  return out;
}

interface MyNative {
  /** SHOW CREATE USER output: carries the password hash. */
  create?: string;
  grants: string[];
}

/** The accounts with SHOW CREATE USER and SHOW GRANTS, read now (ids not found are absent). */
export async function readAccounts(client: MySqlClient, ids: string[], _scope: ObjectScope): Promise<AccountDef[]> {
  const info = await client.serverInfo();
  const out: AccountDef[] = [];
  await client.withConnection(async (conn) => {
    const q = (sql: string, values: unknown[] = []) => new Promise<unknown[][]>((resolve, reject) => conn.query({ sql, values, rowsAsArray: true }, (e, r) => (e ? reject(e) : resolve(r as unknown[][]))));
    // MySQL 8 prints binary hashes (caching_sha2_password) as hex only when asked.
    if (info.flavor === 'mysql') await q('SET SESSION print_identified_with_as_hex = ON').catch(() => undefined);
    try {
      for (const id of ids) {
        const { user, host } = splitAccount(id);
        const isRole = !id.includes('@');
        const found = isRole
          ? await q(info.flavor === 'mariadb' ? "SELECT 1 FROM mysql.user WHERE User = ? AND is_role = 'Y'" : "SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [user])
          : await q('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [user, host]);
        if (found.length === 0) continue;
        const native: MyNative = { grants: [] };
        if (!isRole || info.flavor === 'mysql') {
          const [row] = await q('SHOW CREATE USER ?@?', [user, isRole ? '%' : host]);
          native.create = String(row![0]);
          for (const secret of secretsIn(native.create)) registerSecret(secret);
        }
        native.grants = (await q(isRole && info.flavor === 'mariadb' ? 'SHOW GRANTS FOR ?' : 'SHOW GRANTS FOR ?@?', isRole && info.flavor === 'mariadb' ? [user] : [user, isRole ? '%' : host])).map((r) => withoutCredentials(String(r[0])));
        out.push({ id, name: user, ...(isRole ? {} : { host }), isRole: isRole && info.flavor === 'mariadb', canLogin: !isRole, native: native as unknown as Record<string, unknown> });
      }
    } finally {
      if (info.flavor === 'mysql') await q('SET SESSION print_identified_with_as_hex = DEFAULT').catch(() => undefined);
    }
  });
  return out;
}

/** Quoted literals after PASSWORD / AS / USING: the hashes in a CREATE USER statement. */
function secretsIn(create: string): string[] {
  const out: string[] = [];
  const re = /\b(?:PASSWORD|AS|USING)\s+('(?:[^'\\]|\\.|'')*'|0x[0-9A-Fa-f]+)/gi;
  for (let m = re.exec(create); m; m = re.exec(create)) out.push(m[1]!.replace(/^'|'$/g, ''));
  return out;
}

/** Words that end the authentication clause of CREATE USER. */
const AFTER_AUTH = ['REQUIRE', 'ACCOUNT', 'DEFAULT', 'COMMENT', 'ATTRIBUTE', 'FAILED_LOGIN_ATTEMPTS', 'PASSWORD_LOCK_TIME'];

/**
 * The CREATE USER statement for the target: the source's own, with the authentication clause
 * replaced by `IDENTIFIED BY <new password>` when one is given, and MariaDB's `IDENTIFIED BY
 * PASSWORD` spelled as MySQL understands it on a MySQL target.
 */
export function createStatement(create: string, opts: { password?: string; targetFlavor: string; escape: (v: string) => string }): string {
  const toks = lex(create);
  const sig: number[] = [];
  toks.forEach((t, i) => t.t !== 'ws' && t.t !== 'comment' && sig.push(i));
  const word = (k: number) => (toks[sig[k]!]?.t === 'word' ? toks[sig[k]!]!.s.toUpperCase() : undefined);
  const start = sig.findIndex((i, k) => word(k) === 'IDENTIFIED' && i >= 0);
  if (opts.password === undefined) {
    if (opts.targetFlavor === 'mysql' && start >= 0 && word(start + 1) === 'BY' && word(start + 2) === 'PASSWORD') {
      toks[sig[start + 1]!] = { t: 'word', s: 'WITH mysql_native_password' };
      toks[sig[start + 2]!] = { t: 'word', s: 'AS' };
    }
    return join(toks);
  }
  const clause = `IDENTIFIED BY ${opts.escape(opts.password)}`;
  if (start < 0) {
    // No authentication: put it right after the account name.
    const hostAt = sig.findIndex((_, k) => toks[sig[k]!]!.s === '@');
    const after = hostAt >= 0 ? sig[hostAt + 1]! : sig[2]!;
    return join(toks.slice(0, after + 1)) + ' ' + clause + join(toks.slice(after + 1));
  }
  let end = start + 1;
  for (; end < sig.length; end++) {
    const w = word(end);
    if (w && AFTER_AUTH.includes(w)) break;
    // MySQL: PASSWORD EXPIRE / HISTORY / REUSE / REQUIRE; WITH MAX_... resource limits.
    if (w === 'PASSWORD' && ['EXPIRE', 'HISTORY', 'REUSE', 'REQUIRE'].includes(word(end + 1) ?? '')) break;
    if (w === 'WITH' && end > start + 1 && /^MAX_/.test(word(end + 1) ?? '')) break;
  }
  const from = sig[start]!;
  const to = end < sig.length ? sig[end]! : toks.length;
  return join(toks.slice(0, from)) + clause + (to < toks.length ? ' ' + join(toks.slice(to)) : '');
}

async function existingAccounts(client: MySqlClient, defs: AccountDef[]): Promise<Set<string>> {
  const have = new Set<string>();
  for (const d of defs) {
    const rows = d.isRole ? await client.rows('SELECT 1 AS x FROM mysql.user WHERE User = ? AND Host = ?', [d.name, '']) : await client.rows('SELECT 1 AS x FROM mysql.user WHERE User = ? AND Host = ?', [d.name, d.host ?? '%']);
    if (rows.length) have.add(d.id);
  }
  return have;
}

export async function createAccounts(client: MySqlClient, defs: AccountDef[], opts: { passwords: Map<string, string> }): Promise<AccountResult[]> {
  const info = await client.serverInfo();
  const have = await existingAccounts(client, defs);
  const results = new Map<string, AccountResult>();
  const ordered = [...defs].sort((a, b) => Number(b.isRole) - Number(a.isRole));
  for (const d of ordered) {
    if (have.has(d.id)) {
      results.set(d.id, { id: d.id, isRole: d.isRole, status: 'existing', message: `${d.isRole ? 'role' : 'account'} ${d.id} already exists on the target; left as it is` });
      continue;
    }
    const native = d.native as unknown as MyNative;
    const password = opts.passwords.get(d.id);
    registerSecret(password);
    let sql: string;
    if (d.isRole) sql = `CREATE ROLE ${qid(d.name)}`;
    else if (native.create) sql = createStatement(native.create, { password, targetFlavor: info.flavor, escape: escapeString });
    else {
      results.set(d.id, { id: d.id, isRole: d.isRole, status: 'failed', message: 'its definition could not be read on the source' });
      continue;
    }
    try {
      await client.exec(sql);
      results.set(d.id, { id: d.id, isRole: d.isRole, status: 'done' });
    } catch (e) {
      if (e instanceof RetryableError) throw e;
      results.set(d.id, { id: d.id, isRole: d.isRole, status: 'failed', message: scrub((e as Error).message, native.create, password) });
    }
  }
  return defs.map((d) => results.get(d.id)!);
}

/** A string literal as mysql2 escapes values (the session has backslash escapes on). */
function escapeString(v: string): string {
  return "'" + v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\x1a/g, '\\Z') + "'";
}

function scrub(message: string, create: string | undefined, password: string | undefined): string {
  let out = message;
  for (const s of [...(create ? secretsIn(create) : []), ...(password ? [password] : [])]) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** How one grant line maps to the target: rewritten, kept, or skipped (not a migrated object). */
export function rewriteGrant(grant: string, placement: ObjectPlacement): { sql?: string; skipped?: string } {
  const toks = lex(grant);
  const sig: number[] = [];
  toks.forEach((t, i) => t.t !== 'ws' && t.t !== 'comment' && sig.push(i));
  const tok = (k: number) => toks[sig[k]!];
  const w = (k: number) => (tok(k)?.t === 'word' ? tok(k)!.s.toUpperCase() : undefined);
  if (w(0) === 'SET') return { sql: grant }; // SET DEFAULT ROLE
  if (w(0) !== 'GRANT') return { skipped: grant };
  // GRANT <privs> ON [TABLE|PROCEDURE|FUNCTION|PACKAGE [BODY]] <db>.<obj> TO ...; a role grant has no ON.
  let k = 1;
  let depth = 0;
  for (; k < sig.length; k++) {
    const s = tok(k)!.s;
    if (s === '(') depth++;
    else if (s === ')') depth--;
    else if (depth === 0 && (w(k) === 'ON' || w(k) === 'TO')) break;
  }
  if (w(k) !== 'ON') return { sql: grant };
  if (w(1) === 'PROXY') return { skipped: grant };
  k++;
  let objectKind = 'TABLE';
  if (['TABLE', 'PROCEDURE', 'FUNCTION', 'PACKAGE'].includes(w(k) ?? '')) {
    objectKind = w(k)!;
    k++;
    if (w(k) === 'BODY') k++;
  }
  const first = tok(k);
  const dot = tok(k + 1);
  const second = tok(k + 2);
  if (!first) return { skipped: grant };
  if (first.s === '*' && (!dot || dot.s !== '.')) return { sql: grant }; // ON * (current database): kept
  if (first.s === '*') return { sql: grant }; // *.*: global
  if (!dot || dot.s !== '.' || !second) return { skipped: grant };
  const db = unescapeDb(first.v ?? first.s);
  const rename = placement.renames.find((r) => r.from.db === db);
  if (!rename) return { skipped: grant };
  if (second.s === '*') {
    toks[sig[k]!] = { t: 'qid', s: qid(escapeLike(rename.to.db, first.v ?? first.s)) };
    return { sql: join(toks) };
  }
  const name = second.v ?? second.s;
  const table = objectKind === 'TABLE' ? placement.table({ db, table: name }) : undefined;
  if (table) {
    toks[sig[k]!] = { t: 'qid', s: qid(table.db) };
    toks[sig[k + 2]!] = { t: 'qid', s: qid(table.table) };
    return { sql: join(toks) };
  }
  // A routine or a view of a wholly selected database keeps its name in the renamed database.
  if (objectKind !== 'TABLE' || rename.whole) {
    toks[sig[k]!] = { t: 'qid', s: qid(rename.to.db) };
    return { sql: join(toks) };
  }
  return { skipped: grant };
}

/** Database names in grants may escape `_` and `%`. */
const unescapeDb = (s: string) => s.replace(/\\([_%])/g, '$1');
/** Keep the source's escaping style for the target name. */
const escapeLike = (target: string, source: string) => (/\\[_%]/.test(source) ? target.replace(/([_%])/g, '\\$1') : target);

export async function grantAccounts(client: MySqlClient, defs: AccountDef[], placement: ObjectPlacement): Promise<AccountResult[]> {
  const ordered = [...defs].sort((a, b) => Number(b.isRole) - Number(a.isRole));
  const results = new Map<string, AccountResult>();
  for (const d of ordered) {
    const native = d.native as unknown as MyNative;
    const skipped: string[] = [];
    const failed: string[] = [];
    for (const g of native.grants) {
      // The USAGE line only restates the account (its options were created with it).
      if (/^GRANT USAGE ON \*\.\* TO /i.test(g)) continue;
      const r = rewriteGrant(g, placement);
      if (!r.sql) {
        skipped.push(r.skipped!);
        continue;
      }
      try {
        await client.exec(r.sql);
      } catch (e) {
        if (e instanceof RetryableError) throw e;
        failed.push(`${r.sql}: ${(e as Error).message}`);
      }
    }
    results.set(d.id, {
      id: d.id,
      isRole: d.isRole,
      status: failed.length ? 'failed' : 'done',
      ...(failed.length ? { message: `grants failed: ${failed.join('; ')}` } : {}),
      ...(skipped.length ? { skipped } : {}),
    });
  }
  return defs.map((d) => results.get(d.id)!);
}

export type { Tok };
export { account };

/**
 * The statement rewriting behind view/routine/trigger/event and account migration: pure
 * functions, checked on the texts the servers print (SHOW CREATE ..., SHOW GRANTS,
 * pg_get_*def). The integration tests run them against real servers.
 */
import { describe, expect, it } from 'vitest';
import type { DbObjectDef, ObjectPlacement } from '../../../lib/engines/engine.js';
import { rewriteCreate } from '../../../lib/engines/mysql/objects.js';
import { createStatement, rewriteGrant, withoutCredentials } from '../../../lib/engines/mysql/users.js';
import { joinPg, lexPg, renameSchemas, targetDdl } from '../../../lib/engines/postgres/objects.js';
import { accountId } from '../../../lib/job/users.js';

const mysqlPlacement = (replaceDefiner: boolean, whole = true): ObjectPlacement => ({
  renames: [
    { from: { db: 'shop' }, to: { db: 'shop_copy' }, whole },
    { from: { db: 'same' }, to: { db: 'same' }, whole: true },
  ],
  table: (r) => (r.db === 'shop' && r.table === 't' ? { db: 'shop_copy', table: 't2' } : undefined),
  replaceDefiner,
});
const def = (over: Partial<DbObjectDef>): DbObjectDef => ({ kind: 'view', db: 'shop', name: 'v', ...over });

describe('MySQL CREATE statements for the target', () => {
  it('qualifies the name with the target database, replaces the definer, renames qualifiers but not strings or comments', () => {
    const ddl = "CREATE ALGORITHM=UNDEFINED DEFINER=`someone`@`%` SQL SECURITY DEFINER VIEW `shop`.`v` AS select `shop`.`t`.`id` AS `id`,'shop.t' AS `s` /* shop.t */ from `shop`.`t` join other.x";
    const r = rewriteCreate(def({ ddl }), 'shop_copy', mysqlPlacement(true));
    expect(r.definer).toBe('someone@%');
    expect(r.sql).toBe("CREATE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER SQL SECURITY DEFINER VIEW `shop_copy`.`v` AS select `shop_copy`.`t`.`id` AS `id`,'shop.t' AS `s` /* shop.t */ from `shop_copy`.`t` join other.x");
    expect(rewriteCreate(def({ ddl }), 'shop_copy', mysqlPlacement(false)).sql).toContain('DEFINER=`someone`@`%` SQL SECURITY');
  });

  it('rewrites bare qualifiers in routine bodies, leaves column qualifiers (table.col) and variables alone', () => {
    const ddl = "CREATE DEFINER=`a`@`localhost` PROCEDURE `p`(IN x INT)\nBEGIN\n  -- shop.t is renamed\n  SELECT shop.t.id, t.id, @shop FROM shop.t t WHERE x = \"shop.t\"; CALL `same`.q();\nEND";
    const r = rewriteCreate(def({ kind: 'procedure', name: 'p', ddl }), 'shop_copy', mysqlPlacement(true));
    expect(r.sql).toBe("CREATE DEFINER=CURRENT_USER PROCEDURE `shop_copy`.`p`(IN x INT)\nBEGIN\n  -- shop.t is renamed\n  SELECT `shop_copy`.t.id, t.id, @shop FROM `shop_copy`.t t WHERE x = \"shop.t\"; CALL `same`.q();\nEND");
  });

  it('maps a trigger to its target table and drops FOLLOWS/PRECEDES (triggers are created in source order)', () => {
    const ddl = 'CREATE DEFINER=`someone`@`%` TRIGGER shop.trg AFTER INSERT ON shop.t FOR EACH ROW FOLLOWS other_trg INSERT INTO audit(tid) VALUES (NEW.id)';
    const r = rewriteCreate(def({ kind: 'trigger', name: 'trg', table: { db: 'shop', table: 't' }, ddl }), 'shop_copy', mysqlPlacement(true));
    expect(r.sql.replace(/\s+/g, ' ')).toBe('CREATE DEFINER=CURRENT_USER TRIGGER `shop_copy`.`trg` AFTER INSERT ON `shop_copy`.`t2` FOR EACH ROW INSERT INTO audit(tid) VALUES (NEW.id)');
    expect(() => rewriteCreate(def({ kind: 'trigger', name: 'trg', table: { db: 'shop', table: 'other' }, ddl }), 'shop_copy', mysqlPlacement(true))).toThrow(/not migrated/);
  });

  it('treats "..." as an identifier under ANSI_QUOTES and honours CURRENT_USER definers', () => {
    const ddl = 'CREATE DEFINER=CURRENT_USER() FUNCTION "f"() RETURNS int RETURN (SELECT COUNT(*) FROM "shop"."t")';
    const r = rewriteCreate(def({ kind: 'function', name: 'f', ddl }), 'shop_copy', mysqlPlacement(false), { ansiQuotes: true });
    expect(r.sql).toBe('CREATE DEFINER=CURRENT_USER() FUNCTION `shop_copy`.`f`() RETURNS int RETURN (SELECT COUNT(*) FROM `shop_copy`."t")');
  });
});

describe('MySQL accounts', () => {
  it('removes credentials from SHOW GRANTS lines', () => {
    expect(withoutCredentials("GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*7648E52EC79D4BB879B7B913F0B8BBF8DC4AB6CC'")).toBe('GRANT USAGE ON *.* TO `app`@`%`');
    expect(withoutCredentials("GRANT USAGE ON *.* TO `e`@`h` IDENTIFIED VIA ed25519 USING 'ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY' REQUIRE SSL")).toBe('GRANT USAGE ON *.* TO `e`@`h` REQUIRE SSL');
    expect(withoutCredentials('GRANT SELECT ON `shop`.* TO `app`@`%`')).toBe('GRANT SELECT ON `shop`.* TO `app`@`%`');
  });

  const esc = (v: string) => `'${v.replace(/'/g, "\\'")}'`;
  it('keeps the authentication of SHOW CREATE USER, or replaces just that clause with a new password', () => {
    const maria = "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*7648E52EC79D4BB879B7B913F0B8BBF8DC4AB6CC' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10";
    expect(createStatement(maria, { targetFlavor: 'mariadb', escape: esc })).toBe(maria);
    expect(createStatement(maria, { targetFlavor: 'mysql', escape: esc })).toBe("CREATE USER `app`@`%` IDENTIFIED WITH mysql_native_password AS '*7648E52EC79D4BB879B7B913F0B8BBF8DC4AB6CC' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10");
    expect(createStatement(maria, { targetFlavor: 'mariadb', password: "n'ew", escape: esc })).toBe("CREATE USER `app`@`%` IDENTIFIED BY 'n\\'ew' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10");
    const mysql8 = "CREATE USER `u`@`%` IDENTIFIED WITH 'caching_sha2_password' AS 0x2441243030352431 REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK";
    expect(createStatement(mysql8, { targetFlavor: 'mysql', password: 'pw', escape: esc })).toBe("CREATE USER `u`@`%` IDENTIFIED BY 'pw' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK");
    expect(createStatement('CREATE USER `root`@`localhost`', { targetFlavor: 'mariadb', password: 'pw', escape: esc })).toBe("CREATE USER `root`@`localhost` IDENTIFIED BY 'pw'");
  });

  it('rewrites grants to the target names and skips those on objects the job does not migrate', () => {
    const p = mysqlPlacement(true, false);
    expect(rewriteGrant('GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`', p)).toEqual({ sql: 'GRANT SELECT, INSERT ON `shop_copy`.* TO `app`@`%`' });
    expect(rewriteGrant('GRANT UPDATE (`v`) ON `shop`.`t` TO `app`@`%`', p)).toEqual({ sql: 'GRANT UPDATE (`v`) ON `shop_copy`.`t2` TO `app`@`%`' });
    expect(rewriteGrant('GRANT SELECT ON `shop`.`unselected` TO `app`@`%`', p)).toEqual({ skipped: 'GRANT SELECT ON `shop`.`unselected` TO `app`@`%`' });
    expect(rewriteGrant('GRANT SELECT ON `shop`.`a_view` TO `app`@`%`', mysqlPlacement(true, true))).toEqual({ sql: 'GRANT SELECT ON `shop_copy`.`a_view` TO `app`@`%`' });
    expect(rewriteGrant('GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `app`@`%`', p)).toEqual({ sql: 'GRANT EXECUTE ON PROCEDURE `shop_copy`.`p` TO `app`@`%`' });
    expect(rewriteGrant('GRANT ALL PRIVILEGES ON `shop\\_x`.* TO `app`@`%`', { ...p, renames: [{ from: { db: 'shop_x' }, to: { db: 'copy_x' }, whole: true }] })).toEqual({ sql: 'GRANT ALL PRIVILEGES ON `copy\\_x`.* TO `app`@`%`' });
    expect(rewriteGrant('GRANT SELECT ON `other`.* TO `app`@`%`', p)).toEqual({ skipped: 'GRANT SELECT ON `other`.* TO `app`@`%`' });
    expect(rewriteGrant('GRANT RELOAD ON *.* TO `app`@`%`', p)).toEqual({ sql: 'GRANT RELOAD ON *.* TO `app`@`%`' });
    expect(rewriteGrant('GRANT `reader` TO `app`@`%`', p)).toEqual({ sql: 'GRANT `reader` TO `app`@`%`' });
    expect(rewriteGrant('SET DEFAULT ROLE `reader` FOR `app`@`%`', p)).toEqual({ sql: 'SET DEFAULT ROLE `reader` FOR `app`@`%`' });
    expect(rewriteGrant("GRANT PROXY ON ''@'%' TO `app`@`%`", p).skipped).toBeDefined();
  });

  it("reads get-src-user's 'user'@'host' spelling as the account id", () => {
    expect(accountId("'app'@'%'")).toBe('app@%');
    expect(accountId("'o''brien'@'10.0.0.%'")).toBe("o'brien@10.0.0.%");
    expect(accountId('app@%')).toBe('app@%');
    expect(accountId('readers')).toBe('readers');
  });
});

describe('PostgreSQL definitions for the target', () => {
  const placement: ObjectPlacement = {
    renames: [{ from: { db: 'shop', schema: 'public' }, to: { db: 'shop', schema: 'app' }, whole: true }],
    table: (r) => (r.table === 't' ? { db: 'shop', schema: 'app', table: 't' } : undefined),
    replaceDefiner: true,
  };

  it('renames schema qualifiers in code and dollar-quoted bodies, never in string literals', () => {
    const toks = lexPg("SELECT public.f(x), 'public.t', E'public.\\'t', \"Public\".t FROM public.t WHERE $$ public.t $$ <> $body$ 'public.t' $body$ -- public.t");
    renameSchemas(toks, (s) => (s === 'public' ? 'app' : undefined));
    expect(joinPg(toks)).toBe("SELECT \"app\".f(x), 'public.t', E'public.\\'t', \"Public\".t FROM \"app\".t WHERE $$ \"app\".t $$ <> $body$ 'public.t' $body$ -- public.t");
  });

  it('builds functions without OR REPLACE, views with their options, triggers on the mapped table', () => {
    const fn: DbObjectDef = { kind: 'function', db: 'shop', schema: 'public', name: 'f', signature: 'x integer', ddl: 'CREATE OR REPLACE FUNCTION public.f(x integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$ SELECT x + (SELECT count(*)::int FROM public.t) $function$\n' };
    expect(targetDdl(fn, placement)).toBe('CREATE FUNCTION "app".f(x integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$ SELECT x + (SELECT count(*)::int FROM "app".t) $function$\n');
    const view: DbObjectDef = { kind: 'view', db: 'shop', schema: 'public', name: 'v', ddl: 'x', native: { body: " SELECT t.id\n   FROM public.t", options: ['security_barrier=true', 'check_option=local'] } };
    expect(targetDdl(view, placement)).toBe('CREATE VIEW "app"."v" WITH (security_barrier=true, check_option=local) AS\n SELECT t.id\n   FROM "app".t');
    const trg: DbObjectDef = { kind: 'trigger', db: 'shop', schema: 'public', name: 'trg', table: { db: 'shop', schema: 'public', table: 't' }, ddl: 'CREATE TRIGGER trg AFTER UPDATE OF v ON public.t FOR EACH ROW EXECUTE FUNCTION public.audit_fn()' };
    expect(targetDdl(trg, placement)).toBe('CREATE TRIGGER trg AFTER UPDATE OF v ON "app"."t" FOR EACH ROW EXECUTE FUNCTION "app".audit_fn()');
  });
});

/**
 * Views, functions, procedures, triggers and roles, PostgreSQL → PostgreSQL, through the API of
 * the in-process runtime, with the schema renamed (public → app). Checked with the plain driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/client.js';
import { requireBinaries, startPostgres, type DbServer } from '../helpers/db-servers.js';
import { pgClient } from '../helpers/dumps.js';
import { createJobBody } from '../helpers/jobs.js';
import { startLocal, type LocalService } from '../helpers/local.js';
import { table } from '../../lib/store/table.js';
import { jobPk } from '../../lib/store/job-store.js';

const run = requireBinaries('postgresql');
let src: DbServer;
let dst: DbServer;
let svc: LocalService;
const ROWS = 300;

const SOURCE_SQL = `
CREATE TABLE public.t (id int PRIMARY KEY, v int NOT NULL);
CREATE TABLE public.audit (id serial PRIMARY KEY, tid int NOT NULL);
CREATE ROLE owner_role NOLOGIN;
GRANT USAGE ON SCHEMA public TO owner_role;
GRANT SELECT ON public.t TO owner_role;
CREATE FUNCTION public.twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$;
CREATE FUNCTION public.audit_fn() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN INSERT INTO public.audit (tid) VALUES (NEW.id); RETURN NEW; END $fn$;
CREATE TRIGGER t_ai AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.audit_fn();
CREATE VIEW public.v_big AS SELECT id, public.twice(v) AS v2, 'public.t' AS origin FROM public.t WHERE v > 10;
CREATE VIEW public.v_over AS SELECT count(*) AS n FROM public.v_big;
CREATE PROCEDURE public.add_row(k int) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.t VALUES (k, public.twice(k)); END $$;
ALTER FUNCTION public.twice(int) OWNER TO owner_role;
ALTER VIEW public.v_big OWNER TO owner_role;
CREATE ROLE readers NOLOGIN;
CREATE ROLE app LOGIN PASSWORD 'App-Secret-42' CREATEDB CONNECTION LIMIT 7;
GRANT readers TO app;
GRANT USAGE ON SCHEMA public TO readers;
GRANT SELECT ON public.t TO readers;
GRANT SELECT, INSERT ON public.t TO app;
GRANT SELECT ON public.v_big TO app;
GRANT EXECUTE ON PROCEDURE public.add_row(int) TO app;
`;

beforeAll(async () => {
  if (!run) return;
  [src, dst] = await Promise.all([startPostgres(), startPostgres()]);
  for (const s of [src, dst]) {
    const c = await pgClient(s);
    await c.query('CREATE DATABASE shop');
    await c.end();
  }
  const c = await pgClient(src, 'shop');
  await c.query(SOURCE_SQL);
  await c.query(`INSERT INTO public.t SELECT g, g % 50 FROM generate_series(1, ${ROWS}) g`);
  await c.end();
  svc = await startLocal();
}, 180_000);

afterAll(async () => {
  await svc?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

async function one(s: DbServer, sql: string, values: unknown[] = []): Promise<unknown> {
  const c = await pgClient(s, 'shop');
  try {
    const r = await c.query({ text: sql, values, rowMode: 'array' });
    return r.rows[0]?.[0];
  } finally {
    await c.end();
  }
}

async function configure(api: ReturnType<typeof apiClient>, name: string, schema: string, replaceDefiner: boolean): Promise<string> {
  const { id } = await api.ok('POST', '/v5/{project_id}/jobs', { body: createJobBody({ name, engine: 'postgresql', source: src, target: dst, sourceDb: 'shop', targetDb: 'shop' }) });
  await api.until(id, (j) => j.status === 'CONFIGURATION');
  await api.ok('PUT', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, body: { job: { type: 'db_object', params: { db_object: { object_scope: 'database', object_info: { shop: { schemas: { public: { name: schema, all: true } } } } } } } } });
  await api.ok('POST', '/v3/{project_id}/jobs/batch-replace-definer', { body: { jobs: [{ job_id: id, replace_definer: replaceDefiner }] } });
  return id as string;
}

describe.runIf(run)('views, functions, triggers and roles PostgreSQL → PostgreSQL', () => {
  it('migrates them into the renamed schema, owned by the migration user, the trigger only after the full load, and the selected roles with password hash, memberships and grants', async () => {
    const api = apiClient(svc.url, svc.cred);
    const id = await configure(api, 'pg-objects', 'app', true);
    const hash = String(await one(src, "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'"));
    expect(hash).toMatch(/^SCRAM-SHA-256\$/);
    const listed = await api.ok('GET', '/v3/{project_id}/jobs/{job_id}/get-src-user', { path: { job_id: id } });
    expect(JSON.stringify(listed)).not.toContain(hash.slice(14, 40));
    expect(listed.user_list).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'app', is_transfer: true, roles: ['readers'] }), expect.objectContaining({ id: 'postgres', is_transfer: false })]));
    expect(listed.roles_list).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'readers', is_transfer: true })]));
    const users = await api.ok('PUT', '/v3/{project_id}/jobs/batch-update-user', {
      body: { jobs: [{ job_id: id, is_migrate_user: true, is_set_password: false, list: [{ id: 'app', account: 'app', is_transfer: true, roles: ['readers'], selected: true }], user_roles: [{ role: 'readers', is_transfer: true, privileges: '', selected: true }] }] },
    });
    expect(users.results).toMatchObject([{ job_id: id, is_success: true, user_list: [{ id: 'app', selected: true }], roles_list: [{ role: 'readers', selected: true }] }]);

    const pre = await api.precheck(id);
    expect(pre.result, JSON.stringify(pre.precheck_results.filter((r) => r.result !== 'PASSED'))).toBe(true);
    await api.action(id, 'start');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');

    // The trigger did not fire on the copied rows.
    expect(Number(await one(dst, 'SELECT count(*) FROM app.audit'))).toBe(ROWS);
    expect(Number(await one(src, 'SELECT count(*) FROM public.audit'))).toBe(ROWS);
    // Views and routines in the renamed schema, owned by the migration user, bodies rewritten.
    expect(await one(dst, "SELECT string_agg(c.relname || '=' || pg_get_userbyid(c.relowner), ',' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' AND c.relkind = 'v'")).toBe('v_big=postgres,v_over=postgres');
    const viewDef = String(await one(dst, "SELECT pg_get_viewdef('app.v_big'::regclass)"));
    expect(viewDef).toContain('app.twice');
    expect(viewDef).toContain("'public.t'");
    expect(viewDef).not.toMatch(/public\.(t|twice)\b(?!')/);
    expect(String(await one(dst, "SELECT pg_get_functiondef('app.add_row(int)'::regprocedure)"))).toContain('INSERT INTO "app".t VALUES (k, "app".twice(k))');
    expect(Number(await one(dst, 'SELECT n FROM app.v_over'))).toBe(Number(await one(src, 'SELECT n FROM public.v_over')));
    expect(await one(dst, "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 'app.twice(int)'::regprocedure")).toBe('postgres');
    // The trigger works now.
    await one(dst, 'CALL app.add_row(100001)');
    expect(Number(await one(dst, 'SELECT count(*) FROM app.audit WHERE tid = 100001'))).toBe(1);
    expect(Number(await one(dst, 'SELECT v FROM app.t WHERE id = 100001'))).toBe(200002);

    // Roles: attributes, the same password hash, memberships, grants on the renamed objects.
    expect(await one(dst, "SELECT rolcanlogin::text || rolcreatedb::text || rolconnlimit FROM pg_roles WHERE rolname = 'app'")).toBe('truetrue7');
    expect(await one(dst, "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")).toBe(hash);
    expect(await one(dst, "SELECT pg_has_role('app', 'readers', 'MEMBER')")).toBe(true);
    expect(await one(dst, "SELECT has_table_privilege('app', 'app.t', 'INSERT')")).toBe(true);
    expect(await one(dst, "SELECT has_table_privilege('app', 'app.v_big', 'SELECT')")).toBe(true);
    expect(await one(dst, "SELECT has_function_privilege('app', 'app.add_row(int)', 'EXECUTE')")).toBe(true);
    expect(await one(dst, "SELECT has_schema_privilege('readers', 'app', 'USAGE')")).toBe(true);
    expect(await one(dst, "SELECT has_table_privilege('readers', 'app.t', 'SELECT')")).toBe(true);
    expect(await one(dst, "SELECT count(*)::int FROM pg_roles WHERE rolname = 'owner_role'")).toBe(0); // not selected

    for (const [type, names] of [['view', ['app.v_big', 'app.v_over']], ['procedure', ['app.add_row', 'app.audit_fn', 'app.twice']], ['trigger', ['app.t_ai']]] as const) {
      const detail = await api.ok('POST', `/v3/{project_id}/jobs/${type}/batch-struct-detail`, { body: { jobs: [id], page_req: { cur_page: 1, per_page: 0 } } });
      const list = detail.results[0].struct_detail.list as { dst_TB: string; progress: number }[];
      expect(list.map((o) => o.dst_TB).sort(), type).toEqual([...names]);
    }
    const stored = JSON.stringify([...(await table().query(`P#${svc.cred.projectId}`)), ...(await table().query(jobPk(svc.cred.projectId, id)))]);
    expect(stored).not.toContain(hash.slice(14, 40));
    expect(stored).not.toContain('App-Secret-42');
  });

  it('with replace_definer false, the precheck warns about owners missing on the target, and those objects stay the migration user\'s (said in the log)', async () => {
    const api = apiClient(svc.url, svc.cred);
    const id = await configure(api, 'pg-objects-keep', 'keep', false);
    const pre = await api.precheck(id);
    const item = pre.precheck_results.find((r) => r.item === 'userRequirementsIsEnoughForDefiner');
    expect(item).toMatchObject({ result: 'ALARM' });
    expect(item!.failed_reason).toContain('owner_role');
    await api.action(id, 'start');
    const done = await api.until(id, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000);
    expect(done.status, JSON.stringify(done)).toBe('FULL_TRANSFER_COMPLETE');
    // postgres exists on both sides: kept; owner_role does not: the migration user's, and logged.
    expect(await one(dst, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'keep.v_over'::regclass")).toBe('postgres');
    expect(await one(dst, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'keep.v_big'::regclass")).toBe('postgres');
    const logs = JSON.stringify(await api.ok('GET', '/v5/{project_id}/jobs/{job_id}', { path: { job_id: id }, query: { type: 'log' } }));
    expect(logs).toContain('its owner owner_role does not exist on the target');
    // Once the role exists, a new job keeps it as owner.
    await one(dst, 'CREATE ROLE owner_role NOLOGIN');
    const id2 = await configure(api, 'pg-objects-keep2', 'keep2', false);
    expect((await api.precheck(id2)).precheck_results.find((r) => r.item === 'userRequirementsIsEnoughForDefiner')).toMatchObject({ result: 'PASSED' });
    await api.action(id2, 'start');
    expect((await api.until(id2, (j) => ['FULL_TRANSFER_COMPLETE', 'FULL_TRANSFER_FAILED'].includes(j.status), 120_000)).status).toBe('FULL_TRANSFER_COMPLETE');
    expect(await one(dst, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'keep2.v_big'::regclass")).toBe('owner_role');
    expect(await one(dst, "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid = 'keep2.twice(int)'::regprocedure")).toBe('owner_role');
  });
});

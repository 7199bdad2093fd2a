import { afterAll, describe, expect, it } from 'vitest';
import { requireBinaries, startMariaDb, startPostgres, type DbServer } from '../helpers/db-servers.js';
import mysql from 'mysql2/promise';
import pg from 'pg';

const servers: DbServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe.runIf(requireBinaries('mysql'))('MariaDB harness', () => {
  it('starts an empty server with ROW binlog on a free port', async () => {
    const s = await startMariaDb();
    servers.push(s);
    const c = await mysql.createConnection({ host: s.host, port: s.port, user: s.user });
    const [rows] = (await c.query("SELECT @@log_bin AS log_bin, @@binlog_format AS fmt, @@binlog_row_image AS img, @@server_id AS sid")) as unknown as [Record<string, unknown>[]];
    await c.end();
    expect(rows[0]).toMatchObject({ log_bin: 1, fmt: 'ROW', img: 'FULL', sid: 1 });
    console.log(`MariaDB harness start: ${s.startMs} ms`);
  });
});

describe.runIf(requireBinaries('postgresql'))('PostgreSQL harness', () => {
  it('starts an empty server with wal_level=logical on a free port', async () => {
    const s = await startPostgres();
    servers.push(s);
    const c = new pg.Client({ host: s.host, port: s.port, user: s.user, database: 'postgres' });
    await c.connect();
    const r = await c.query('SHOW wal_level');
    await c.end();
    expect(r.rows[0].wal_level).toBe('logical');
    console.log(`PostgreSQL harness start: ${s.startMs} ms`);
  });
});

/**
 * Independent reads for checking a migration: every row of a table in a total order, read with
 * the plain driver (not the code under test), so source and target can be compared row by row.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DbServer } from './db-servers.js';

export async function mysqlConn(s: DbServer, database?: string) {
  return mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database, multipleStatements: true, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, timezone: 'Z', charset: 'utf8mb4' });
}

export async function pgClient(s: DbServer, database = 'postgres') {
  const c = new pg.Client({ host: s.host, port: s.port, user: s.user, password: s.password, database });
  await c.connect();
  return c;
}

const qi = (n: string) => '`' + n.replace(/`/g, '``') + '`';
const qp = (n: string) => '"' + n.replace(/"/g, '""') + '"';

/** All rows as JSON strings, sorted: a multiset that equal tables share. */
export async function mysqlDump(s: DbServer, db: string, table: string): Promise<string[]> {
  const c = await mysqlConn(s);
  try {
    const [cols] = (await c.query('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position', [db, table])) as unknown as [{ c: string }[]];
    const list = cols.map((x) => (x.c === undefined ? (x as unknown as { C: string }).C : x.c));
    const sel = list.map((n) => `HEX(CAST(${qi(n)} AS BINARY)) AS ${qi(n)}`).join(', ');
    const [rows] = (await c.query(`SELECT ${sel} FROM ${qi(db)}.${qi(table)}`)) as unknown as [Record<string, unknown>[]];
    return rows.map((r) => JSON.stringify(list.map((n) => r[n]))).sort();
  } finally {
    await c.end();
  }
}

export async function pgDump(s: DbServer, db: string, schema: string, table: string): Promise<string[]> {
  const c = await pgClient(s, db);
  try {
    const r = await c.query(`SELECT row_to_json(t)::text AS j FROM ${qp(schema)}.${qp(table)} t`);
    return r.rows.map((x) => x.j as string).sort();
  } finally {
    await c.end();
  }
}

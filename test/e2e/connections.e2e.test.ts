/**
 * The README's promise, end to end: `npm start` brings the service up, and the official Huawei
 * SDK core (signing with AK/SK) creates, lists, gets, updates and deletes a connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huaweiClient, type Cred } from '../helpers/huawei.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

const cred: Cred = { accessKey: 'E2EACCESSKEY0001', secretKey: 'e2e-secret-key-0123456789', projectId: '0123456789abcdef0123456789abcdef' };
const other: Cred = { accessKey: 'E2EOTHERTENANT01', secretKey: 'other-tenant-secret', projectId: 'ffffffffffffffffffffffffffffffff' };
const env = { DRS_AK: cred.accessKey, DRS_SK: cred.secretKey, DRS_PROJECT_ID: cred.projectId };
let rt: RuntimeProcess;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'drs-e2e-'));

beforeAll(async () => {
  // a second tenant, known to the runtime through its credentials file
  writeFileSync(path.join(dataDir, 'credentials.json'), JSON.stringify([{ accessKey: other.accessKey, secretKey: other.secretKey, projectIds: [other.projectId] }]));
  rt = await startRuntime({ dataDir, env });
  console.log(`npm start: ready in ${rt.readyMs} ms (process spawn to listening)`);
});
afterAll(async () => {
  await rt?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('connections through the local runtime with the official SDK signer', () => {
  it('creates, lists, gets, updates and deletes a connection, and keeps it across a restart', async () => {
    const client = huaweiClient(rt.url, cred);
    const created = await client.call('POST', '/v5/{project_id}/connections', {
      body: { name: 'e2e-mysql', db_type: 'mysql', endpoint: { endpoint_name: 'mysql', ip: '127.0.0.1', db_port: '3306', db_user: 'root', db_password: 'pw-e2e-1' } },
    });
    expect(created.httpStatusCode).toBe(200);
    const id = created.connection_id as string;

    const listed = await client.call('GET', '/v5/{project_id}/connections', { query: { name: 'e2e', limit: 10 } });
    expect(listed).toMatchObject({ httpStatusCode: 200, count: 1 });

    // a restart keeps the store (dynalite on disk under DRS_DATA_DIR)
    await rt.stop();
    rt = await startRuntime({ dataDir, env, port: rt.port });
    const got = await client.call('GET', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: id } });
    expect(got).toMatchObject({ httpStatusCode: 200, name: 'e2e-mysql', endpoint: { db_user: 'root' } });
    expect(JSON.stringify(got)).not.toContain('pw-e2e-1');

    const updated = await client.call('PUT', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: id }, body: { description: 'updated by e2e' } });
    expect(updated).toMatchObject({ httpStatusCode: 200, description: 'updated by e2e' });

    const deleted = await client.call('DELETE', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: id } });
    expect(deleted.httpStatusCode).toBe(200);
    const gone = await client.call('GET', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: id } });
    expect(gone.httpStatusCode).toBe(404);
  });

  it('answers a wrong secret with 401 APIGW.0301', async () => {
    const res = await huaweiClient(rt.url, { ...cred, secretKey: 'wrong' }).call('GET', '/v5/{project_id}/connections');
    expect(res).toMatchObject({ httpStatusCode: 401, error_code: 'APIGW.0301' });
  });

  it("answers 404 to a request for another project's connection", async () => {
    const client = huaweiClient(rt.url, cred);
    const created = await client.call('POST', '/v5/{project_id}/connections', {
      body: { name: 'e2e-private', db_type: 'postgresql', endpoint: { ip: '127.0.0.1', db_port: '5432', db_user: 'postgres', db_password: 'x' } },
    });
    const id = created.connection_id as string;
    const theirs = huaweiClient(rt.url, other);
    for (const [method, body] of [['GET', undefined], ['PUT', { description: 'x' }], ['DELETE', undefined]] as const) {
      const res = await theirs.call(method, '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: id }, body });
      expect(res.httpStatusCode).toBe(404);
    }
    expect((await theirs.call('GET', '/v5/{project_id}/connections')).count).toBe(0);
    // and their credential cannot be pointed at our project
    const cross = await huaweiClient(rt.url, { ...other, projectId: cred.projectId }).call('GET', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: id } });
    expect(cross).toMatchObject({ httpStatusCode: 401, error_code: 'APIGW.0301' });
    expect((await client.call('GET', '/v5/{project_id}/connections/{connection_id}', { path: { connection_id: id } })).httpStatusCode).toBe(200);
  });
});

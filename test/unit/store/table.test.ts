import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type EmbeddedDynamo } from '../../../lib/local/dynamodb.js';
import { ConditionFailedError, Table } from '../../../lib/store/table.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

let dynamo: EmbeddedDynamo;
let t: Table;

beforeAll(async () => {
  dynamo = await startDynalite();
  t = new Table(new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), 'test');
  await t.ensureExists();
});
afterAll(() => dynamo.close());

describe('Table (DynamoDB adapter) against the embedded store', () => {
  it('creates only once with ifNotExists', async () => {
    await t.put({ pk: 'A', sk: '1', v: 1 }, { ifNotExists: true });
    await expect(t.put({ pk: 'A', sk: '1', v: 2 }, { ifNotExists: true })).rejects.toBeInstanceOf(ConditionFailedError);
    expect((await t.get('A', '1'))?.v).toBe(1);
  });

  it('rejects a stale optimistic write and keeps the newer item', async () => {
    await t.put({ pk: 'B', sk: '1', version: 1, s: 'one' });
    await t.put({ pk: 'B', sk: '1', version: 2, s: 'two' }, { expectedVersion: 1 });
    await expect(t.put({ pk: 'B', sk: '1', version: 2, s: 'stale' }, { expectedVersion: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
    expect((await t.get('B', '1'))?.s).toBe('two');
  });

  it('queries a partition by sort-key prefix across pages, and the GSI', async () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ pk: 'C', sk: `X#${String(i).padStart(3, '0')}`, gsi1pk: 'G', gsi1sk: String(i).padStart(3, '0'), blob: 'x'.repeat(20_000) }));
    await t.batchWrite([...items, { pk: 'C', sk: 'Y#1' }]);
    expect((await t.query('C', { skPrefix: 'X#' })).length).toBe(60);
    expect((await t.query('C', { skPrefix: 'X#', limit: 7 })).length).toBe(7);
    const viaIndex = await t.query('G', { index: 'gsi1', descending: true });
    expect(viaIndex.length).toBe(60);
    expect(viaIndex[0].gsi1sk).toBe('059');
  });

  it('updates with SET/ADD under a condition and refuses when the condition fails', async () => {
    await t.put({ pk: 'D', sk: '1', status: 'A', n: 1 });
    const out = await t.update('D', '1', { set: { status: 'B' }, add: { n: 5 }, when: { status: 'A' } });
    expect(out).toMatchObject({ status: 'B', n: 6 });
    await expect(t.update('D', '1', { set: { status: 'C' }, when: { status: 'A' } })).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(t.update('D', 'missing', { set: { status: 'C' }, mustExist: true })).rejects.toBeInstanceOf(ConditionFailedError);
  });

  it('deletes conditionally', async () => {
    await t.put({ pk: 'E', sk: '1', owner: 'a' });
    await expect(t.delete('E', '1', { when: { owner: 'b' } })).rejects.toBeInstanceOf(ConditionFailedError);
    await t.delete('E', '1', { when: { owner: 'a' } });
    await expect(t.delete('E', '1', { mustExist: true })).rejects.toBeInstanceOf(ConditionFailedError);
  });
});

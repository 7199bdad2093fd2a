/**
 * The DynamoDB adapter: the one file that imports the AWS SDK for DynamoDB. One table, `pk`/`sk`
 * strings, two GSIs: gsi1 (`gsi1pk`/`gsi1sk`) for cross-project listings such as "jobs waiting
 * for their start time", gsi2 for a project's job list, projecting only small summaries. Repositories in lib/store build keys and items; they never see the SDK.
 *
 * dynalite (the local store) has no transactions, so nothing here uses them: every invariant is
 * kept with single-item conditional writes.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { config } from '../config.js';
import { StoreLimitError } from '../errors.js';

export type Item = Record<string, unknown> & { pk: string; sk: string };

/** A conditional write lost. Repositories turn this into a domain error. */
export class ConditionFailedError extends Error {
  constructor(cause?: unknown) {
    super('The conditional write failed', { cause });
    this.name = 'ConditionFailedError';
  }
}

export interface PutOptions {
  /** Only create: fail when an item with this key exists. */
  ifNotExists?: boolean;
  /** Optimistic lock: only overwrite when the stored `version` equals this. */
  expectedVersion?: number;
}

export interface QueryOptions {
  skPrefix?: string;
  /** Query a GSI instead of the table; `pk` is then that index's partition key value. */
  index?: 'gsi1' | 'gsi2';
  limit?: number;
  descending?: boolean;
}

export interface UpdateOptions {
  set?: Record<string, unknown>;
  add?: Record<string, number>;
  remove?: string[];
  /** Plain-attribute equality conditions, ANDed. `{ status: 'X' }`. */
  when?: Record<string, unknown>;
  /** Require that the item exists. */
  mustExist?: boolean;
}

export class Table {
  readonly doc: DynamoDBDocumentClient;
  constructor(
    readonly client: DynamoDBClient,
    readonly name: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  }

  async get<T extends Item>(pk: string, sk: string, consistent = true): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.name, Key: { pk, sk }, ConsistentRead: consistent }));
    return out.Item as T | undefined;
  }

  async put(item: Item, opts: PutOptions = {}): Promise<void> {
    const cond: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (opts.ifNotExists) cond.push('attribute_not_exists(pk)');
    if (opts.expectedVersion !== undefined) {
      cond.push('#v = :expected');
      names['#v'] = 'version';
      values[':expected'] = opts.expectedVersion;
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.name,
          Item: item,
          ConditionExpression: cond.length ? cond.join(' AND ') : undefined,
          ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
        }),
      );
    } catch (e) {
      throw mapConditional(e);
    }
  }

  async update(pk: string, sk: string, opts: UpdateOptions): Promise<Item> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let n = 0;
    const name = (k: string) => {
      const key = `#n${n++}`;
      names[key] = k;
      return key;
    };
    const value = (v: unknown) => {
      const key = `:v${n++}`;
      values[key] = v;
      return key;
    };
    const parts: string[] = [];
    const set = Object.entries(opts.set ?? {}).filter(([, v]) => v !== undefined);
    if (set.length) parts.push('SET ' + set.map(([k, v]) => `${name(k)} = ${value(v)}`).join(', '));
    const add = Object.entries(opts.add ?? {});
    if (add.length) parts.push('ADD ' + add.map(([k, v]) => `${name(k)} ${value(v)}`).join(', '));
    if (opts.remove?.length) parts.push('REMOVE ' + opts.remove.map((k) => name(k)).join(', '));
    const cond: string[] = [];
    if (opts.mustExist) cond.push('attribute_exists(pk)');
    for (const [k, v] of Object.entries(opts.when ?? {})) cond.push(`${name(k)} = ${value(v)}`);
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.name,
          Key: { pk, sk },
          UpdateExpression: parts.join(' '),
          ConditionExpression: cond.length ? cond.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as Item;
    } catch (e) {
      throw mapConditional(e);
    }
  }

  async delete(pk: string, sk: string, opts: { mustExist?: boolean; when?: Record<string, unknown> } = {}): Promise<void> {
    const cond: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (opts.mustExist) cond.push('attribute_exists(pk)');
    let i = 0;
    for (const [k, v] of Object.entries(opts.when ?? {})) {
      names[`#w${i}`] = k;
      values[`:w${i}`] = v;
      cond.push(`#w${i} = :w${i}`);
      i++;
    }
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.name,
          Key: { pk, sk },
          ConditionExpression: cond.length ? cond.join(' AND ') : undefined,
          ExpressionAttributeNames: i ? names : undefined,
          ExpressionAttributeValues: i ? values : undefined,
        }),
      );
    } catch (e) {
      throw mapConditional(e);
    }
  }

  /** Every item of a partition (optionally with an sk prefix), following pages. */
  async query<T extends Item>(pk: string, opts: QueryOptions = {}): Promise<T[]> {
    const keyName = opts.index ? `${opts.index}pk` : 'pk';
    const sortName = opts.index ? `${opts.index}sk` : 'sk';
    const input: QueryCommandInput = {
      TableName: this.name,
      IndexName: opts.index,
      KeyConditionExpression: opts.skPrefix !== undefined ? '#k = :k AND begins_with(#s, :s)' : '#k = :k',
      ExpressionAttributeNames: opts.skPrefix !== undefined ? { '#k': keyName, '#s': sortName } : { '#k': keyName },
      ExpressionAttributeValues: opts.skPrefix !== undefined ? { ':k': pk, ':s': opts.skPrefix } : { ':k': pk },
      ScanIndexForward: !opts.descending,
      ConsistentRead: opts.index ? undefined : true,
    };
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start, Limit: opts.limit ? Math.min(opts.limit - items.length, 1000) : undefined }));
      items.push(...((out.Items ?? []) as T[]));
      start = out.LastEvaluatedKey;
    } while (start && (!opts.limit || items.length < opts.limit));
    return items;
  }

  /** Unconditional bulk put/delete, 25 at a time, retrying what DynamoDB leaves unprocessed. */
  async batchWrite(puts: Item[], deletes: { pk: string; sk: string }[] = []): Promise<void> {
    const requests = [...puts.map((Item) => ({ PutRequest: { Item } })), ...deletes.map((Key) => ({ DeleteRequest: { Key } }))];
    for (let i = 0; i < requests.length; i += 25) {
      let pending: unknown[] | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; pending && pending.length; attempt++) {
        const out: { UnprocessedItems?: Record<string, unknown[]> } = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.name]: pending as never } }));
        pending = out.UnprocessedItems?.[this.name];
        if (pending?.length) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
      }
    }
  }

  /** Create the table when missing (local runtime and tests; on AWS CloudFormation owns it). */
  async ensureExists(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.name }));
      return;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException) && (e as Error).name !== 'ResourceNotFoundException') throw e;
    }
    await this.client.send(
      new CreateTableCommand({
        TableName: this.name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'gsi1pk', AttributeType: 'S' },
          { AttributeName: 'gsi1sk', AttributeType: 'S' },
          { AttributeName: 'gsi2pk', AttributeType: 'S' },
          { AttributeName: 'gsi2sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'gsi2',
            KeySchema: [
              { AttributeName: 'gsi2pk', KeyType: 'HASH' },
              { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['summary'] },
          },
        ],
      }),
    );
    for (let i = 0; i < 100; i++) {
      const d = await this.client.send(new DescribeTableCommand({ TableName: this.name }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function mapConditional(e: unknown): unknown {
  const err = e as Error | undefined;
  if (err?.name === 'ConditionalCheckFailedException') return new ConditionFailedError(e);
  // A well-formed request that would make an item too big is the caller's to fix, not a 500.
  if (err?.name === 'ValidationException' && /size( to update)? has exceeded the maximum allowed size/i.test(err.message)) return new StoreLimitError(e);
  return e;
}

let shared: Table | undefined;

/** The process-wide table, built from config once per container. */
export function table(): Table {
  if (!shared) {
    const c = config();
    const client = new DynamoDBClient({
      region: c.AWS_REGION,
      ...(c.DYNAMODB_ENDPOINT ? { endpoint: c.DYNAMODB_ENDPOINT, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
    shared = new Table(client, c.DRS_TABLE);
  }
  return shared;
}

export function resetTable(): void {
  shared = undefined;
}

/**
 * A repository bound to the current table: rebuilt when the table is (a process that restarts
 * its embedded store, like a benchmark running several local runtimes in turn).
 */
export function perTable<T>(make: (t: Table) => T): () => T {
  let bound: { table: Table; repo: T } | undefined;
  return () => {
    const t = table();
    if (bound?.table !== t) bound = { table: t, repo: make(t) };
    return bound.repo;
  };
}

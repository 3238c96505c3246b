import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { BackendUnavailableError } from '../errors.js';
import { setExpression } from './expressions.js';
import {
  ConditionFailedError,
  isExpired,
  nowSeconds,
  type ConsumeResult,
  type IncrementOptions,
  type Item,
  type Key,
  type Store,
  type WriteOp,
} from './store.js';

/** A live item: present and not past its `expiresAt` (TTL deletes late, so we check ourselves). */
const LIVE = '(attribute_not_exists(expiresAt) OR expiresAt > :now)';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

function strip<T extends Item>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

/** The DynamoDB adapter of the storage port (`@aws-sdk/lib-dynamodb`). */
export class DynamoStore implements Store {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    readonly tableName: string,
    client: DynamoDBClient,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new ConditionFailedError();
      if (err instanceof TransactionCanceledException) {
        // A failed condition, or a concurrent transaction on the same item (which won the race),
        // both mean this write lost: callers treat it like a failed condition.
        const reasons = err.CancellationReasons ?? [];
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
          // With ReturnValuesOnConditionCheckFailure, a failed condition carries the item as it was.
          const current = reasons.map((r) =>
            r.Item ? strip(unmarshall(r.Item as Record<string, AttributeValue>)) : undefined,
          );
          throw new ConditionFailedError('a condition in the transaction failed', current);
        }
        throw new BackendUnavailableError(`DynamoDB ${what}: transaction cancelled`, { cause: err });
      }
      const name = (err as { name?: string }).name ?? '';
      const network = (err as { code?: string }).code;
      // The SDK's request/connection timeouts (`TimeoutError`) and other network failures
      // (ETIMEDOUT, EPIPE, EAI_AGAIN) mean "DynamoDB unavailable" (503) too, not a server error.
      const networkDown = typeof network === 'string' && /^(ECONN|ETIMEDOUT|EPIPE|EAI_AGAIN)/.test(network);
      if (THROTTLING.has(name) || name === 'TimeoutError' || networkDown) {
        throw new BackendUnavailableError(`DynamoDB ${what} unavailable: ${name || network}`, { cause: err });
      }
      throw err;
    }
  }

  async get<T extends Item>(key: Key): Promise<T | undefined> {
    const out = await this.send('get', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    if (!out.Item || isExpired(out.Item)) return undefined;
    return strip<T>(out.Item);
  }

  async batchGet<T extends Item>(keys: readonly Key[]): Promise<(T | undefined)[]> {
    const id = (k: Key) => JSON.stringify([k.pk, k.sk]);
    const found = new Map<string, Record<string, unknown>>();
    // BatchGetItem refuses duplicate keys and takes at most 100 keys a call.
    const unique = [...new Map(keys.map((k) => [id(k), { pk: k.pk, sk: k.sk }])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = unique.slice(i, i + 100);
      // DynamoDB may hand back part of a batch unprocessed (throttling, 16 MB): ask again for it,
      // a few times with a short backoff, then give up like a throttled call.
      for (let round = 0; pending?.length; round++) {
        if (round === 4) throw new BackendUnavailableError('DynamoDB batchGet: keys left unprocessed');
        if (round > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
        const Keys: Record<string, unknown>[] = pending;
        const out = await this.send('batchGet', () =>
          this.doc.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys, ConsistentRead: true } } }),
          ),
        );
        for (const it of out.Responses?.[this.tableName] ?? []) found.set(id(it as Key), it);
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return keys.map((k) => {
      const it = found.get(id(k));
      return it && !isExpired(it) ? strip<T>(it) : undefined;
    });
  }

  async put(key: Key, item: Item, opts: { ifAbsent?: boolean } = {}): Promise<void> {
    await this.send('put', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, ...key },
          // An expired leftover (not yet deleted by TTL) does not block a new item.
          ...(opts.ifAbsent
            ? {
                ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
                ExpressionAttributeValues: { ':now': nowSeconds() },
              }
            : {}),
        }),
      ),
    );
  }

  async update<T extends Item>(key: Key, set: Item, opts: { unconsumed?: boolean } = {}): Promise<T> {
    const { names, values, expression } = setExpression(set);
    const out = await this.send('update', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(pk) AND ${LIVE}${opts.unconsumed ? ' AND attribute_not_exists(consumedAt)' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':now': nowSeconds() },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return strip<T>(out.Attributes ?? {});
  }

  async delete(key: Key): Promise<void> {
    await this.send('delete', () =>
      this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: key })),
    );
  }

  async query<T extends Item>(pk: string, skPrefix?: string): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :sk)' : 'pk = :pk',
        ExpressionAttributeValues: skPrefix ? { ':pk': pk, ':sk': skPrefix } : { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      };
      const out = await this.send('query', () => this.doc.send(new QueryCommand(input)));
      for (const it of out.Items ?? []) if (!isExpired(it)) items.push({ ...strip<T>(it), sk: it.sk } as T);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async consume<T extends Item>(key: Key, extra: Item = {}): Promise<ConsumeResult<T>> {
    const now = Date.now();
    const { names, values, expression } = setExpression({ ...extra, consumedAt: now });
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(consumedAt) AND ${LIVE}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':now': nowSeconds(now) },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { status: 'consumed', item: strip<T>(out.Attributes ?? {}) };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException))
        return this.send('consume', () => Promise.reject(err));
      const old = err.Item ? unmarshall(err.Item as Record<string, AttributeValue>) : undefined;
      if (!old) return { status: 'missing' };
      const item = strip<T>(old);
      if (old.consumedAt !== undefined) return { status: 'replayed', item };
      return { status: 'expired', item };
    }
  }

  async increment<T extends Item>(
    key: Key,
    attr: string | readonly string[],
    opts: IncrementOptions = {},
  ): Promise<T> {
    const path = typeof attr === 'string' ? [attr] : [...attr];
    if (path.length === 0) throw new Error('increment needs an attribute');
    if (opts.create && path.length > 1) {
      throw new Error('increment can create an item only for a top-level counter');
    }
    const by = opts.by ?? 1;
    const names: Record<string, string> = {};
    path.forEach((name, i) => (names[`#c${i}`] = name));
    const counter = path.map((_, i) => `#c${i}`).join('.');
    const values: Record<string, unknown> = { ':by': by, ':zero': 0 };
    const sets = [`${counter} = if_not_exists(${counter}, :zero) + :by`];
    Object.entries(opts.create ?? {}).forEach(([name, value], i) => {
      if (name === 'pk' || name === 'sk' || name === path[0] || value === undefined) return;
      names[`#i${i}`] = name;
      values[`:i${i}`] = value;
      sets.push(`#i${i} = if_not_exists(#i${i}, :i${i})`);
    });
    // A missing item is live by this test too (no expiresAt), so `create` needs no clause of its own.
    const conditions = [opts.create ? LIVE : `attribute_exists(pk) AND ${LIVE}`];
    if (opts.unconsumed) conditions.push('attribute_not_exists(consumedAt)');
    if (opts.below !== undefined) {
      values[':below'] = opts.below;
      conditions.push(`(attribute_not_exists(${counter}) OR ${counter} < :below)`);
    }
    // An expired leftover that TTL has not deleted yet is replaced by a fresh counter (once per
    // attempt; a concurrent caller may win that race, and then we count on its item).
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':now': nowSeconds() },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return strip<T>(out.Attributes ?? {});
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) {
          return this.send('increment', () => Promise.reject(err));
        }
        const old = err.Item ? unmarshall(err.Item as Record<string, AttributeValue>) : undefined;
        if (!opts.create || !old || !isExpired(old) || attempt >= 3) throw new ConditionFailedError();
        if (opts.below !== undefined && opts.below <= 0) throw new ConditionFailedError();
        const fresh: Item = { ...opts.create, [path[0]!]: by };
        try {
          await this.put(key, fresh, { ifAbsent: true });
          return fresh as T;
        } catch (e) {
          if (!(e instanceof ConditionFailedError)) throw e;
        }
      }
    }
  }

  async transact(ops: WriteOp[]): Promise<void> {
    const now = nowSeconds();
    await this.send('transaction', () =>
      this.doc.send(
        new TransactWriteCommand({
          TransactItems: ops.map((op) => {
            if ('put' in op) {
              return {
                Put: {
                  TableName: this.tableName,
                  Item: { ...op.put.item, ...op.put.key },
                  ...(op.put.ifAbsent
                    ? {
                        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
                        ExpressionAttributeValues: { ':now': now },
                        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
                      }
                    : {}),
                },
              };
            }
            if ('delete' in op) {
              return {
                Delete: {
                  TableName: this.tableName,
                  Key: op.delete.key,
                  ...(op.delete.ifPresent ? { ConditionExpression: 'attribute_exists(pk)' } : {}),
                },
              };
            }
            if ('consume' in op) {
              const match = op.consume.match ?? {};
              const { names, values, expression } = setExpression({
                ...op.consume.set,
                consumedAt: Date.now(),
              });
              const conds = Object.keys(match).map((k, i) => {
                names[`#m${i}`] = k;
                values[`:m${i}`] = match[k];
                return `#m${i} = :m${i}`;
              });
              return {
                Update: {
                  TableName: this.tableName,
                  Key: op.consume.key,
                  UpdateExpression: expression,
                  ConditionExpression: [
                    `attribute_exists(pk) AND attribute_not_exists(consumedAt) AND ${LIVE}`,
                    ...conds,
                  ].join(' AND '),
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: { ...values, ':now': now },
                },
              };
            }
            const { names, values, expression } = setExpression(op.update.set);
            const conds = op.update.ifPresent || op.update.match ? ['attribute_exists(pk)'] : [];
            Object.entries(op.update.match ?? {}).forEach(([attr, value], i) => {
              names[`#u${i}`] = attr;
              values[`:u${i}`] = value;
              conds.push(`#u${i} = :u${i}`);
            });
            return {
              Update: {
                TableName: this.tableName,
                Key: op.update.key,
                UpdateExpression: expression,
                ExpressionAttributeNames: names,
                ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
                ...(conds.length ? { ConditionExpression: conds.join(' AND ') } : {}),
              },
            };
          }),
        }),
      ),
    );
  }

  async scanPrefix<T extends Item>(pkPrefix: string): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send('scan', () =>
        this.doc.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: 'begins_with(pk, :p)',
            ExpressionAttributeValues: { ':p': pkPrefix },
            // A scan is eventually consistent by default: deleting a tenant (or listing tenants)
            // right after a write could miss items on real DynamoDB and leave orphans.
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const it of out.Items ?? []) items.push(it as T);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

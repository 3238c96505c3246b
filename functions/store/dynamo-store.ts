import { marshall, unmarshall, type marshallOptions } from '@aws-sdk/util-dynamodb';
import { AwsApiError, type AwsApi } from '../aws/json-api.js';
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
  type UpdateOptions,
  type WriteOp,
} from './store.js';

/** A live item: present and not past its `expiresAt` (TTL deletes late, so we check ourselves). */
const LIVE = '(attribute_not_exists(expiresAt) OR expiresAt > :now)';

/** As lib-dynamodb was configured: undefined attributes are left out, class instances refused. */
const MARSHALL: marshallOptions = { removeUndefinedValues: true, convertClassInstanceToMap: false };

type Raw = Record<string, unknown>;
/** A wire attribute-value map (`{ S: ... }`, `{ N: ... }`). */
type Wire = Record<string, unknown>;

const toWire = (value: Record<string, unknown>): Wire => marshall(value, MARSHALL) as Wire;
/** A key on the wire: only `pk` and `sk`, whatever else the object carries. */
const keyWire = (key: Key): Wire => toWire({ pk: key.pk, sk: key.sk });
const fromWire = (value: unknown): Raw => unmarshall(value as Parameters<typeof unmarshall>[0]);
/** ExpressionAttributeValues, marshalled when present. */
const wireValues = (values: Record<string, unknown> | undefined) =>
  values && Object.keys(values).length ? { ExpressionAttributeValues: toWire(values) } : {};

/** The item a failed condition hands back (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). */
const oldItem = (err: AwsApiError): Raw | undefined =>
  err.fields.Item ? fromWire(err.fields.Item) : undefined;

interface BatchGetOutput {
  Responses?: Record<string, Wire[]>;
  UnprocessedKeys?: Record<string, { Keys?: Wire[] }>;
}

const isConditionFailure = (err: unknown): err is AwsApiError =>
  err instanceof AwsApiError && err.name === 'ConditionalCheckFailedException';

function strip<T extends Item>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

/**
 * The DynamoDB adapter of the storage port, on DynamoDB's JSON API (`functions/aws/json-api.ts`;
 * attribute values by `@aws-sdk/util-dynamodb`). Throttling, 5xx, timeouts and network failures
 * are retried by the client, then answered as `BackendUnavailableError`.
 */
export class DynamoStore implements Store {
  constructor(
    readonly tableName: string,
    /** The DynamoDB client (public for the bench, which meters its calls). */
    readonly api: AwsApi,
  ) {}

  /** One DynamoDB operation; failed conditions and lost transactions become `ConditionFailedError`. */
  private async send<T = Raw>(operation: string, input: object): Promise<T> {
    try {
      return await this.api.call<T>(operation, input);
    } catch (err) {
      if (isConditionFailure(err)) throw new ConditionFailedError();
      if (err instanceof AwsApiError && err.name === 'TransactionCanceledException') {
        // A failed condition, or a concurrent transaction on the same item (which won the race),
        // both mean this write lost: callers treat it like a failed condition.
        const reasons = (err.fields.CancellationReasons ?? []) as { Code?: string; Item?: unknown }[];
        if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
          // With ReturnValuesOnConditionCheckFailure, a failed condition carries the item as it was.
          const current = reasons.map((r) => (r.Item ? strip(fromWire(r.Item)) : undefined));
          throw new ConditionFailedError('a condition in the transaction failed', current);
        }
        throw new BackendUnavailableError(`DynamoDB ${operation}: transaction cancelled`, { cause: err });
      }
      throw err;
    }
  }

  async get<T extends Item>(key: Key): Promise<T | undefined> {
    const out = await this.send<{ Item?: Wire }>('GetItem', {
      TableName: this.tableName,
      Key: keyWire(key),
      ConsistentRead: true,
    });
    const item = out.Item ? fromWire(out.Item) : undefined;
    if (!item || isExpired(item)) return undefined;
    return strip<T>(item);
  }

  async batchGet<T extends Item>(keys: readonly Key[]): Promise<(T | undefined)[]> {
    const id = (k: { pk?: unknown; sk?: unknown }) => JSON.stringify([k.pk, k.sk]);
    const found = new Map<string, Raw>();
    // BatchGetItem refuses duplicate keys and takes at most 100 keys a call.
    const unique = [...new Map(keys.map((k) => [id(k), keyWire(k)])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let pending: Wire[] | undefined = unique.slice(i, i + 100);
      // DynamoDB may hand back part of a batch unprocessed (throttling, 16 MB): ask again for it,
      // a few times with a short backoff, then give up like a throttled call.
      for (let round = 0; pending?.length; round++) {
        if (round === 4) throw new BackendUnavailableError('DynamoDB batchGet: keys left unprocessed');
        if (round > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
        const out: BatchGetOutput = await this.send('BatchGetItem', {
          RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
        });
        for (const wire of out.Responses?.[this.tableName] ?? []) {
          const it = fromWire(wire);
          found.set(id(it), it);
        }
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return keys.map((k) => {
      const it = found.get(id(k));
      return it && !isExpired(it) ? strip<T>(it) : undefined;
    });
  }

  async put(key: Key, item: Item, opts: { ifAbsent?: boolean } = {}): Promise<void> {
    await this.send('PutItem', {
      TableName: this.tableName,
      Item: toWire({ ...item, ...key }),
      // An expired leftover (not yet deleted by TTL) does not block a new item.
      ...(opts.ifAbsent
        ? {
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
            ...wireValues({ ':now': nowSeconds() }),
          }
        : {}),
    });
  }

  async update<T extends Item>(key: Key, set: Item, opts: UpdateOptions = {}): Promise<T> {
    const { names, values, expression } = setExpression(set);
    const matches = Object.entries(opts.match ?? {}).map(([attr, value], i) => {
      names[`#m${i}`] = attr;
      values[`:m${i}`] = value;
      return ` AND #m${i} = :m${i}`;
    });
    const out = await this.send<{ Attributes?: Wire }>('UpdateItem', {
      TableName: this.tableName,
      Key: keyWire(key),
      UpdateExpression: expression,
      ConditionExpression: `attribute_exists(pk) AND ${LIVE}${opts.unconsumed ? ' AND attribute_not_exists(consumedAt)' : ''}${matches.join('')}`,
      ExpressionAttributeNames: names,
      ...wireValues({ ...values, ':now': nowSeconds() }),
      ReturnValues: 'ALL_NEW',
    });
    return strip<T>(out.Attributes ? fromWire(out.Attributes) : {});
  }

  async addToSet(key: Key, attr: string, values: readonly string[]): Promise<void> {
    if (!values.length) return;
    await this.send('UpdateItem', {
      TableName: this.tableName,
      Key: keyWire(key),
      UpdateExpression: 'ADD #s :v',
      ConditionExpression: `attribute_exists(pk) AND ${LIVE}`,
      ExpressionAttributeNames: { '#s': attr },
      ...wireValues({ ':v': new Set(values), ':now': nowSeconds() }),
    });
  }

  async delete(key: Key): Promise<void> {
    await this.send('DeleteItem', { TableName: this.tableName, Key: keyWire(key) });
  }

  async query<T extends Item>(pk: string, skPrefix?: string): Promise<T[]> {
    const items: T[] = [];
    let start: Wire | undefined;
    do {
      const out = await this.send<{ Items?: Wire[]; LastEvaluatedKey?: Wire }>('Query', {
        TableName: this.tableName,
        KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :sk)' : 'pk = :pk',
        ...wireValues(skPrefix ? { ':pk': pk, ':sk': skPrefix } : { ':pk': pk }),
        ConsistentRead: true,
        ExclusiveStartKey: start,
      });
      for (const wire of out.Items ?? []) {
        const it = fromWire(wire);
        if (!isExpired(it)) items.push({ ...strip<T>(it), sk: it.sk } as T);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async consume<T extends Item>(key: Key, extra: Item = {}): Promise<ConsumeResult<T>> {
    const now = Date.now();
    const { names, values, expression } = setExpression({ ...extra, consumedAt: now });
    try {
      const out = await this.api.call<{ Attributes?: Wire }>('UpdateItem', {
        TableName: this.tableName,
        Key: keyWire(key),
        UpdateExpression: expression,
        ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(consumedAt) AND ${LIVE}`,
        ExpressionAttributeNames: names,
        ...wireValues({ ...values, ':now': nowSeconds(now) }),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { status: 'consumed', item: strip<T>(out.Attributes ? fromWire(out.Attributes) : {}) };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const old = oldItem(err);
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
        const out = await this.api.call<{ Attributes?: Wire }>('UpdateItem', {
          TableName: this.tableName,
          Key: keyWire(key),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ...wireValues({ ...values, ':now': nowSeconds() }),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        });
        return strip<T>(out.Attributes ? fromWire(out.Attributes) : {});
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        const old = oldItem(err);
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
    await this.send('TransactWriteItems', { TransactItems: ops.map((op) => this.transactItem(op, now)) });
  }

  /** One operation of a `TransactWriteItems`, on the wire. */
  private transactItem(op: WriteOp, now: number): object {
    const TableName = this.tableName;
    if ('put' in op) {
      const Item = toWire({ ...op.put.item, ...op.put.key });
      if (!op.put.ifAbsent) return { Put: { TableName, Item } };
      return {
        Put: {
          TableName,
          Item,
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ...wireValues({ ':now': now }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      };
    }
    if ('delete' in op) {
      return {
        Delete: {
          TableName,
          Key: keyWire(op.delete.key),
          ...(op.delete.ifPresent ? { ConditionExpression: 'attribute_exists(pk)' } : {}),
        },
      };
    }
    if ('consume' in op) {
      const match = op.consume.match ?? {};
      const { names, values, expression } = setExpression({ ...op.consume.set, consumedAt: Date.now() });
      const conds = Object.keys(match).map((k, i) => {
        names[`#m${i}`] = k;
        values[`:m${i}`] = match[k];
        return `#m${i} = :m${i}`;
      });
      return {
        Update: {
          TableName,
          Key: keyWire(op.consume.key),
          UpdateExpression: expression,
          ConditionExpression: [
            `attribute_exists(pk) AND attribute_not_exists(consumedAt) AND ${LIVE}`,
            ...conds,
          ].join(' AND '),
          ExpressionAttributeNames: names,
          ...wireValues({ ...values, ':now': now }),
        },
      };
    }
    if ('check' in op) {
      return {
        ConditionCheck: {
          TableName,
          Key: keyWire(op.check.key),
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now OR #c < :c',
          ExpressionAttributeNames: { '#c': op.check.absentOrBelow.attribute },
          ...wireValues({ ':now': now, ':c': op.check.absentOrBelow.value }),
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
        TableName,
        Key: keyWire(op.update.key),
        UpdateExpression: expression,
        ExpressionAttributeNames: names,
        ...wireValues(values),
        ...(conds.length ? { ConditionExpression: conds.join(' AND ') } : {}),
      },
    };
  }

  async scanPrefix<T extends Item>(pkPrefix: string): Promise<T[]> {
    const items: T[] = [];
    let start: Wire | undefined;
    do {
      const out = await this.send<{ Items?: Wire[]; LastEvaluatedKey?: Wire }>('Scan', {
        TableName: this.tableName,
        FilterExpression: 'begins_with(pk, :p)',
        ...wireValues({ ':p': pkPrefix }),
        // A scan is eventually consistent by default: deleting a tenant (or listing tenants)
        // right after a write could miss items on real DynamoDB and leave orphans.
        ConsistentRead: true,
        ExclusiveStartKey: start,
      });
      for (const wire of out.Items ?? []) items.push(fromWire(wire) as T);
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

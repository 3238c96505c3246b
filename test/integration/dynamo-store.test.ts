import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AwsApi, staticCredentials } from '../../functions/aws/json-api.js';
import { DynamoStore } from '../../functions/store/dynamo-store.js';
import { BackendUnavailableError } from '../../functions/errors.js';
import { ConditionFailedError, nowSeconds, type Item } from '../../functions/store/store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { freePort, localClient } from '../../local/dynamodb-local.js';
import { freshStore } from '../support/dynamo.js';

let store: DynamoStore;
let rawClient: AwsApi;
let n = 0;
/** A key of its own for each test, so tests never see each other's items. */
const key = (sk = 'item') => ({ pk: `k${++n}-${Math.random().toString(36).slice(2)}`, sk });
const past = () => nowSeconds() - 60;
const future = () => nowSeconds() + 3600;

beforeAll(async () => {
  store = await freshStore('store');
  rawClient = localClient(inject('dynamodbEndpoint'));
});
afterAll(() => rawClient.destroy());

/** The item exactly as stored, bypassing the adapter's expiry check. */
async function raw(k: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
  const out = await rawClient.call<{ Item?: Parameters<typeof unmarshall>[0] }>('GetItem', {
    TableName: store.tableName,
    Key: { pk: { S: k.pk }, sk: { S: k.sk } },
    ConsistentRead: true,
  });
  return out.Item ? unmarshall(out.Item) : undefined;
}

describe('DynamoStore get/put', () => {
  it('round-trips an item, without its key attributes', async () => {
    const k = key();
    const item = { name: 'acme', count: 3, nested: { a: [1, 'two'] }, flag: true, expiresAt: future() };
    await store.put(k, item);
    expect(await store.get(k)).toEqual(item);
    expect(await store.get({ pk: k.pk, sk: 'other' })).toBeUndefined();
    expect(await store.get(key())).toBeUndefined();
  });

  it('drops undefined attributes instead of failing', async () => {
    const k = key();
    await store.put(k, { a: 1, b: undefined });
    expect(await store.get(k)).toEqual({ a: 1 });
  });

  it('overwrites by default', async () => {
    const k = key();
    await store.put(k, { v: 1 });
    await store.put(k, { v: 2 });
    expect(await store.get(k)).toEqual({ v: 2 });
  });

  it('never lets item attributes override the key', async () => {
    const k = key();
    await store.put(k, { pk: 'other', sk: 'other', v: 1 } as Item);
    expect(await store.get(k)).toEqual({ v: 1 });
  });

  it('reads an item whose expiresAt has passed as absent (TTL deletes late)', async () => {
    const k = key();
    await store.put(k, { v: 1, expiresAt: past() });
    expect(await raw(k)).toMatchObject({ v: 1 }); // still physically there
    expect(await store.get(k)).toBeUndefined();
  });

  it('put ifAbsent: conflicts with a live item, succeeds when absent or over an expired leftover', async () => {
    const k = key();
    await store.put(k, { v: 1 }, { ifAbsent: true });
    await expect(store.put(k, { v: 2 }, { ifAbsent: true })).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await store.get(k)).toEqual({ v: 1 });

    const live = key();
    await store.put(live, { v: 1, expiresAt: future() });
    await expect(store.put(live, { v: 2 }, { ifAbsent: true })).rejects.toBeInstanceOf(ConditionFailedError);

    const expired = key();
    await store.put(expired, { v: 1, expiresAt: past() });
    await store.put(expired, { v: 2, expiresAt: future() }, { ifAbsent: true });
    expect(await store.get(expired)).toMatchObject({ v: 2 });
  });

  it('put ifAbsent: of concurrent writers exactly one wins', async () => {
    const k = key();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.put(k, { writer: i }, { ifAbsent: true })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    }
  });

  it('delete removes the item, and deleting a missing item is fine', async () => {
    const k = key();
    await store.put(k, { v: 1 });
    await store.delete(k);
    expect(await store.get(k)).toBeUndefined();
    expect(await raw(k)).toBeUndefined();
    await expect(store.delete(k)).resolves.toBeUndefined();
  });
});

describe('DynamoStore update', () => {
  it('sets and removes attributes of an existing item and returns the new item', async () => {
    const k = key();
    await store.put(k, { a: 1, b: 2, keep: 'x' });
    const updated = await store.update(k, { a: 10, b: undefined, c: 'new' });
    expect(updated).toEqual({ a: 10, c: 'new', keep: 'x' });
    expect(await store.get(k)).toEqual(updated);
  });

  it('ignores pk/sk in the update set', async () => {
    const k = key();
    await store.put(k, { a: 1 });
    expect(await store.update(k, { pk: 'moved', sk: 'moved', a: 2 } as Item)).toEqual({ a: 2 });
    expect(await store.get(k)).toEqual({ a: 2 });
  });

  it('fails with ConditionFailedError on a missing item and creates nothing', async () => {
    const k = key();
    await expect(store.update(k, { a: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await raw(k)).toBeUndefined();
  });

  it('with unconsumed, fails with ConditionFailedError on a consumed item and leaves it untouched', async () => {
    const k = key();
    await store.put(k, { a: 1 });
    expect(await store.update(k, { a: 2 }, { unconsumed: true })).toEqual({ a: 2 });
    await store.consume(k);
    await expect(store.update(k, { a: 3 }, { unconsumed: true })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    expect(await store.get(k)).toMatchObject({ a: 2 });
    // Without the option a consumed item can still be updated.
    expect(await store.update(k, { a: 4 })).toMatchObject({ a: 4 });
  });

  it('fails with ConditionFailedError on an expired item and leaves it untouched', async () => {
    const k = key();
    await store.put(k, { a: 1, expiresAt: past() });
    await expect(store.update(k, { a: 2 })).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await raw(k)).toMatchObject({ a: 1 });
  });
});

describe('DynamoStore update with match, and addToSet', () => {
  it('update with match writes only while the listed attributes hold; of 10 racing writers one wins', async () => {
    const k = key();
    await store.put(k, { rev: 'r1', n: 0 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.update(k, { rev: `r2-${i}`, n: i }, { match: { rev: 'r1' } }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof ConditionFailedError),
    ).toBe(true);
    await expect(store.update(k, { n: 99 }, { match: { rev: 'r1' } })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
  });

  it('addToSet: 30 concurrent adds all land; a missing item is ConditionFailedError and nothing is created', async () => {
    const k = key();
    await store.put(k, { name: 'x' });
    const values = Array.from({ length: 30 }, (_, i) => `v${i}`);
    await Promise.all(values.map((v) => store.addToSet(k, 'tags', [v])));
    const item = await store.get<{ tags: Set<string> }>(k);
    expect([...item!.tags].sort()).toEqual([...values].sort());
    const missing = key();
    await expect(store.addToSet(missing, 'tags', ['a'])).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await store.get(missing)).toBeUndefined();
  });
});

describe('DynamoStore query', () => {
  it('returns the partition, or the items whose sort key has a prefix, leaving out expired ones', async () => {
    const pk = key().pk;
    await store.put({ pk, sk: 'code#1' }, { v: 1 });
    await store.put({ pk, sk: 'code#2' }, { v: 2, expiresAt: future() });
    await store.put({ pk, sk: 'code#3' }, { v: 3, expiresAt: past() });
    await store.put({ pk, sk: 'token#1' }, { v: 4 });
    await store.put({ pk: `${pk}x`, sk: 'code#9' }, { v: 9 });

    const codes = await store.query<{ v: number; sk: string }>(pk, 'code#');
    expect(codes.map((i) => [i.sk, i.v])).toEqual([
      ['code#1', 1],
      ['code#2', 2],
    ]);
    const all = await store.query<{ v: number; sk: string }>(pk);
    expect(all.map((i) => i.sk)).toEqual(['code#1', 'code#2', 'token#1']);
    expect(all.every((i) => !('pk' in i))).toBe(true);
    expect(await store.query(pk, 'nothing#')).toEqual([]);
  });

  it('follows pagination past 1 MB', async () => {
    const pk = key().pk;
    const big = 'x'.repeat(100_000);
    const writes = Array.from({ length: 14 }, (_, i) =>
      store.put({ pk, sk: `p#${String(i).padStart(2, '0')}` }, { big }),
    );
    await Promise.all(writes);
    const items = await store.query<{ sk: string }>(pk, 'p#');
    expect(items).toHaveLength(14);
  });
});

describe('DynamoStore consume', () => {
  it('of 20 concurrent consumes of one item, exactly one gets it; the others see a replay', async () => {
    const k = key();
    await store.put(k, { code: 'abc', expiresAt: future() });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.consume(k, { by: i })));
    const consumed = results.filter((r) => r.status === 'consumed');
    const replayed = results.filter((r) => r.status === 'replayed');
    expect(consumed).toHaveLength(1);
    expect(replayed).toHaveLength(19);
    const winner = consumed[0]!.item;
    expect(winner).toMatchObject({ code: 'abc', by: expect.any(Number), consumedAt: expect.any(Number) });
    // Every loser sees the item as the winner left it, so it can revoke what the winner issued.
    for (const r of replayed) expect(r.item).toEqual(winner);
    expect(await store.get(k)).toEqual(winner);
  });

  it('reports a second, sequential consume as a replay with the consumed item', async () => {
    const k = key();
    await store.put(k, { code: 'abc' });
    const first = await store.consume(k, { issued: 'token-1' });
    expect(first).toMatchObject({ status: 'consumed', item: { code: 'abc', issued: 'token-1' } });
    const second = await store.consume(k, { issued: 'token-2' });
    expect(second).toMatchObject({ status: 'replayed', item: { issued: 'token-1' } });
    expect(await store.get(k)).toMatchObject({ issued: 'token-1' });
  });

  it('reports a missing key as missing and creates nothing', async () => {
    const k = key();
    expect(await store.consume(k)).toEqual({ status: 'missing' });
    expect(await raw(k)).toBeUndefined();
  });

  it('reports an expired item as expired and does not mark it consumed', async () => {
    const k = key();
    await store.put(k, { code: 'abc', expiresAt: past() });
    expect(await store.consume(k)).toMatchObject({ status: 'expired', item: { code: 'abc' } });
    expect(await raw(k)).not.toHaveProperty('consumedAt');
  });
});

describe('DynamoStore transact', () => {
  it('writes every operation when all conditions hold', async () => {
    const a = key();
    const b = key();
    const c = key();
    await store.put(b, { v: 'old' });
    await store.put(c, { v: 'gone' });
    await store.transact([
      { put: { key: a, item: { v: 'a' }, ifAbsent: true } },
      { update: { key: b, set: { v: 'b' }, ifPresent: true } },
      { delete: { key: c, ifPresent: true } },
    ]);
    expect(await store.get(a)).toEqual({ v: 'a' });
    expect(await store.get(b)).toEqual({ v: 'b' });
    expect(await store.get(c)).toBeUndefined();
  });

  it('is all-or-nothing: one failing condition leaves nothing written', async () => {
    const fresh = key();
    const taken = key();
    const updated = key();
    const deleted = key();
    await store.put(taken, { v: 'taken' });
    await store.put(updated, { v: 'before' });
    await store.put(deleted, { v: 'kept' });
    await expect(
      store.transact([
        { put: { key: fresh, item: { v: 'new' }, ifAbsent: true } },
        { update: { key: updated, set: { v: 'after' } } },
        { delete: { key: deleted } },
        { put: { key: taken, item: { v: 'stolen' }, ifAbsent: true } },
      ]),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await raw(fresh)).toBeUndefined();
    expect(await store.get(taken)).toEqual({ v: 'taken' });
    expect(await store.get(updated)).toEqual({ v: 'before' });
    expect(await store.get(deleted)).toEqual({ v: 'kept' });
  });

  it('fails an ifPresent update or delete of a missing item, writing nothing', async () => {
    const fresh = key();
    await expect(
      store.transact([
        { put: { key: fresh, item: { v: 1 } } },
        { update: { key: key(), set: { v: 2 }, ifPresent: true } },
      ]),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(
      store.transact([{ put: { key: fresh, item: { v: 1 } } }, { delete: { key: key(), ifPresent: true } }]),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await raw(fresh)).toBeUndefined();
  });

  it('consumes an item inside a transaction exactly once, together with the other writes', async () => {
    const code = key();
    const issued = key();
    await store.put(code, { client: 'web', expiresAt: future() });
    await store.transact([
      { consume: { key: code, match: { client: 'web' }, set: { token: 't1' } } },
      { put: { key: issued, item: { token: 't1' }, ifAbsent: true } },
    ]);
    expect(await store.get(code)).toMatchObject({
      client: 'web',
      token: 't1',
      consumedAt: expect.any(Number),
    });
    expect(await store.get(issued)).toEqual({ token: 't1' });

    const again = key();
    await expect(
      store.transact([
        { consume: { key: code, set: { token: 't2' } } },
        { put: { key: again, item: { token: 't2' } } },
      ]),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await raw(again)).toBeUndefined();
    expect(await store.get(code)).toMatchObject({ token: 't1' });
  });

  it.each<[string, Item, Record<string, string> | undefined]>([
    ['a missing item', {}, undefined],
    ['an expired item', { client: 'web', expiresAt: nowSeconds() - 60 }, undefined],
    ['an item that does not match', { client: 'web' }, { client: 'other' }],
  ])('refuses a transactional consume of %s, writing nothing', async (name, item, match) => {
    const k = key();
    const other = key();
    if (name !== 'a missing item') await store.put(k, item);
    await expect(
      store.transact([{ consume: { key: k, match } }, { put: { key: other, item: { v: 1 } } }]),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await raw(other)).toBeUndefined();
    if (name === 'a missing item') expect(await raw(k)).toBeUndefined();
    else expect(await raw(k)).not.toHaveProperty('consumedAt');
  });

  it('of concurrent transactional consumes of one item, exactly one wins', async () => {
    const k = key();
    await store.put(k, { v: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.transact([{ consume: { key: k, set: { by: i } } }])),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
  });

  it('lets an ifAbsent put replace an expired leftover', async () => {
    const k = key();
    await store.put(k, { v: 'old', expiresAt: past() });
    await store.transact([{ put: { key: k, item: { v: 'new' }, ifAbsent: true } }]);
    expect(await store.get(k)).toEqual({ v: 'new' });
  });
});

describe('DynamoStore batchGet', () => {
  it('reads many items in one call, in the order asked, expired and missing ones as undefined', async () => {
    const [a, b, gone, missing] = [key(), key(), key(), key()];
    await store.put(a, { v: 'a' });
    await store.put(b, { v: 'b', expiresAt: future() });
    await store.put(gone, { v: 'gone', expiresAt: past() });
    const items = await store.batchGet<{ v: string }>([b, missing, a, gone, a]);
    expect(items).toEqual([
      { v: 'b', expiresAt: expect.any(Number) },
      undefined,
      { v: 'a' },
      undefined,
      { v: 'a' },
    ]);
    expect(await store.batchGet([])).toEqual([]);
  });

  it('reads more than the 100 keys DynamoDB takes in one request', async () => {
    const keys = Array.from({ length: 130 }, () => key());
    for (const [i, k] of keys.entries()) if (i % 3 === 0) await store.put(k, { i });
    const items = await store.batchGet<{ i: number }>(keys);
    expect(items.map((it) => it?.i)).toEqual(keys.map((_, i) => (i % 3 === 0 ? i : undefined)));
  });

  it('sees a write made just before (strongly consistent)', async () => {
    const k = key();
    await store.put(k, { v: 1 });
    await store.update(k, { v: 2 });
    expect(await store.batchGet([k])).toEqual([{ v: 2 }]);
  });
});

/** A stand-in DynamoDB that answers every BatchGetItem from `answers` in turn, recording requests. */
async function batchGetStub(answers: object[]) {
  const requests: { RequestItems: unknown }[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push(JSON.parse(body) as { RequestItems: unknown });
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end(JSON.stringify(answers[Math.min(requests.length, answers.length) - 1]));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, requests, close: () => new Promise((done) => server.close(done)) };
}

describe('DynamoStore batchGet, keys left unprocessed', () => {
  it('asks again for the keys DynamoDB hands back unprocessed, then gives up like a throttled call', async () => {
    const a = { pk: 'a', sk: 'x' };
    const b = { pk: 'b', sk: 'x' };
    const w = (item: Record<string, unknown>) => marshall(item);
    const partial = await batchGetStub([
      { Responses: { t: [w({ ...a, v: 1 })] }, UnprocessedKeys: { t: { Keys: [w(b)] } } },
      { Responses: { t: [w({ ...b, v: 2 })] } },
    ]);
    try {
      const stubbed = new DynamoStore('t', localClient(partial.endpoint));
      expect(await stubbed.batchGet([a, b])).toEqual([{ v: 1 }, { v: 2 }]);
      expect(partial.requests[1]!.RequestItems).toEqual({ t: { Keys: [w(b)], ConsistentRead: true } });
    } finally {
      await partial.close();
    }

    const never = await batchGetStub([{ UnprocessedKeys: { t: { Keys: [w(a)] } } }]);
    try {
      const stubbed = new DynamoStore('t', localClient(never.endpoint));
      await expect(stubbed.batchGet([a])).rejects.toBeInstanceOf(BackendUnavailableError);
    } finally {
      await never.close();
    }
  });
});

describe('DynamoStore transact, failed conditions', () => {
  it('hands back the item that made a put-if-absent fail, and nothing for the others', async () => {
    const [taken, fresh] = [key(), key()];
    await store.put(taken, { owner: 'first', expiresAt: future() });
    const failure = await store
      .transact([
        { put: { key: fresh, item: { v: 'new' } } },
        { put: { key: taken, item: { owner: 'second' }, ifAbsent: true } },
      ])
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(ConditionFailedError);
    expect((failure as ConditionFailedError).current).toEqual([
      undefined,
      { owner: 'first', expiresAt: expect.any(Number) },
    ]);
    expect(await raw(fresh)).toBeUndefined();
  });

  it('writes only while each check holds: the item absent or expired, or its attribute below the value', async () => {
    const [absent, below, expired, atOrAbove, written] = [key(), key(), key(), key(), key()];
    await store.put(below, { revokedAt: 99, expiresAt: future() });
    await store.put(expired, { revokedAt: 500, expiresAt: nowSeconds() - 10 });
    await store.put(atOrAbove, { revokedAt: 100, expiresAt: future() });
    const check = (k: typeof absent) => ({
      check: { key: k, absentOrBelow: { attribute: 'revokedAt', value: 100 } },
    });
    await store.transact([
      { put: { key: written, item: { v: 1 } } },
      check(absent),
      check(below),
      check(expired),
    ]);
    expect(await raw(written)).toMatchObject({ v: 1 });
    await expect(
      store.transact([{ put: { key: written, item: { v: 2 } } }, check(absent), check(atOrAbove)]),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    // Nothing of the failed transaction was written, and a check writes nothing of its own.
    expect(await raw(written)).toMatchObject({ v: 1 });
    expect(await raw(absent)).toBeUndefined();
  });
});

describe('DynamoStore scanPrefix', () => {
  it('finds every item whose partition key starts with the prefix, with its key', async () => {
    const prefix = `${key().pk}#`;
    await store.put({ pk: `${prefix}a`, sk: '1' }, { v: 1 });
    await store.put({ pk: `${prefix}b`, sk: '2' }, { v: 2 });
    await store.put({ pk: `x${prefix}`, sk: '3' }, { v: 3 });
    const items = await store.scanPrefix<{ pk: string; sk: string; v: number }>(prefix);
    expect(items.map((i) => [i.pk, i.sk, i.v]).sort()).toEqual([
      [`${prefix}a`, '1', 1],
      [`${prefix}b`, '2', 2],
    ]);
  });
});

describe('DynamoStore reads', () => {
  it('are all strongly consistent (get, query and the operator scan)', async () => {
    // Record what each read asks DynamoDB for.
    const client = localClient(inject('dynamodbEndpoint'));
    const seen: { command: string; consistent: unknown }[] = [];
    client.observe((call) =>
      seen.push({
        command: call.operation,
        consistent: (call.input as { ConsistentRead?: unknown }).ConsistentRead,
      }),
    );
    const spied = new DynamoStore(store.tableName, client);
    const k = key();
    await spied.put(k, { v: 1 });
    await spied.get(k);
    await spied.query(k.pk);
    await spied.scanPrefix(k.pk);
    client.destroy();
    const reads = seen.filter((s) => /^(Get|Query|Scan)/.test(s.command));
    // (the scan may take several pages: this table holds more than 1 MB)
    expect([...new Set(reads.map((r) => r.command))]).toEqual(['GetItem', 'Query', 'Scan']);
    for (const r of reads) expect(r, r.command).toMatchObject({ consistent: true });
  });
});

describe('DynamoStore when DynamoDB is unreachable', () => {
  it('answers BackendUnavailableError, not a raw network error', async () => {
    const port = await freePort(); // nothing listens there
    const dead = new DynamoStore('nowhere', localClient(`http://127.0.0.1:${port}`, { maxAttempts: 1 }));
    await expect(dead.get(key())).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(dead.put(key(), { v: 1 })).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(dead.consume(key())).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(dead.transact([{ put: { key: key(), item: {} } }])).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it('answers BackendUnavailableError when DynamoDB accepts the connection but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s)); // accepts, never answers
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const { port } = silent.address() as AddressInfo;
    const client = new AwsApi({
      service: 'dynamodb',
      endpoint: `http://127.0.0.1:${port}`,
      region: 'local',
      credentials: staticCredentials({ accessKeyId: 'local', secretAccessKey: 'local' }),
      maxAttempts: 2,
      timeoutMs: 300,
    });
    try {
      const hung = new DynamoStore('nowhere', client);
      await expect(hung.get(key())).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(hung.consume(key())).rejects.toBeInstanceOf(BackendUnavailableError);
    } finally {
      client.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((done) => silent.close(done));
    }
  });
});

describe('TenantStore', () => {
  const A = '11111111-1111-4111-8111-111111111111';
  const B = '22222222-2222-4222-8222-222222222222';

  it('keeps two tenants writing the same logical key apart', async () => {
    const a = new TenantStore(store, A);
    const b = new TenantStore(store, B);
    const k = { pk: 'client#web', sk: 'client' };
    await a.put(k, { owner: 'A' });
    await b.put(k, { owner: 'B' });
    await a.put({ pk: 'client#web', sk: 'secret#1' }, { owner: 'A' });

    expect(await a.get(k)).toEqual({ owner: 'A' });
    expect(await b.get(k)).toEqual({ owner: 'B' });
    expect((await a.query<{ owner: string }>('client#web')).map((i) => i.owner)).toEqual(['A', 'A']);
    expect((await b.query<{ owner: string }>('client#web')).map((i) => i.owner)).toEqual(['B']);
    expect(await b.query('client#web', 'secret#')).toEqual([]);

    // ifAbsent only sees the tenant's own item
    await expect(
      b.put({ pk: 'client#web', sk: 'secret#1' }, { owner: 'B' }, { ifAbsent: true }),
    ).resolves.toBeUndefined();
    await expect(a.put(k, { owner: 'A2' }, { ifAbsent: true })).rejects.toBeInstanceOf(ConditionFailedError);

    // update, consume and delete stay inside the tenant too
    await b.update(k, { owner: 'B2' });
    expect(await a.get(k)).toEqual({ owner: 'A' });
    expect((await b.consume(k)).status).toBe('consumed');
    expect((await a.consume(k)).status).toBe('consumed');
    await a.delete(k);
    expect(await a.get(k)).toBeUndefined();
    expect(await b.get(k)).toMatchObject({ owner: 'B2' });
  });

  it('prefixes every physical partition key with the tenant id', async () => {
    const a = new TenantStore(store, A);
    const k = { pk: 'code#xyz', sk: 'code' };
    await a.put(k, { v: 1 });
    expect(await raw({ pk: `${A}#code#xyz`, sk: 'code' })).toMatchObject({ pk: `${A}#code#xyz`, v: 1 });
    expect(await raw(k)).toBeUndefined();
    const physical = await store.scanPrefix<{ pk: string }>(`${A}#code#`);
    expect(physical.length).toBeGreaterThan(0);
    for (const item of physical) expect(item.pk.startsWith(`${A}#`)).toBe(true);
  });

  it('scopes every operation of a transaction to the tenant', async () => {
    const a = new TenantStore(store, A);
    const b = new TenantStore(store, B);
    const k1 = { pk: 'tx#1', sk: 'x' };
    const k2 = { pk: 'tx#2', sk: 'x' };
    await b.put(k2, { v: 'B' });
    await a.put(k2, { v: 'A' });
    await a.transact([
      { put: { key: k1, item: { v: 'A1' }, ifAbsent: true } },
      { update: { key: k2, set: { v: 'A2' }, ifPresent: true } },
    ]);
    expect(await raw({ pk: `${A}#tx#1`, sk: 'x' })).toMatchObject({ v: 'A1' });
    expect(await b.get(k1)).toBeUndefined();
    expect(await b.get(k2)).toEqual({ v: 'B' });
    await a.transact([{ delete: { key: k2, ifPresent: true } }]);
    expect(await a.get(k2)).toBeUndefined();
    expect(await b.get(k2)).toEqual({ v: 'B' });
    // A batch read sees only the tenant's own items.
    expect(await b.batchGet([k1, k2])).toEqual([undefined, { v: 'B' }]);
    // A tenant that has no such item cannot satisfy ifPresent with another tenant's item.
    await expect(b.transact([{ delete: { key: k1, ifPresent: true } }])).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { AuditEventBody, AuditSource } from '../../functions/audit/events.js';
import { listAuditEvents } from '../../functions/audit/query.js';
import { AUDIT_RETENTION_SECONDS } from '../../functions/audit/recorder.js';
import { AuditLog } from '../../functions/store/audit-log.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import type { Store } from '../../functions/store/store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { TenantRepository } from '../../functions/tenants/tenant-repository.js';
import type { Tenant } from '../../functions/tenants/tenant.js';
import { freshStore } from '../support/dynamo.js';

let store: DynamoStore;
let repo: TenantRepository;
const slug = () => `audit-${randomBytes(4).toString('hex')}`;
const SOURCE: AuditSource = { actor: { kind: 'tenant-secret' }, sourceIp: '203.0.113.9', userAgent: 'test' };
const created = (clientId: string): AuditEventBody => ({ type: 'client.created', detail: { clientId } });

beforeAll(async () => {
  store = await freshStore('audit');
  repo = new TenantRepository(store, 'eu', 0);
});

async function tenant(): Promise<{ tenant: Tenant; scoped: TenantStore }> {
  const { tenant } = await repo.create({ slug: slug() });
  return { tenant, scoped: repo.scoped(tenant.id) };
}

/** Records events at given times (a fixed clock per event), in the order given. */
async function recordAt(scoped: TenantStore, events: [number, AuditEventBody][]): Promise<void> {
  for (const [ms, body] of events) await new AuditLog(scoped, () => ms).record(body, SOURCE);
}

const T0 = Date.parse('2026-11-29T10:00:00.000Z');

describe('audit log in the store', () => {
  it('returns events newest first, across hour buckets, with the source and outcome', async () => {
    const { tenant: t, scoped } = await tenant();
    await recordAt(scoped, [
      [T0 - 2 * 3600_000, created('c1')],
      [T0 - 60_000, created('c2')],
      [T0 - 1000, { type: 'user.deleted', detail: { userId: 'u1' } }],
    ]);
    const since = new Date(T0 - 3 * 3600_000).toISOString();
    const { events, next_cursor } = await listAuditEvents(scoped, t, { since }, T0);
    expect(events.map((e) => e.type)).toEqual(['user.deleted', 'client.created', 'client.created']);
    expect(events.map((e) => (e.detail as { clientId?: string }).clientId)).toEqual([undefined, 'c2', 'c1']);
    expect(events[0]).toMatchObject({
      actor: { kind: 'tenant-secret' },
      sourceIp: '203.0.113.9',
      userAgent: 'test',
      outcome: 'success',
      time: new Date(T0 - 1000).toISOString(),
    });
    expect(events[0]).not.toHaveProperty('pk');
    expect(events[0]).not.toHaveProperty('expiresAt');
    expect(next_cursor).toBeUndefined();
  });

  it('keeps two events of the same millisecond apart and orders by time', async () => {
    const { tenant: t, scoped } = await tenant();
    await recordAt(scoped, [
      [T0 - 5, created('a')],
      [T0 - 5, created('b')],
      [T0 - 4, created('c')],
    ]);
    const { events } = await listAuditEvents(scoped, t, { since: new Date(T0 - 10).toISOString() }, T0);
    expect(events).toHaveLength(3);
    expect((events[0]!.detail as { clientId: string }).clientId).toBe('c');
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('writes a TTL of 90 days, and a copy under the user the event is about', async () => {
    const { tenant: t, scoped } = await tenant();
    await recordAt(scoped, [[T0, { type: 'user.deleted', detail: { userId: 'u9' } }]]);
    const items = await store.scanPrefix<Record<string, unknown>>(`${t.id}#audit`);
    expect(items.map((i) => String(i.pk)).sort()).toEqual([
      `${t.id}#audit#2026-11-29T10`,
      `${t.id}#audit-user#u9#2026-11`,
    ]);
    for (const item of items) expect(item.expiresAt).toBe(T0 / 1000 + AUDIT_RETENTION_SECONDS);
  });

  it('pages with a cursor through every event exactly once', async () => {
    const { tenant: t, scoped } = await tenant();
    const times = Array.from({ length: 7 }, (_, i) => T0 - i * 1_200_000); // every 20 minutes
    await recordAt(
      scoped,
      times.map((ms, i) => [ms, created(`c${i}`)]),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const q = { since: new Date(T0 - 3 * 3600_000).toISOString(), limit: 3 };
      const r = await listAuditEvents(scoped, t, { ...q, ...(cursor ? { cursor } : {}) }, T0 + 1);
      seen.push(...r.events.map((e) => (e.detail as { clientId: string }).clientId));
      cursor = r.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
  });

  it('filters by type and by user (read from the user copies), and by since', async () => {
    const { tenant: t, scoped } = await tenant();
    await recordAt(scoped, [
      [T0 - 3000, { type: 'signin.failed', detail: { userId: 'alice', clientId: 'x', final: false } }],
      [T0 - 2000, created('c1')],
      [T0 - 1000, { type: 'signin.succeeded', detail: { userId: 'bob', clientId: 'x', methods: [] } }],
    ]);
    const byType = await listAuditEvents(scoped, t, { type: 'client.created' }, T0);
    expect(byType.events.map((e) => e.type)).toEqual(['client.created']);
    const byUser = await listAuditEvents(scoped, t, { userId: 'alice' }, T0);
    expect(byUser.events.map((e) => [e.type, e.outcome])).toEqual([['signin.failed', 'failure']]);
    const since = await listAuditEvents(scoped, t, { since: new Date(T0 - 2000).toISOString() }, T0);
    expect(since.events.map((e) => e.type)).toEqual(['signin.succeeded', 'client.created']);
  });

  it("refuses another tenant's cursor, an edited one, and one reused with other filters", async () => {
    const a = await tenant();
    const b = await tenant();
    const events = Array.from({ length: 3 }, (_, i): [number, AuditEventBody] => [T0 - i, created(`a${i}`)]);
    await recordAt(a.scoped, events);
    await recordAt(b.scoped, [[T0 - 1, created('b0')]]);
    const { next_cursor } = await listAuditEvents(a.scoped, a.tenant, { limit: 1 }, T0);
    expect(next_cursor).toBeDefined();
    const cursor = next_cursor!;
    // Tenant B cannot use it, nor its store reach A's events.
    await expect(listAuditEvents(b.scoped, b.tenant, { cursor }, T0)).rejects.toMatchObject({
      status: 400,
      code: 'invalid_cursor',
    });
    const [payload, tag] = cursor.split('.');
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    forged.t = b.tenant.id;
    const edited = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${tag}`;
    await expect(listAuditEvents(b.scoped, b.tenant, { cursor: edited }, T0)).rejects.toMatchObject({
      status: 400,
    });
    await expect(listAuditEvents(a.scoped, a.tenant, { cursor: edited }, T0)).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      listAuditEvents(a.scoped, a.tenant, { cursor, type: 'user.deleted' }, T0),
    ).rejects.toMatchObject({ status: 400 });
    const page2 = await listAuditEvents(a.scoped, a.tenant, { cursor, limit: 1 }, T0);
    expect(page2.events.map((e) => (e.detail as { clientId: string }).clientId)).toEqual(['a1']);
    // B's own listing has only B's event.
    const own = await listAuditEvents(b.scoped, b.tenant, {}, T0);
    expect(own.events.map((e) => (e.detail as { clientId: string }).clientId)).toEqual(['b0']);
  });

  it('never fails the caller when the write fails', async () => {
    const broken = new TenantStore(
      {
        put: () => Promise.reject(new Error('DynamoDB is down')),
        transact: () => Promise.reject(new Error('DynamoDB is down')),
      } as unknown as Store,
      't',
    );
    await expect(
      new AuditLog(broken).record({ type: 'user.deleted', detail: { userId: 'u' } }, SOURCE),
    ).resolves.toBeUndefined();
    await expect(new AuditLog(broken).record(created('c'), SOURCE)).resolves.toBeUndefined();
  });

  it('stops a page at the bucket cap and goes on from there with the cursor', async () => {
    const { tenant: t, scoped } = await tenant();
    const old = T0 - 10 * 24 * 3600_000; // 10 days back: more than one page's 7 days of hours
    await recordAt(scoped, [[old, created('old')]]);
    const first = await listAuditEvents(scoped, t, {}, T0);
    expect(first.events).toEqual([]);
    expect(first.next_cursor).toBeDefined();
    const second = await listAuditEvents(scoped, t, { cursor: first.next_cursor! }, T0);
    expect(second.events.map((e) => (e.detail as { clientId: string }).clientId)).toEqual(['old']);
  });
});

/**
 * Audit events through the real local server: what a management change, a hosted sign-in (right
 * and wrong code), a lockout, a federated flow and a logout record, and the query endpoint's
 * filters, validation, authentication and cursors. A full flow's stored events are scanned for
 * every secret, code, token and cookie used in it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../functions/audit/events.js';
import { userGuessKey } from '../../functions/authenticators/guess-limits.js';
import { servicesFor } from '../../functions/services.js';
import { followAuditEvents } from '../../bin/admin-audit.js';
import { adminFor } from '../support/admin-cli.js';
import { CookieJar } from '../support/cookie-jar.js';
import {
  APP_REDIRECT,
  body,
  docAuth,
  federatedTenant,
  JSON_TYPE,
  newUserId,
  runFlow,
  type TestTenant,
} from '../support/flow.js';
import { authUrl, csrfOf, go, pageLogin, pageUser, redeemCode } from '../support/hosted-login.js';
import { fullClient } from '../support/relying-party.js';
import {
  basic,
  http,
  httpFrom,
  httpFromAnywhere,
  startTestServer,
  type TestServer,
} from '../support/server.js';

let server: TestServer;
let t: TestTenant;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
});
afterAll(() => server.stop());

interface Page {
  events: AuditEvent[];
  next_cursor?: string;
}

/** One `since` for the whole file: a cursor is bound to the filters it was made with. */
const since = new Date(Date.now() - 3600_000).toISOString();

async function audit(tenant: TestTenant, query: Record<string, string> = {}): Promise<Page> {
  const res = await http(`${tenant.origin}/v1/audit-events?${new URLSearchParams({ since, ...query })}`, {
    headers: { authorization: docAuth(tenant) },
  });
  const json = await body<Page>(res);
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

const detail = (e: AuditEvent) => e.detail as Record<string, unknown>;

/** Opens a hosted login for `user` up to the authenticator-app code screen: the page URL and its HTML. */
async function toCodeScreen(jar: CookieJar, clientId: string, email: string) {
  const start = await go(jar, authUrl(t, clientId, APP_REDIRECT).url);
  const page = `${t.origin}${start.headers.get('location')}`;
  const html = await (await go(jar, page)).text();
  await go(jar, `${page}/identify`, { form: { csrf: csrfOf(html), identifier: email } });
  return { page, html: await (await go(jar, `${page}?view=totp`)).text() };
}

describe('audit events', () => {
  it('a management change records its type, the tenant-secret actor, address and user agent', async () => {
    const res = await http(`${t.origin}/v1/clients`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: docAuth(t), 'user-agent': 'audit-test/1.0' },
      body: JSON.stringify({ client_name: 'audited', redirect_uris: [APP_REDIRECT] }),
    });
    const client = await body<{ client_id: string; client_secret: string }>(res);
    expect(res.status).toBe(201);
    const { events } = await audit(t, { type: 'client.created' });
    const event = events.find((e) => detail(e).clientId === client.client_id);
    expect(event).toMatchObject({
      type: 'client.created',
      outcome: 'success',
      actor: { kind: 'tenant-secret' },
      userAgent: 'audit-test/1.0',
    });
    expect(event!.sourceIp).toMatch(/^127\./);
    expect(JSON.stringify(events)).not.toContain(client.client_secret);
  });

  it('a hosted sign-in records a failure for a wrong code and a success, filed under the user', async () => {
    const client = await fullClient(t, { redirect_uris: [APP_REDIRECT] });
    const user = await pageUser(t);
    const jar = new CookieJar();
    const { page, html } = await toCodeScreen(jar, client.client_id, user.email);
    const wrong = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: '000001' } });
    expect(wrong.status).toBe(400);
    await pageLogin(t, new CookieJar(), authUrl(t, client.client_id, APP_REDIRECT).url, user);
    const { events } = await audit(t, { userId: user.userId });
    const types = events.map((e) => e.type);
    expect(types).toEqual(['signin.succeeded', 'signin.failed', 'user.created']);
    expect(events[0]).toMatchObject({
      outcome: 'success',
      actor: { kind: 'user', id: user.userId },
      detail: { userId: user.userId, clientId: client.client_id, methods: ['AUTHENTICATOR_APP'] },
    });
    expect(events[1]).toMatchObject({
      outcome: 'failure',
      detail: { userId: user.userId, method: 'AUTHENTICATOR_APP', final: false },
    });
  });

  it("a lockout (the user's guess back-off) is recorded once, however often it refuses", async () => {
    const client = await fullClient(t, { redirect_uris: [APP_REDIRECT] });
    const user = await pageUser(t);
    // The user's failures at the back-off already, as ten wrong codes would have left them.
    const store = (await servicesFor('us')).tenants.scoped(t.id);
    const now = Math.floor(Date.now() / 1000);
    const state = { failures: 10, lockedUntil: now + 60, version: randomUUID(), expiresAt: now + 3600 };
    await store.put(userGuessKey(user.userId), state);
    const jar = new CookieJar();
    const { page, html } = await toCodeScreen(jar, client.client_id, user.email);
    for (let i = 0; i < 2; i++) {
      const res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
      expect(res.status).toBe(429);
    }
    const { events } = await audit(t, { userId: user.userId, type: 'lockout.guesses' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'failure', detail: { userId: user.userId } });
    expect(detail(events[0]!).retryAfter).toBeGreaterThan(0);
  });

  it('failed client authentications past the limit record one lockout.client_auth', async () => {
    const other = await server.tenant();
    const wrong = basic('not-the-secret');
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await httpFrom('127.0.8.1', `${other.origin}/v1/clients`, {
        headers: { authorization: wrong },
      });
      statuses.push(res.status);
    }
    expect(statuses).toContain(429);
    const { events } = await audit(other, { type: 'lockout.client_auth' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'failure', actor: { kind: 'client' } });
  });

  it('a federated flow records its outcome; a logout and a user deletion end sessions', async () => {
    const userId = newUserId();
    await runFlow(t, { userId, action: 'signIn' });
    const client = await fullClient(t, { redirect_uris: [APP_REDIRECT] });
    const user = await pageUser(t);
    const jar = new CookieJar();
    const req = authUrl(t, client.client_id, APP_REDIRECT);
    const { location } = await pageLogin(t, jar, req.url, user);
    const tokens = await redeemCode(
      t,
      client,
      location.searchParams.get('code')!,
      APP_REDIRECT,
      req.verifier,
    );
    const out = await go(jar, `${t.issuer}/session/end?id_token_hint=${tokens.id_token}`);
    expect(out.status).toBeLessThan(400);
    const del = await http(`${t.origin}/v1/users/${user.userId}`, {
      method: 'DELETE',
      headers: { authorization: docAuth(t) },
    });
    expect(del.status).toBe(204);

    const federated = await audit(t, { userId });
    expect(federated.events.map((e) => [e.type, detail(e).state])).toEqual([['federated.outcome', 'ALLOW']]);
    const { events } = await audit(t, { userId: user.userId });
    expect(events.map((e) => e.type).slice(0, 4)).toEqual([
      'session.ended',
      'user.deleted',
      'session.ended',
      'signin.succeeded',
    ]);
    expect(events.map((e) => detail(e).reason).slice(0, 3)).toEqual(['user_deleted', undefined, 'logout']);
  });

  it('a full flow stores no secret, code, token or cookie in its events', async () => {
    const tenant = await federatedTenant(server);
    const client = await fullClient(tenant, { redirect_uris: [APP_REDIRECT] });
    const user = await pageUser(tenant);
    const jar = new CookieJar();
    const req = authUrl(tenant, client.client_id, APP_REDIRECT);
    const login = await pageLogin(tenant, jar, req.url, user);
    const code = login.location.searchParams.get('code')!;
    const tokens = await redeemCode(tenant, client, code, APP_REDIRECT, req.verifier);
    const session = jar.get('idp_session')!;
    const usedCode = user.totp();
    await go(jar, `${tenant.issuer}/session/end?id_token_hint=${tokens.id_token}`);
    const rotated = await http(`${tenant.origin}/v1/clients/${client.client_id}/secret`, {
      method: 'POST',
      headers: { authorization: docAuth(tenant) },
    });
    const { client_secret: newSecret } = await body<{ client_secret: string }>(rotated);
    const fed = await runFlow(tenant, { userId: newUserId(), action: 'signIn' });

    // The stored items themselves (keys and TTL included), of this hour and the last, and the
    // user's copies, besides what the endpoint answers.
    const store = (await servicesFor('us')).tenants.scoped(tenant.id);
    const hours = [0, 3600_000].map((ago) => new Date(Date.now() - ago).toISOString().slice(0, 13));
    const month = new Date().toISOString().slice(0, 7);
    const partitions = [...hours.map((h) => `audit#${h}`), `audit-user#${user.userId}#${month}`];
    const raw = await Promise.all(partitions.map((pk) => store.query(pk)));
    const all = JSON.stringify([raw, await audit(tenant, { limit: '200' })]);
    expect(all).toContain('signin.succeeded');
    expect(all).toContain('client.secret_rotated');
    for (const secret of [
      tenant.secret,
      client.client_secret!,
      newSecret,
      code,
      req.verifier,
      tokens.id_token,
      tokens.access_token,
      session,
      usedCode,
      fed.tokens.access_token,
      fed.idempotencyKey,
    ])
      expect(all).not.toContain(secret);
  });
});

describe('GET /v1/audit-events', () => {
  it('filters by type, bounds limit and pages with a cursor', async () => {
    const tenant = await server.tenant();
    for (const name of ['one', 'two', 'three']) {
      const res = await http(`${tenant.origin}/v1/clients`, {
        method: 'POST',
        headers: { ...JSON_TYPE, authorization: docAuth(tenant) },
        body: JSON.stringify({ client_name: name, redirect_uris: [APP_REDIRECT] }),
      });
      expect(res.status).toBe(201);
    }
    const first = await audit(tenant, { type: 'client.created', limit: '2' });
    expect(first.events).toHaveLength(2);
    const second = await audit(tenant, { type: 'client.created', limit: '2', cursor: first.next_cursor! });
    expect(second.events).toHaveLength(1);
    const ids = [...first.events, ...second.events].map((e) => e.id);
    expect(new Set(ids).size).toBe(3);
    expect((await audit(tenant, { type: 'user.deleted' })).events).toEqual([]);
  });

  it('answers 400 for bad input, 401 for a wrong secret, and refuses another tenant’s cursor', async () => {
    const a = await server.tenant();
    const b = await server.tenant();
    for (const tenant of [a, a, b]) {
      await http(`${tenant.origin}/v1/clients`, {
        method: 'POST',
        headers: { ...JSON_TYPE, authorization: docAuth(tenant) },
        body: JSON.stringify({ client_name: 'x', redirect_uris: [APP_REDIRECT] }),
      });
    }
    const bad = [
      'limit=0',
      'limit=1000',
      'limit=abc',
      'type=nope',
      'since=yesterday',
      'cursor=abc',
      'unknown=1',
    ];
    for (const query of bad) {
      const res = await http(`${a.origin}/v1/audit-events?${query}`, {
        headers: { authorization: docAuth(a) },
      });
      const json = await body(res);
      expect(res.status, query).toBe(400);
      expect(json).toMatchObject({ error: expect.stringMatching(/^invalid_/) });
      expect(JSON.stringify(json)).not.toMatch(/\n\s+at /);
    }
    const unauthorized = await httpFromAnywhere(`${a.origin}/v1/audit-events`, {
      headers: { authorization: basic('wrong') },
    });
    expect(unauthorized.status).toBe(401);
    const { next_cursor } = await audit(a, { limit: '1' });
    expect(next_cursor).toBeDefined();
    const res = await http(
      `${b.origin}/v1/audit-events?${new URLSearchParams({ since, limit: '1', cursor: next_cursor! })}`,
      { headers: { authorization: docAuth(b) } },
    );
    expect(res.status).toBe(400);
    expect(await body(res)).toMatchObject({ error: 'invalid_cursor' });
  });
});

describe('npm run admin -- audit-events', () => {
  it('lists the operator’s changes (create-tenant, rotate-secret) and refuses a bad filter', async () => {
    const admin = adminFor(server);
    const slug = `audit-cli-${randomUUID().slice(0, 8)}`;
    expect((await admin('create-tenant', '--slug', slug, '--region', 'us')).code).toBe(0);
    expect((await admin('rotate-secret', '--slug', slug, '--region', 'us')).code).toBe(0);
    const listed = await admin('audit-events', '--slug', slug, '--region', 'us');
    expect(listed.code, listed.stderr).toBe(0);
    const { events } = JSON.parse(listed.stdout) as Page;
    expect(events.map((e) => [e.type, e.actor.kind])).toEqual([
      ['tenant.secret_rotated', 'operator'],
      ['tenant.created', 'operator'],
    ]);
    const bad = await admin('audit-events', '--slug', slug, '--region', 'us', '--type', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--type');
  });

  it('--follow prints each event once, oldest first, as JSON lines, new ones as they come', async () => {
    const tenant = await server.tenant();
    const repo = (await servicesFor('us')).tenants;
    const create = async (name: string) => {
      const res = await http(`${tenant.origin}/v1/clients`, {
        method: 'POST',
        headers: { ...JSON_TYPE, authorization: docAuth(tenant) },
        body: JSON.stringify({ client_name: name, redirect_uris: [APP_REDIRECT] }),
      });
      return (await body<{ client_id: string }>(res)).client_id;
    };
    const first = await create('first');
    const second = await create('second');
    const lines: string[] = [];
    const following = followAuditEvents(repo, tenant.slug, {}, (line) => lines.push(line), 3);
    while (!lines.length) await new Promise((resolve) => setTimeout(resolve, 50));
    const third = await create('third');
    await following;
    const printed = lines.map((l) => detail(JSON.parse(l) as AuditEvent).clientId);
    expect(printed).toEqual([first, second, third]);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
  });
});

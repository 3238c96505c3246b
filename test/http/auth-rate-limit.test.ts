/**
 * Failed authentications are limited per source IP and per tenant (issue 9, item 7), the way an
 * attacker's script would meet them: wrong tenant secrets at /init-auth (B2C error fields) and at
 * the management API, wrong client secrets at the token endpoint (OAuth JSON), bursts in
 * parallel, and many IPs against one tenant. Every IP is a real loopback source address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch as undiciFetch, type Response } from 'undici';
import {
  MAX_AUTH_FAILURES_PER_IP,
  MAX_AUTH_FAILURES_PER_TENANT,
} from '../../functions/clients/auth-failures.js';
import { agentFrom, basic, startTestServer, type TestServer } from '../support/server.js';
import { body, FORM_TYPE, JSON_TYPE, type TestTenant } from '../support/flow.js';
import { registerApp, type App } from '../support/decoupled-grants.js';

let server: TestServer;
const WRONG = 'x'.repeat(43);

function initAuth(t: TestTenant, ip: string, secret: string): Promise<Response> {
  return undiciFetch(`${t.origin}/init-auth`, {
    method: 'POST',
    headers: { ...JSON_TYPE, authorization: basic(secret, secret) },
    body: JSON.stringify({ userId: 'u1', action: 'signIn' }),
    dispatcher: agentFrom(ip),
  });
}

function listClients(t: TestTenant, ip: string, secret: string): Promise<Response> {
  return undiciFetch(`${t.origin}/v1/clients`, {
    headers: { authorization: basic(secret) },
    dispatcher: agentFrom(ip),
  });
}

function clientCredentials(t: TestTenant, ip: string, app: App, secret: string): Promise<Response> {
  return undiciFetch(`${t.issuer}/token`, {
    method: 'POST',
    headers: { ...FORM_TYPE, authorization: basic(app.client_id, secret) },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
    dispatcher: agentFrom(ip),
  });
}

async function statuses(requests: (() => Promise<Response>)[]): Promise<number[]> {
  const out: number[] = [];
  for (const request of requests) {
    const res = await request();
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

function expectRetryAfter(res: Response): void {
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(120);
}

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('failed tenant-secret authentications', () => {
  it('answers 429 with Retry-After and the B2C fields after 20 failures from one IP, even to the right secret', async () => {
    const t = await server.tenant();
    const got = await statuses(times(30, () => () => initAuth(t, '127.0.0.2', WRONG)));
    expect(got.slice(0, MAX_AUTH_FAILURES_PER_IP)).toEqual(times(MAX_AUTH_FAILURES_PER_IP, () => 401));
    expect(got.slice(MAX_AUTH_FAILURES_PER_IP)).toEqual(times(30 - MAX_AUTH_FAILURES_PER_IP, () => 429));

    const blocked = await initAuth(t, '127.0.0.2', t.secret);
    expect(blocked.status).toBe(429);
    expectRetryAfter(blocked);
    const fields = await body(blocked);
    expect(fields).toMatchObject({ version: '1.0.0', status: 409, code: 'too_many_requests' });
    expect(fields.userMessage).toEqual(expect.any(String));
    expect(fields.developerMessage).toMatch(/too many failed/);

    // Another IP, same tenant: untouched.
    expect((await initAuth(t, '127.0.0.3', t.secret)).status).toBe(200);
    expect((await initAuth(t, '127.0.0.3', WRONG)).status).toBe(401);
  });

  it('never counts successes (B2C calls from shared addresses)', async () => {
    const t = await server.tenant();
    const ok = await statuses(times(50, () => () => listClients(t, '127.0.0.5', t.secret)));
    expect(ok).toEqual(times(50, () => 200));
    const wrong = await statuses(
      times(MAX_AUTH_FAILURES_PER_IP, () => () => listClients(t, '127.0.0.5', WRONG)),
    );
    expect(wrong).toEqual(times(MAX_AUTH_FAILURES_PER_IP, () => 401));
    expect((await listClients(t, '127.0.0.5', t.secret)).status).toBe(429);
  });

  it('counts every failure of a 30-way parallel burst', async () => {
    const t = await server.tenant();
    const burst = await Promise.all(times(30, () => listClients(t, '127.0.0.6', WRONG)));
    for (const res of burst) expect([401, 429]).toContain(res.status);
    const after = await listClients(t, '127.0.0.6', t.secret);
    expect(after.status).toBe(429);
    expect((await body(after)).error).toBe('too_many_requests');
  });

  it('slows a guesser spread over many IPs with a per-tenant ceiling; fresh IPs and other tenants still work', async () => {
    const t = await server.tenant();
    const other = await server.tenant();
    const ips = times(20, (i) => `127.0.1.${i + 1}`);
    const perIp = MAX_AUTH_FAILURES_PER_TENANT / ips.length;
    expect(perIp).toBeLessThan(MAX_AUTH_FAILURES_PER_IP);
    const spread = await Promise.all(
      ips.map((ip) => statuses(times(perIp, () => () => listClients(t, ip, WRONG)))),
    );
    expect(spread.flat()).toEqual(times(MAX_AUTH_FAILURES_PER_TENANT, () => 401));

    // Every IP that has failed is now refused, right secret or not, below its own limit.
    const again = await listClients(t, ips[0]!, WRONG);
    expect(again.status).toBe(429);
    expectRetryAfter(again);
    expect((await listClients(t, ips[1]!, t.secret)).status).toBe(429);
    // A source with no failure of its own still gets in; its first failure is its last.
    expect((await listClients(t, '127.0.2.1', t.secret)).status).toBe(200);
    expect((await listClients(t, '127.0.2.2', WRONG)).status).toBe(401);
    expect((await listClients(t, '127.0.2.2', WRONG)).status).toBe(429);
    // Another tenant, same IPs: untouched.
    expect((await listClients(other, ips[0]!, other.secret)).status).toBe(200);
    expect((await listClients(other, ips[0]!, WRONG)).status).toBe(401);
  }, 60_000);
});

describe('failed client authentications', () => {
  it('answers 429 in OAuth JSON after 20 wrong client secrets from one IP; other IPs and tenants are unaffected', async () => {
    const t = await server.tenant();
    const other = await server.tenant();
    const app = await registerApp(t, { grant_types: ['client_credentials'] });
    const otherApp = await registerApp(other, { grant_types: ['client_credentials'] });
    const got = await statuses(times(30, () => () => clientCredentials(t, '127.0.0.8', app, WRONG)));
    expect(got.slice(0, MAX_AUTH_FAILURES_PER_IP)).toEqual(times(MAX_AUTH_FAILURES_PER_IP, () => 401));
    expect(got.slice(MAX_AUTH_FAILURES_PER_IP)).toEqual(times(30 - MAX_AUTH_FAILURES_PER_IP, () => 429));

    const blocked = await clientCredentials(t, '127.0.0.8', app, app.client_secret!);
    expect(blocked.status).toBe(429);
    expectRetryAfter(blocked);
    const json = await body(blocked);
    expect(json.error).toBe('too_many_requests');
    expect(json.error_description).toEqual(expect.any(String));
    expect(json).not.toHaveProperty('userMessage');

    // The tenant secret shares the budget: the same IP is blocked at the management API too.
    expect((await listClients(t, '127.0.0.8', t.secret)).status).toBe(429);
    expect((await clientCredentials(t, '127.0.0.9', app, app.client_secret!)).status).toBe(200);
    expect((await clientCredentials(other, '127.0.0.8', otherApp, otherApp.client_secret!)).status).toBe(200);
  });
});

/**
 * /v1/identity-providers: validation and bad input (a clear 400, never a 500), the tenant secret,
 * other tenants, the 20-provider cap, and the secret: never in an answer, the audit log or a log
 * line, even through a whole sign-in and a failing one.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import { body, docAuth, JSON_TYPE, type TestTenant } from '../support/flow.js';
import { authUrl, go } from '../support/hosted-login.js';
import { startUpstreamOp, type UpstreamOp } from '../support/upstream-op.js';

let server: TestServer;
let t: TestTenant;
let op: UpstreamOp;
const SECRET = `upstream-secret-${randomBytes(8).toString('hex')}`;

const put = (tenant: TestTenant, id: string, payload: unknown, auth = docAuth(tenant)) =>
  http(`${tenant.origin}/v1/identity-providers/${id}`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: auth },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
const get = (tenant: TestTenant, path = '') =>
  http(`${tenant.origin}/v1/identity-providers${path}`, { headers: { authorization: docAuth(tenant) } });
const generic = (extra: Record<string, unknown> = {}) => ({
  type: 'oidc',
  name: 'Corp',
  issuer: op.issuer,
  client_id: 'rp',
  client_secret: SECRET,
  ...extra,
});

beforeAll(async () => {
  server = await startTestServer();
  op = await startUpstreamOp();
  t = await server.tenant();
}, 60_000);
afterAll(async () => {
  await op?.close();
  await server?.stop();
});

describe('/v1/identity-providers', () => {
  it('puts, reads, lists and deletes; presets fill issuer and scopes; redirect_uri is the callback', async () => {
    let res = await put(t, 'corp', generic());
    expect(res.status).toBe(201);
    const saved = await body<Record<string, unknown>>(res);
    expect(saved).toMatchObject({
      id: 'corp',
      type: 'oidc',
      issuer: op.issuer,
      scopes: 'openid email profile',
      linkByEmail: false,
      redirect_uri: `${t.origin}/oidc/callback/corp`,
    });
    res = await put(t, 'corp', generic({ name: 'Corp 2' }));
    expect(res.status).toBe(200);
    res = await put(t, 'google', { type: 'google', name: 'Google', client_id: 'g', client_secret: SECRET });
    expect(await body(res)).toMatchObject({
      issuer: 'https://accounts.google.com',
      scopes: 'openid email profile',
    });
    res = await put(t, 'ms', {
      type: 'microsoft',
      name: 'Microsoft',
      client_id: 'm',
      client_secret: SECRET,
      tenant: 'organizations',
    });
    expect(await body(res)).toMatchObject({
      issuer: 'https://login.microsoftonline.com/organizations/v2.0',
      tenant: 'organizations',
    });
    const list = await body<{ providers: { id: string }[] }>(await get(t));
    expect(list.providers.map((p) => p.id)).toEqual(['corp', 'google', 'ms']);
    expect((await body(await get(t, '/corp'))).name).toBe('Corp 2');
    expect(
      (
        await http(`${t.origin}/v1/identity-providers/ms`, {
          method: 'DELETE',
          headers: { authorization: docAuth(t) },
        })
      ).status,
    ).toBe(204);
    expect((await get(t, '/ms')).status).toBe(404);
    expect(
      (
        await http(`${t.origin}/v1/identity-providers/ms`, {
          method: 'DELETE',
          headers: { authorization: docAuth(t) },
        })
      ).status,
    ).toBe(404);
  });

  it('answers bad input with a 400 naming the problem', async () => {
    const cases: [string, unknown, string][] = [
      ['corp', '{not json', ''],
      ['corp', [], ''],
      ['corp', { ...generic(), type: 'saml' }, 'type'],
      ['corp', { ...generic(), issuer: 'http://login.corp.example' }, 'issuer'],
      ['corp', { ...generic(), issuer: 'https://10.1.2.3' }, 'issuer'],
      ['corp', { ...generic(), issuer: 'https://169.254.169.254/latest' }, 'issuer'],
      ['corp', { ...generic(), scopes: 'email profile' }, 'openid'],
      ['corp', { ...generic(), client_secret: '' }, 'client_secret'],
      ['corp', { ...generic(), linkByEmail: 'yes' }, 'linkByEmail'],
      ['corp', { ...generic(), extra: 1 }, 'extra'],
      ['corp', { ...generic(), name: 'a\u0000b' }, 'name'],
      ['Bad_Id', generic(), 'provider id'],
      ['x'.repeat(64), generic(), 'provider id'],
      [
        'apple',
        {
          type: 'apple',
          name: 'Apple',
          client_id: 'a',
          team_id: 'TEAM123456',
          key_id: 'KEY1234567',
          private_key: 'nope',
        },
        'private_key',
      ],
    ];
    for (const [id, payload, mention] of cases) {
      const res = await put(t, id, payload);
      const text = await res.text();
      expect(res.status, `${id} ${JSON.stringify(payload)}: ${text}`).toBe(400);
      expect(text).toContain(mention);
    }
    expect((await get(t, '/Bad_Id')).status).toBe(404);
  });

  it('needs the tenant secret; another tenant sees none of it', async () => {
    await put(t, 'corp', generic());
    expect((await put(t, 'corp', generic(), basic(t.secret, 'wrong'))).status).toBe(401);
    expect((await put(t, 'corp', generic(), basic('wrong'))).status).toBe(401);
    expect((await http(`${t.origin}/v1/identity-providers`)).status).toBe(401);
    const other = await server.tenant();
    expect((await get(other, '/corp')).status).toBe(404);
    expect((await body<{ providers: unknown[] }>(await get(other))).providers).toEqual([]);
    // Another tenant's secret on this tenant's host.
    const res = await http(`${t.origin}/v1/identity-providers/corp`, {
      headers: { authorization: docAuth(other) },
    });
    expect(res.status).toBe(401);
  });

  it('caps a tenant at 20 providers', async () => {
    const tenant = await server.tenant();
    for (let i = 0; i < 20; i++) expect((await put(tenant, `p${i}`, generic())).status).toBe(201);
    const res = await put(tenant, 'p20', generic());
    expect(res.status).toBe(409);
    expect((await body(res)).error).toBe('too_many_providers');
    // Replacing one of the 20 is still fine.
    expect((await put(tenant, 'p3', generic())).status).toBe(200);
  });

  it('never shows the secret: not in answers, audit events or logs, through a sign-in and a failed one', async () => {
    const out: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      }) as never),
    );
    try {
      const saved = await body<{ redirect_uri: string }>(
        await put(t, 'logcheck', generic({ client_id: 'rp-log' })),
      );
      op.addClient({ client_id: 'rp-log', client_secret: SECRET, redirect_uris: [saved.redirect_uri] });
      const answers = [await (await get(t)).text(), await (await get(t, '/logcheck')).text()];
      const clientRes = await http(`${t.origin}/v1/clients`, {
        method: 'POST',
        headers: { ...JSON_TYPE, authorization: docAuth(t) },
        body: JSON.stringify({
          client_name: 'A',
          redirect_uris: ['https://rp.example.com/cb'],
          first_party: true,
        }),
      });
      const client = await body<{ client_id: string }>(clientRes);
      for (const tamper of [undefined, 'token-error'] as const) {
        op.tamper = tamper;
        op.next = { sub: `s-${randomBytes(4).toString('hex')}` };
        const jar = new CookieJar();
        let url = authUrl(t, client.client_id, 'https://rp.example.com/cb', {
          identity_provider: 'logcheck',
        }).url;
        for (let i = 0; i < 12 && !url.startsWith('https://rp.example.com/'); i++) {
          const res = await go(jar, url);
          const location = res.headers.get('location');
          if (!location) break;
          url = new URL(location, url).toString();
        }
        expect(new URL(url).origin).toBe('https://rp.example.com');
      }
      op.tamper = undefined;
      answers.push(
        await (
          await http(`${t.origin}/v1/audit-events?limit=100`, { headers: { authorization: docAuth(t) } })
        ).text(),
      );
      for (const text of answers) expect(text).not.toContain(SECRET);
      expect(out.join('')).toContain('upstream sign-in refused');
      expect(out.join('')).not.toContain(SECRET);
      expect(out.join('')).not.toContain(Buffer.from(`rp-log:${SECRET}`).toString('base64'));
    } finally {
      for (const spy of spies) spy.mockRestore();
      op.tamper = undefined;
    }
  });
});

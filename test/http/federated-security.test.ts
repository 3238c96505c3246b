/**
 * The federated flow under attack: races on one-time codes and tokens, cross-tenant replays, and
 * the redirect URI rules (exact match; never redirect to an unvalidated URI).
 */
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_REDIRECT,
  B2C_REDIRECT,
  SIGN_IN,
  JSON_TYPE,
  authorize,
  b2cAuth,
  body,
  docAuth,
  federatedTenant,
  initAuth,
  newUserId,
  patchRedirectUris,
  postInitAuth,
  redeem,
  redirectParams,
  verify,
  type TestTenant,
  type TokenResponse,
} from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let a: TestTenant;
let b: TestTenant;
beforeAll(async () => {
  server = await startTestServer();
  [a, b] = await Promise.all([federatedTenant(server), federatedTenant(server)]);
});
afterAll(async () => {
  await server.stop();
});

/** A code for a fresh user of tenant `t`, issued to its built-in client for APP_REDIRECT. */
async function codeFor(t: TestTenant): Promise<string> {
  const init = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
  const { params } = redirectParams(
    await authorize(t, { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT }),
  );
  expect(params.code).toBeTruthy();
  return params.code!;
}

/** An error page: HTML, the given status, and no redirect anywhere. */
async function expectErrorPage(res: Response, status = 400): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await res.text();
  expect(html).not.toMatch(/<form|<meta[^>]+refresh|<script/i);
  return html;
}

describe('one-time use under concurrency', () => {
  it('of 20 parallel redemptions of one code exactly one gets tokens; the others get invalid_grant', async () => {
    const code = await codeFor(a);
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await redeem(a, code, APP_REDIRECT, i % 2 ? 'client_secret_basic' : 'client_secret_post');
        return { status: res.status, json: await body<Record<string, unknown>>(res) };
      }),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.json.access_token).toBeTruthy();
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(19);
    for (const r of refused) {
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
    }
  });

  it('refuses a code replayed after a successful redemption', async () => {
    const code = await codeFor(a);
    const first = await redeem(a, code, APP_REDIRECT);
    expect(first.status).toBe(200);
    const again = await redeem(a, code, APP_REDIRECT);
    expect(again.status).toBe(400);
    const json = await body(again);
    expect(json.error).toBe('invalid_grant');
    expect(typeof json.error_description).toBe('string');
  });

  it('refuses a made-up code', async () => {
    const res = await redeem(a, 'x'.repeat(43), APP_REDIRECT);
    expect(res.status).toBe(400);
    expect((await body(res)).error).toBe('invalid_grant');
  });

  it('of 10 parallel /oidc/auth uses of one init-auth token exactly one gets a code', async () => {
    const init = await initAuth(a, { userId: newUserId(), action: SIGN_IN });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        authorize(a, { client_id: a.id, token: init.token, redirect_uri: APP_REDIRECT, state: `s${i}` }),
      ),
    );
    const params = responses.map((res) => redirectParams(res).params);
    const withCode = params.filter((p) => p.code);
    expect(withCode).toHaveLength(1);
    expect(withCode[0]!.error).toBeUndefined();
    const refused = params.filter((p) => !p.code);
    expect(refused).toHaveLength(9);
    for (const p of refused) {
      expect(p.error).toBe('invalid_request');
      expect(p.iss).toBe(a.issuer);
    }
    // Each response carries its own request's state.
    expect(new Set(params.map((p) => p.state)).size).toBe(10);
    // The one code works.
    expect((await redeem(a, withCode[0]!.code!, APP_REDIRECT)).status).toBe(200);
  });

  it('does not let an error response use up the init-auth token', async () => {
    const init = await initAuth(a, { userId: newUserId(), action: SIGN_IN });
    const bad = redirectParams(
      await authorize(a, {
        client_id: a.id,
        token: init.token,
        redirect_uri: APP_REDIRECT,
        response_type: 'token',
      }),
    ).params;
    expect(bad.error).toBe('unsupported_response_type');
    const good = redirectParams(
      await authorize(a, { client_id: a.id, token: init.token, redirect_uri: APP_REDIRECT }),
    ).params;
    expect(good.code).toBeTruthy();
  });
});

describe('tenant isolation', () => {
  it("refuses tenant A's init-auth token at tenant B's /oidc/auth, with an error redirect", async () => {
    const init = await initAuth(a, { userId: newUserId(), action: SIGN_IN });
    const res = await authorize(b, {
      client_id: b.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      state: 'x',
    });
    const { target, params } = redirectParams(res);
    expect(target).toBe(APP_REDIRECT);
    expect(params.code).toBeUndefined();
    expect(params.error).toBe('invalid_request');
    expect(params.state).toBe('x');
    expect(params.iss).toBe(b.issuer);
    // The refused attempt did not touch A's flow: the token still works at A.
    const atA = redirectParams(
      await authorize(a, { client_id: a.id, token: init.token, redirect_uri: APP_REDIRECT }),
    );
    expect(atA.params.code).toBeTruthy();
  });

  it("refuses tenant A's code at tenant B's token endpoint, with B's credentials", async () => {
    const code = await codeFor(a);
    for (const method of ['client_secret_post', 'client_secret_basic'] as const) {
      const res = await redeem(b, code, APP_REDIRECT, method);
      expect(res.status).toBe(400);
      expect((await body(res)).error).toBe('invalid_grant');
    }
    // Still A's, and still unused.
    const res = await redeem(a, code, APP_REDIRECT);
    expect(res.status).toBe(200);
    const tokens = await body<TokenResponse>(res);
    const { payload } = await verify(a, tokens.access_token);
    expect(payload.iss).toBe(a.issuer);
  });

  it("refuses tenant A's code at tenant B with A's own credentials (invalid_client there)", async () => {
    const code = await codeFor(a);
    const res = await redeem(b, code, APP_REDIRECT, 'client_secret_post', a);
    expect(res.status).toBe(401);
    expect((await body(res)).error).toBe('invalid_client');
  });

  it("answers 401 to tenant A's secret on tenant B's /init-auth, in every Basic form", async () => {
    for (const authorization of [
      basic(a.secret),
      basic(a.secret, a.secret),
      basic(a.id, a.secret),
      basic(b.id, a.secret),
    ]) {
      const res = await postInitAuth(b, { userId: newUserId(), action: SIGN_IN }, authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      const json = await body(res);
      expect(json.error).toBeTruthy();
      expect(json.status).toBe(409);
    }
  });

  it("shows an error page, never a redirect, for tenant A's client_id at tenant B's /oidc/auth", async () => {
    const init = await initAuth(a, { userId: newUserId(), action: SIGN_IN });
    await expectErrorPage(
      await authorize(b, { client_id: a.id, token: init.token, redirect_uri: APP_REDIRECT, state: 'x' }),
    );
  });
});

describe('redirect URI rules', () => {
  let t: TestTenant;
  const REGISTERED = 'https://app.example.com/callback';
  beforeAll(async () => {
    t = await federatedTenant(server, [REGISTERED, B2C_REDIRECT]);
  });

  /** `null` leaves the parameter out. */
  const attempt = async (redirectUri: string | null, clientId: string | null = t.id) => {
    const init = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
    return authorize(t, {
      ...(clientId !== null ? { client_id: clientId } : {}),
      token: init.token,
      ...(redirectUri !== null ? { redirect_uri: redirectUri } : {}),
      state: 'st',
      response_type: 'code',
      scope: 'openid',
    });
  };

  it('redirects to a registered URI (the control for the cases below)', async () => {
    expect(redirectParams(await attempt(REGISTERED)).params.code).toBeTruthy();
  });

  it.each([
    ['unregistered', 'https://evil.example.com/callback'],
    ['longer (suffix)', `${REGISTERED}/extra`],
    ['shorter (prefix)', REGISTERED.slice(0, -1)],
    ['with a trailing slash', `${REGISTERED}/`],
    ['with a query', `${REGISTERED}?next=https://evil.example.com`],
    ['with a fragment', `${REGISTERED}#x`],
    ['on http', REGISTERED.replace('https:', 'http:')],
    ['with another host case', REGISTERED.replace('app.example.com', 'APP.example.com')],
    ['on a look-alike host', REGISTERED.replace('app.example.com', 'app.example.com.evil.com')],
    ['with a port', REGISTERED.replace('app.example.com', 'app.example.com:443')],
    ['a B2C authresp with a suffix', `${B2C_REDIRECT}x`],
  ])('shows an error page for a redirect_uri that is %s', async (_, uri) => {
    const html = await expectErrorPage(await attempt(uri));
    expect(html).toMatch(/redirect_uri/);
  });

  it('shows an error page when redirect_uri is missing', async () => {
    await expectErrorPage(await attempt(null));
  });

  it('shows an error page for an unknown or missing client_id', async () => {
    await expectErrorPage(await attempt(REGISTERED, '6e7053be-9cca-4dab-8702-00c8116feb85'));
    await expectErrorPage(await attempt(REGISTERED, 'not-a-client'));
    await expectErrorPage(await attempt(REGISTERED, null));
  });

  it('registers a B2C authresp URI and a B2C custom domain URI, and completes a flow on each', async () => {
    const custom = 'https://login.contoso.com/contoso.onmicrosoft.com/oauth2/authresp';
    const res = await patchRedirectUris(t, [REGISTERED, B2C_REDIRECT, custom]);
    expect(res.status).toBe(200);
    expect((await body<{ redirect_uris: string[] }>(res)).redirect_uris).toEqual([
      REGISTERED,
      B2C_REDIRECT,
      custom,
    ]);
    const read = await http(`${t.origin}/v1/clients/${t.id}`, { headers: { authorization: docAuth(t) } });
    expect((await body<{ redirect_uris: string[] }>(read)).redirect_uris).toEqual([
      REGISTERED,
      B2C_REDIRECT,
      custom,
    ]);
    for (const uri of [B2C_REDIRECT, custom]) {
      const { target, params } = redirectParams(await attempt(uri));
      expect(target).toBe(uri);
      expect(params.code).toBeTruthy();
      expect((await redeem(t, params.code!, uri)).status).toBe(200);
    }
  });

  it.each([
    ['http on a non-loopback host', 'http://evil.example.com/cb'],
    ['a fragment', 'https://app.example.com/cb#frag'],
    ['a wildcard host', 'https://*.b2clogin.com/contoso.onmicrosoft.com/oauth2/authresp'],
    ['a wildcard path', 'https://contoso.b2clogin.com/*'],
    ['a relative URI', '/oauth2/authresp'],
    ['user info', 'https://user:pass@app.example.com/cb'],
  ])(
    'refuses to register a redirect URI with %s (400), leaving the registered ones as they were',
    async (_, uri) => {
      const res = await patchRedirectUris(t, [REGISTERED, uri]);
      expect(res.status).toBe(400);
      const json = await body(res);
      expect(json.error).toBeTruthy();
      expect(typeof json.error_description).toBe('string');
      const read = await http(`${t.origin}/v1/clients/${t.id}`, { headers: { authorization: docAuth(t) } });
      expect((await body<{ redirect_uris: string[] }>(read)).redirect_uris).not.toContain(uri);
    },
  );

  it('refuses to register a redirect URI on a new client too', async () => {
    const res = await http(`${t.origin}/v1/clients`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ client_name: 'Evil', redirect_uris: ['http://evil.example.com/cb'] }),
    });
    expect(res.status).toBe(400);
  });

  it.each([
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['a bad token', { token: 'eyJhbGciOiJIUzI1NiJ9.e30.x' }, 'invalid_request'],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
    ['a scope the client may not ask for', { scope: 'openid admin' }, 'invalid_scope'],
    // Without a token it is a hosted login; prompt=none with no session cannot show one.
    ['no token, prompt=none and no session', { token: undefined, prompt: 'none' }, 'login_required'],
  ] as const)(
    'redirects an error with state and iss once the redirect URI is validated: %s',
    async (_, change, error) => {
      const init = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
      const params: Record<string, string> = {
        client_id: t.id,
        token: init.token,
        redirect_uri: REGISTERED,
        response_type: 'code',
        scope: 'openid',
        state: 'keep me',
      };
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete params[k];
        else params[k] = v;
      }
      const { target, params: back } = redirectParams(await authorize(t, params));
      expect(target).toBe(REGISTERED);
      expect(back.error).toBe(error);
      expect(back.code).toBeUndefined();
      expect(back.state).toBe('keep me');
      expect(back.iss).toBe(t.issuer);
    },
  );
});

describe('a code belongs to the client it was issued to', () => {
  it('refuses a code of the built-in client at another client of the same tenant', async () => {
    const created = await http(`${a.origin}/v1/clients`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: b2cAuth(a) },
      body: JSON.stringify({ client_name: 'Other app', redirect_uris: [APP_REDIRECT] }),
    });
    expect(created.status).toBe(201);
    const other = await body<{ client_id: string; client_secret: string }>(created);
    const code = await codeFor(a);
    const res = await redeem(a, code, APP_REDIRECT, 'client_secret_basic', {
      id: other.client_id,
      secret: other.client_secret,
    });
    expect(res.status).toBe(400);
    expect((await body(res)).error).toBe('invalid_grant');
  });
});

/**
 * The Microsoft Entra ID external authentication method (EAM), replayed as Entra speaks it: a local
 * issuer plays Entra (discovery, keys, `id_token_hint`s signed with jose), the requests carry the
 * `claims` Entra sends, the user passes a TOTP challenge on the hosted pages, and the form-posted ID
 * token is verified the way Entra verifies it (keys from this provider's discovery, iss, aud, sub,
 * tid, oid, nonce, acr, amr). Then every refusal an attacker could try.
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraUser } from '../../functions/entra/users.js';
import { servicesFor } from '../../functions/services.js';
import { CookieJar } from '../support/cookie-jar.js';
import {
  ENTRA_CALLBACK,
  FakeEntra,
  entraRequest,
  putIntegration,
  signingKey,
  type EntraSetup,
} from '../support/entra.js';
import { APP_REDIRECT, JSON_TYPE, body, docAuth, parseFormPost, type TestTenant } from '../support/flow.js';
import { authUrl, csrfOf, go, pageUser, type PageUser } from '../support/hosted-login.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let entra: FakeEntra;
let t: TestTenant;
let user: PageUser;
const setup: EntraSetup = {
  tid: randomUUID(),
  applicationId: randomUUID(),
  clientId: `entra-${randomUUID()}`,
};

beforeAll(async () => {
  entra = await FakeEntra.start();
  // The local server reads the authority from the environment, as on AWS.
  process.env.ENTRA_AUTHORITY = entra.authority;
  server = await startTestServer();
  t = await server.tenant();
  user = await pageUser(t);
  await putIntegration(t, setup, { linkExistingUsers: true });
});
afterAll(async () => {
  await server?.stop();
  await entra?.stop();
});

/** Entra's view of this provider: the keys from its discovery document. */
async function entraVerifies(idToken: string, nonce: string) {
  const doc = await body<{ issuer: string; jwks_uri: string }>(
    await http(`${t.issuer}/.well-known/openid-configuration`),
  );
  const jwks = await body<JSONWebKeySet>(await http(doc.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
    issuer: t.issuer,
    audience: setup.clientId,
    algorithms: ['RS256'],
  });
  expect(protectedHeader.alg).toBe('RS256');
  expect(payload.nonce).toBe(nonce);
  return payload;
}

/** Starts an Entra request and follows it to the hosted page; returns the page URL and HTML. */
async function arrive(jar: CookieJar, url: string): Promise<{ page: string; html: string }> {
  const res = await go(jar, url);
  expect(res.status, await res.clone().text()).toBe(303);
  const page = `${t.origin}${res.headers.get('location')}`;
  return { page, html: await (await go(jar, page)).text() };
}

/** The auto-submitting form the provider answers with: to Entra's callback, by POST. */
async function formPost(res: Response | import('undici').Response) {
  expect(res.status, await res.clone().text()).toBe(200);
  const html = await res.text();
  expect(res.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/);
  const form = parseFormPost(html);
  expect(form.method).toBe('post');
  expect(form.action).toBe(ENTRA_CALLBACK);
  return form.fields;
}

describe('Entra EAM: the TOTP challenge', () => {
  it('answers with an ID token Entra accepts, for the user linked by preferred_username', async () => {
    const oid = randomUUID();
    const sub = 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ';
    const hint = await entra.hint({
      tid: setup.tid,
      oid,
      sub,
      aud: setup.applicationId,
      preferred_username: user.email,
    });
    const { url, state, nonce } = entraRequest(t, setup, hint);
    const jar = new CookieJar();
    const { page, html } = await arrive(jar, url);
    expect(html).toContain('autocomplete="one-time-code"');
    // The helper's first code is a step old; a slow run could cross a step boundary and miss the
    // verifier's window, so this test uses the current step's code.
    user.totp();
    const res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
    const fields = await formPost(res);
    expect(fields.state).toBe(state);
    const claims = await entraVerifies(fields.id_token!, nonce);
    expect(claims).toMatchObject({ sub, tid: setup.tid, oid, acr: 'possessionorinherence', amr: ['otp'] });
    expect(typeof claims.iat).toBe('number');
    expect(claims.exp! - claims.iat!).toBeGreaterThan(0);

    // Replayed: the same step again finds the interaction over; no second ID token.
    const again = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: user.totp() } });
    expect(again.status).toBe(400);
    expect(await again.text()).not.toContain('id_token');

    // Recorded like a federated outcome.
    const services = await servicesFor('us');
    const items = await services.tenants
      .scoped(t.id)
      .query<{ sk: string; state?: string }>(`user#${user.userId}`, 'action#entra#');
    expect(items.map((i) => i.state)).toContain('CHALLENGE_SUCCEEDED');
  });

  it('offers only passkeys when Entra accepts only fido: a TOTP-only user is refused', async () => {
    const hint = await entra.hint({
      tid: setup.tid,
      aud: setup.applicationId,
      preferred_username: user.email,
    });
    const { url, state } = entraRequest(t, setup, hint, {
      claims: JSON.stringify({ id_token: { amr: { values: ['fido'] } } }),
    });
    const fields = await formPost(await http(url));
    expect(fields).toMatchObject({ error: 'access_denied', state });
  });

  it('refuses an acr no possession factor satisfies', async () => {
    const hint = await entra.hint({
      tid: setup.tid,
      aud: setup.applicationId,
      preferred_username: user.email,
    });
    const claims = JSON.stringify({ id_token: { acr: { values: ['knowledge'] } } });
    const fields = await formPost(await http(entraRequest(t, setup, hint, { claims }).url));
    expect(fields.error).toBe('access_denied');
  });

  it('ends with access_denied after the attempts run out', async () => {
    const hint = await entra.hint({
      tid: setup.tid,
      aud: setup.applicationId,
      preferred_username: user.email,
    });
    const { url, state } = entraRequest(t, setup, hint);
    const jar = new CookieJar();
    const { page, html } = await arrive(jar, url);
    let res;
    for (let i = 0; i < 5; i++) {
      res = await go(jar, `${page}/totp`, { form: { csrf: csrfOf(html), code: '000000' } });
      if (res.status === 200) break;
    }
    expect(await formPost(res!)).toMatchObject({ error: 'access_denied', state });
  });
});

describe('Entra EAM: refusals', () => {
  const refused = async (hint: string, extra: Record<string, string> = {}) => {
    const { url, state } = entraRequest(t, setup, hint, extra);
    const fields = await formPost(await http(url));
    expect(fields.state).toBe(state);
    expect(fields.id_token).toBeUndefined();
    return fields;
  };

  it('a hint from a tenant not allowed', async () => {
    const hint = await entra.hint({ tid: randomUUID(), aud: setup.applicationId });
    expect((await refused(hint)).error).toBe('invalid_request');
  });

  it('a hint for another audience', async () => {
    const hint = await entra.hint({ tid: setup.tid, aud: randomUUID() });
    expect((await refused(hint)).error).toBe('invalid_request');
  });

  it('a forged hint (signed with a key Entra does not publish, under a published kid)', async () => {
    const forger = await signingKey(entra.published[0]!.kid);
    const hint = await entra.hint({ tid: setup.tid, aud: setup.applicationId }, { key: forger });
    expect((await refused(hint)).error).toBe('invalid_request');
  });

  it('a hint with an issuer of another tenant', async () => {
    const hint = await entra.hint(
      { tid: setup.tid, aud: setup.applicationId },
      { iss: `${entra.authority}/${randomUUID()}/v2.0` },
    );
    expect((await refused(hint)).error).toBe('invalid_request');
  });

  it('a hint expired beyond the window, while one just expired is accepted', async () => {
    const old = await entra.hint({ tid: setup.tid, aud: setup.applicationId }, { expiredSecondsAgo: 3600 });
    expect((await refused(old)).error).toBe('invalid_request');
    const recent = await entra.hint(
      { tid: setup.tid, aud: setup.applicationId, preferred_username: user.email },
      { expiredSecondsAgo: 60 },
    );
    const res = await http(entraRequest(t, setup, recent).url);
    expect(res.status).toBe(303);
  });

  it('a request without nonce', async () => {
    const hint = await entra.hint({ tid: setup.tid, aud: setup.applicationId });
    expect((await refused(hint, { nonce: '' })).error).toBe('invalid_request');
  });

  it('a redirect_uri other than the registered one: a page, nothing sent', async () => {
    const hint = await entra.hint({ tid: setup.tid, aud: setup.applicationId });
    const res = await http(entraRequest(t, setup, hint, { redirect_uri: 'https://evil.example/cb' }).url);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain('evil.example');
  });

  it('response_type=id_token for any other client', async () => {
    const start = authUrl(t, t.id, APP_REDIRECT, { response_type: 'id_token', response_mode: 'form_post' });
    const reg = await http(`${t.origin}/v1/clients/${t.id}`, {
      method: 'PATCH',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ redirect_uris: [APP_REDIRECT] }),
    });
    expect(reg.status).toBe(200);
    const res = await http(start.url);
    const fields =
      res.status === 200
        ? parseFormPost(await res.text()).fields
        : Object.fromEntries(new URL(res.headers.get('location')!).searchParams);
    expect(fields.error).toBe('unsupported_response_type');
  });

  it('after the issuer rotates its keys, a hint under the new kid verifies (the key set is refetched)', async () => {
    const before = await entra.hint({
      tid: setup.tid,
      aud: setup.applicationId,
      preferred_username: user.email,
    });
    expect((await http(entraRequest(t, setup, before).url)).status).toBe(303);
    entra.published = [await signingKey()];
    // jose refetches on an unknown kid at most once per cool-down (5 s, functions/entra/hint.ts).
    await new Promise((r) => setTimeout(r, 5200));
    const after = await entra.hint({
      tid: setup.tid,
      aud: setup.applicationId,
      preferred_username: user.email,
    });
    expect((await http(entraRequest(t, setup, after).url)).status).toBe(303);
  });
});

describe('Entra EAM: users and management', () => {
  it('thirty racing first sign-ins of one Entra user make one local user', async () => {
    const store = (await servicesFor('us')).tenants.scoped(t.id);
    const hint = { sub: 's', tid: setup.tid, oid: randomUUID() };
    const results = await Promise.all(
      Array.from({ length: 30 }, () => entraUser(store, { linkExistingUsers: false }, hint)),
    );
    expect(new Set(results.map((r) => r.userId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('a user with no method enrolls a first one when the tenant allows it, and is refused otherwise', async () => {
    const fresh = await entra.hint({ tid: setup.tid, aud: setup.applicationId });
    const fields = await formPost(await http(entraRequest(t, setup, fresh).url));
    expect(fields.error).toBe('access_denied');
    await putIntegration(t, setup, { linkExistingUsers: true, allowEnrollment: true });
    const jar = new CookieJar();
    const { html } = await arrive(jar, entraRequest(t, setup, fresh).url);
    expect(html).toContain('enroll-totp-start');
    await putIntegration(t, setup, { linkExistingUsers: true });
  });

  it('PUT validates, GET reads, DELETE removes; a registered client id is refused', async () => {
    const url = `${t.origin}/v1/integrations/entra`;
    const bad = await http(url, {
      method: 'PUT',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ tenantIds: ['not-a-guid'], applicationId: setup.applicationId, clientId: 'x' }),
    });
    expect(bad.status).toBe(400);
    const clash = await http(url, {
      method: 'PUT',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ tenantIds: [setup.tid], applicationId: setup.applicationId, clientId: t.id }),
    });
    expect(clash.status).toBe(409);
    expect((await http(url)).status).toBe(401);
    const got = await body(await http(url, { headers: { authorization: docAuth(t) } }));
    expect(got).toMatchObject({
      clientId: setup.clientId,
      redirectUri: ENTRA_CALLBACK,
      tenantIds: [setup.tid],
    });
    // Entra reads the implicit response type from the discovery URL; a tenant without the integration does not offer it.
    const disc = await body<{ response_types_supported: string[] }>(
      await http(`${t.issuer}/.well-known/openid-configuration`),
    );
    expect(disc.response_types_supported).toContain('id_token');
    const other = await server.tenant();
    const plain = await body<{ response_types_supported: string[] }>(
      await http(`${other.issuer}/.well-known/openid-configuration`),
    );
    expect(plain.response_types_supported).toEqual(['code']);
    await putIntegration(other, setup);
    expect(
      (
        await http(`${other.origin}/v1/integrations/entra`, {
          method: 'DELETE',
          headers: { authorization: docAuth(other) },
        })
      ).status,
    ).toBe(204);
    expect(
      (await http(`${other.origin}/v1/integrations/entra`, { headers: { authorization: docAuth(other) } }))
        .status,
    ).toBe(404);
  });
});

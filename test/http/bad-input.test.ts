/**
 * Bad input on every endpoint of the federated flow and its management API: the documented 4xx,
 * never a 500; JSON errors carry `error` and `error_description`, and the B2C endpoints (/init-auth,
 * /get-user) add Azure AD B2C's RESTful error fields (`version`, `status`, `userMessage`).
 */
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_REDIRECT,
  FORM_TYPE,
  JSON_TYPE,
  SIGN_IN,
  authorize,
  b2cAuth,
  docAuth,
  federatedTenant,
  initAuth,
  newUserId,
  postToken,
  redirectParams,
  type TestTenant,
} from '../support/flow.js';
// From many source addresses: this corpus fails authentication on purpose far more often than the
// per-IP failure limit allows, and is about each answer, not the limit.
import { basic, httpFromAnywhere as http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
let other: TestTenant;
beforeAll(async () => {
  server = await startTestServer();
  [t, other] = await Promise.all([federatedTenant(server), server.tenant()]);
});
afterAll(async () => {
  await server.stop();
});

type Style = 'json' | 'b2c' | 'oauth';

/** A JSON error in the endpoint's style; returns the body. */
async function expectError(res: Response, status: number, style: Style, error?: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const json = JSON.parse(text) as Record<string, unknown>;
  expect(typeof json.error, text).toBe('string');
  expect(typeof json.error_description, text).toBe('string');
  expect((json.error_description as string).length).toBeGreaterThan(0);
  if (error) expect(json.error).toBe(error);
  if (style === 'b2c') {
    expect(json.version, text).toBe('1.0.0');
    // B2C shows userMessage only when the body's status is 409 (its RESTful error contract).
    expect(json.status, text).toBe(409);
    expect(json.developerMessage, text).toBe(json.error_description);
    expect(typeof json.userMessage, text).toBe('string');
    expect((json.userMessage as string).length).toBeGreaterThan(0);
  }
  // RFC 6749 §5.2 asks the token endpoint for WWW-Authenticate only when the client used Basic.
  if (status === 401 && style !== 'oauth') expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  // Nothing of the implementation leaks.
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+|node_modules|Error: /);
  return json;
}

const BIG = 'x'.repeat(70 * 1024);
const ACTION_65 = 'a'.repeat(65);
const ACTION_64 = 'a'.repeat(64);

/** The B2C endpoints: POST with a JSON body and the tenant secret. */
function post(
  path: string,
  payload: string,
  headers: Record<string, string> = {},
  auth: string | null = b2cAuth(t),
) {
  return http(`${t.origin}${path}`, {
    method: 'POST',
    headers: { ...JSON_TYPE, ...(auth ? { authorization: auth } : {}), ...headers },
    body: payload,
  });
}

/** The management API: a JSON request with the tenant secret. */
function mgmt(
  method: string,
  path: string,
  payload?: string,
  headers: Record<string, string> = {},
  auth: string | null = docAuth(t),
) {
  return http(`${t.origin}${path}`, {
    method,
    headers: {
      ...(payload !== undefined ? JSON_TYPE : {}),
      ...(auth ? { authorization: auth } : {}),
      ...headers,
    },
    ...(payload !== undefined ? { body: payload } : {}),
  });
}

const AUTH_CASES: [string, string | null][] = [
  ['no Authorization header', null],
  ['a wrong secret', 'WRONG'],
  ['another tenant’s secret', 'OTHER'],
  ['a Bearer token', 'BEARER'],
  ['malformed Basic', 'Basic !!!not-base64!!!'],
  ['Basic with an empty user', 'EMPTY'],
];
function authHeader(kind: string | null): string | null {
  if (kind === null) return null;
  if (kind === 'WRONG') return basic('x'.repeat(43));
  if (kind === 'OTHER') return basic(other.secret, other.secret);
  if (kind === 'BEARER') return `Bearer ${t.secret}`;
  if (kind === 'EMPTY') return basic('', t.secret);
  return kind;
}

describe('POST /init-auth', () => {
  const ok = () => ({ userId: newUserId(), action: SIGN_IN });
  const send = (body: unknown) => post('/init-auth', JSON.stringify(body));

  it('ignores unknown fields (200)', async () => {
    const res = await send({
      ...ok(),
      objectId: 'x',
      displayName: 'Ada',
      nested: { a: { b: 1 } },
      list: [1, 2],
    });
    expect(res.status).toBe(200);
  });

  it('accepts an action code of exactly 64 characters (the control for 65)', async () => {
    expect((await send({ ...ok(), action: ACTION_64 })).status).toBe(200);
  });

  it.each([
    ['malformed JSON', '{"userId": "a", "action": '],
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a JSON string', '"userId"'],
  ])('answers 400 to %s', async (_, payload) => {
    await expectError(await post('/init-auth', payload), 400, 'b2c', 'invalid_request');
  });

  it.each([
    ['no userId', { action: SIGN_IN }],
    ['no action', { userId: 'u1' }],
    ['an empty userId', { userId: '', action: SIGN_IN }],
    ['a numeric userId', { userId: 123456, action: SIGN_IN }],
    ['an action code with a space', { userId: 'u1', action: 'sign In' }],
    ['an action code of 65 characters', { userId: 'u1', action: ACTION_65 }],
    ['an empty action code', { userId: 'u1', action: '' }],
    ['custom with a nested object', { userId: 'u1', action: SIGN_IN, custom: { a: { b: 1 } } }],
    ['custom with an array', { userId: 'u1', action: SIGN_IN, custom: { a: [1] } }],
    ['custom that is not an object', { userId: 'u1', action: SIGN_IN, custom: 'x' }],
    [
      'redirectToSettings that is not a boolean',
      { userId: 'u1', action: SIGN_IN, redirectToSettings: 'yes' },
    ],
    ['an email that is not an address', { userId: 'u1', action: SIGN_IN, email: 'not an email' }],
  ])('answers 400 to a body with %s', async (_, body) => {
    await expectError(await send(body), 400, 'b2c', 'invalid_request');
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', FORM_TYPE],
    ['no content type', { 'content-type': '' }],
  ])('answers 415 to %s', async (_, headers) => {
    await expectError(await post('/init-auth', JSON.stringify(ok()), headers), 415, 'b2c');
  });

  it('accepts application/json with a charset', async () => {
    const res = await post('/init-auth', JSON.stringify(ok()), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(res.status).toBe(200);
  });

  it('answers 413 to a body over 64 KiB', async () => {
    await expectError(await send({ ...ok(), padding: BIG }), 413, 'b2c');
  });

  it.each(AUTH_CASES)('answers 401 with WWW-Authenticate to %s', async (_, kind) => {
    await expectError(await post('/init-auth', JSON.stringify(ok()), {}, authHeader(kind)), 401, 'b2c');
  });
});

describe('POST /get-user', () => {
  const send = (payload: string, headers: Record<string, string> = {}, auth: string | null = b2cAuth(t)) =>
    post('/get-user', payload, headers, auth);

  it('ignores unknown fields (200)', async () => {
    const res = await send(JSON.stringify({ userId: newUserId(), email: 'a@example.com' }));
    expect(res.status).toBe(200);
  });

  it.each([
    ['malformed JSON', '{"userId":'],
    ['no userId', '{}'],
    ['an empty userId', '{"userId":""}'],
    ['a numeric userId', '{"userId":42}'],
    ['a JSON array', '[]'],
  ])('answers 400 to %s', async (_, payload) => {
    await expectError(await send(payload), 400, 'b2c', 'invalid_request');
  });

  it('answers 415 to a form body', async () => {
    await expectError(await send('userId=u1', FORM_TYPE), 415, 'b2c');
  });

  it('answers 413 to a body over 64 KiB', async () => {
    await expectError(await send(JSON.stringify({ userId: 'u1', padding: BIG })), 413, 'b2c');
  });

  it.each(AUTH_CASES)('answers 401 with WWW-Authenticate to %s', async (_, kind) => {
    await expectError(await send('{"userId":"u1"}', {}, authHeader(kind)), 401, 'b2c');
  });
});

describe('POST /oidc/token', () => {
  const creds = () => ({ client_id: t.id, client_secret: t.secret });
  const grant = { grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: APP_REDIRECT };

  it.each([
    ['code', 'code=a&code=b'],
    ['grant_type', 'grant_type=authorization_code&grant_type=authorization_code&code=a'],
    ['client_id', 'grant_type=authorization_code&code=a'],
  ])('answers 400 invalid_request to a repeated %s', async (name, form) => {
    const extra = name === 'client_id' ? `&client_id=${t.id}` : '';
    const res = await http(`${t.origin}/oidc/token`, {
      method: 'POST',
      headers: FORM_TYPE,
      body: `${form}&client_id=${t.id}&client_secret=${t.secret}${extra}`,
    });
    await expectError(res, 400, 'oauth', 'invalid_request');
  });

  it('answers 400 invalid_request without grant_type', async () => {
    await expectError(await postToken(t, { code: 'a', ...creds() }), 400, 'oauth', 'invalid_request');
  });

  it('answers 400 invalid_request without code', async () => {
    await expectError(
      await postToken(t, { grant_type: 'authorization_code', redirect_uri: APP_REDIRECT, ...creds() }),
      400,
      'oauth',
      'invalid_request',
    );
  });

  it.each(['password', 'implicit', 'token', 'urn:example:made-up'])(
    'answers 400 unsupported_grant_type to grant_type=%s',
    async (grantType) => {
      await expectError(
        await postToken(t, { ...grant, grant_type: grantType, ...creds() }),
        400,
        'oauth',
        'unsupported_grant_type',
      );
    },
  );

  // Grants the server may support for other clients: the built-in client may not use them.
  it.each(['client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'])(
    'answers 400 unsupported_grant_type or unauthorized_client to grant_type=%s from the built-in client',
    async (grantType) => {
      const json = await expectError(
        await postToken(t, { ...grant, grant_type: grantType, ...creds() }),
        400,
        'oauth',
      );
      expect(['unsupported_grant_type', 'unauthorized_client']).toContain(json.error);
    },
  );

  it('answers 401 invalid_client to a wrong client_secret in the form', async () => {
    const res = await postToken(t, { ...grant, client_id: t.id, client_secret: 'x'.repeat(43) });
    await expectError(res, 401, 'oauth', 'invalid_client');
  });

  it('answers 401 invalid_client with WWW-Authenticate to a wrong secret in Basic', async () => {
    const res = await postToken(t, grant, { authorization: basic(t.id, 'x'.repeat(43)) });
    await expectError(res, 401, 'oauth', 'invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it("answers 401 invalid_client to another tenant's secret", async () => {
    const res = await postToken(t, { ...grant, client_id: t.id, client_secret: other.secret });
    await expectError(res, 401, 'oauth', 'invalid_client');
  });

  it('answers 401 invalid_client to an unknown client_id', async () => {
    const res = await postToken(t, { ...grant, client_id: other.id, client_secret: other.secret });
    await expectError(res, 401, 'oauth', 'invalid_client');
  });

  it('answers 401 invalid_client without any client authentication', async () => {
    expect((await postToken(t, grant)).status).toBe(401);
    expect((await postToken(t, { ...grant, client_id: t.id })).status).toBe(401);
  });

  it('answers 401 invalid_client with WWW-Authenticate to a Bearer Authorization header', async () => {
    const res = await postToken(t, { ...grant, ...creds() }, { authorization: `Bearer ${t.secret}` });
    await expectError(res, 401, 'oauth', 'invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('answers 400 invalid_request to two client authentication methods at once', async () => {
    const res = await postToken(t, { ...grant, ...creds() }, { authorization: basic(t.id, t.secret) });
    await expectError(res, 400, 'oauth', 'invalid_request');
  });

  it('answers 415 to a JSON body', async () => {
    const res = await http(`${t.origin}/oidc/token`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ ...grant, ...creds() }),
    });
    await expectError(res, 415, 'oauth');
  });

  it('answers 413 to a body over 64 KiB', async () => {
    await expectError(await postToken(t, { ...grant, ...creds(), padding: BIG }), 413, 'oauth');
  });

  it('answers 405 to GET', async () => {
    const res = await http(`${t.origin}/oidc/token`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toMatch(/POST/);
  });
});

describe('/oidc/auth', () => {
  async function expectPage(res: Response, status: number) {
    expect(res.status).toBe(status);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  }

  it('answers a repeated parameter with an error page (there is no telling which redirect_uri is meant)', async () => {
    const init = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
    const q = new URLSearchParams({ client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT });
    q.append('redirect_uri', 'https://evil.example.com/cb');
    await expectPage(await http(`${t.origin}/oidc/auth?${q}`), 400);
  });

  it('accepts the same parameters by POST (the control for the POST cases)', async () => {
    const init = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
    const res = await http(`${t.origin}/oidc/auth`, {
      method: 'POST',
      headers: FORM_TYPE,
      body: new URLSearchParams({
        client_id: t.id,
        token: init.token,
        redirect_uri: APP_REDIRECT,
      }).toString(),
    });
    expect(redirectParams(res).params.code).toBeTruthy();
  });

  it('answers a POST with a JSON body with a 415 page', async () => {
    const res = await http(`${t.origin}/oidc/auth`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ client_id: t.id, redirect_uri: APP_REDIRECT }),
    });
    await expectPage(res, 415);
  });

  it('answers a POST over 64 KiB with a 413 page', async () => {
    const res = await http(`${t.origin}/oidc/auth`, {
      method: 'POST',
      headers: FORM_TYPE,
      body: new URLSearchParams({ client_id: t.id, redirect_uri: APP_REDIRECT, padding: BIG }).toString(),
    });
    await expectPage(res, 413);
  });

  it.each([
    ['a state over 8192 characters', { state: 's'.repeat(8193) }],
    ['a nonce over 2048 characters', { nonce: 'n'.repeat(2049) }],
    ['a token of 10 000 characters', { token: 't'.repeat(10_000) }],
    ['an empty token', { token: '' }],
  ])('redirects invalid_request for %s', async (_, change) => {
    const init = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      ...change,
    });
    const { params } = redirectParams(res);
    expect(params.error).toBe('invalid_request');
    expect(params.code).toBeUndefined();
  });
});

describe('PUT and GET /v1/actions/{action}', () => {
  const put = (
    action: string,
    payload: string,
    headers: Record<string, string> = {},
    auth: string | null = docAuth(t),
  ) => mgmt('PUT', `/v1/actions/${action}`, payload, headers, auth);
  const valid = JSON.stringify({ defaultOutcome: 'ALLOW' });

  it('accepts a 64-character action code (the control for 65)', async () => {
    expect((await put(ACTION_64, valid)).status).toBe(200);
  });

  it.each([
    ['with a space', encodeURIComponent('sign In')],
    ['of 65 characters', ACTION_65],
    ['with a dot', 'sign.in'],
    ['with a slash (encoded)', encodeURIComponent('a/b')],
  ])('answers 400 to an action code %s', async (_, action) => {
    await expectError(await put(action, valid), 400, 'json', 'invalid_request');
    await expectError(await mgmt('GET', `/v1/actions/${action}`), 400, 'json', 'invalid_request');
  });

  it.each([
    ['malformed JSON', '{"defaultOutcome":'],
    ['no defaultOutcome', '{}'],
    ['an unknown outcome', '{"defaultOutcome":"MAYBE"}'],
    ['a lower-case outcome', '{"defaultOutcome":"allow"}'],
    ['a JSON array', '[]'],
  ])('answers 400 to %s', async (_, payload) => {
    await expectError(await put('badInput', payload), 400, 'json', 'invalid_request');
  });

  it('answers 415 to a form body', async () => {
    await expectError(await put('badInput', 'defaultOutcome=ALLOW', FORM_TYPE), 415, 'json');
  });

  it('answers 413 to a body over 1 MiB', async () => {
    await expectError(
      await put('badInput', JSON.stringify({ defaultOutcome: 'ALLOW', padding: 'x'.repeat(1024 * 1024) })),
      413,
      'json',
    );
  });

  it.each(AUTH_CASES)('answers 401 with WWW-Authenticate to %s', async (_, kind) => {
    await expectError(await put('badInput', valid, {}, authHeader(kind)), 401, 'json');
    await expectError(
      await mgmt('GET', '/v1/actions/badInput', undefined, {}, authHeader(kind)),
      401,
      'json',
    );
  });
});

describe('PATCH /v1/clients/{clientId} and POST /v1/clients', () => {
  const patch = (
    payload: string,
    headers: Record<string, string> = {},
    clientId = t.id,
    auth: string | null = docAuth(t),
  ) => mgmt('PATCH', `/v1/clients/${clientId}`, payload, headers, auth);
  const create = (payload: string, headers: Record<string, string> = {}, auth: string | null = docAuth(t)) =>
    mgmt('POST', '/v1/clients', payload, headers, auth);

  it.each([
    ['malformed JSON', '{"redirect_uris":'],
    ['redirect_uris that is not a list', '{"redirect_uris":"https://app.example.com/cb"}'],
    ['a redirect URI that is not a string', '{"redirect_uris":[42]}'],
    ['a repeated redirect URI', JSON.stringify({ redirect_uris: [APP_REDIRECT, APP_REDIRECT] })],
    ['an unknown field', '{"client_secret":"mine"}'],
    ['a lifetime out of range', '{"access_token_lifetime":1}'],
    ['a JSON array', '[]'],
  ])('PATCH answers 400 to %s', async (_, payload) => {
    const json = await expectError(await patch(payload), 400, 'json');
    expect(['invalid_request', 'invalid_client_metadata', 'invalid_redirect_uri']).toContain(json.error);
  });

  it('PATCH answers 404 to an unknown client', async () => {
    await expectError(await patch('{"redirect_uris":[]}', {}, other.id), 404, 'json');
  });

  it('PATCH answers 415 to a form body', async () => {
    await expectError(await patch('redirect_uris=x', FORM_TYPE), 415, 'json');
  });

  it('PATCH answers 413 to a body over 64 KiB', async () => {
    await expectError(await patch(JSON.stringify({ client_name: BIG })), 413, 'json');
  });

  it.each(AUTH_CASES)('PATCH answers 401 with WWW-Authenticate to %s', async (_, kind) => {
    await expectError(
      await patch(JSON.stringify({ redirect_uris: [] }), {}, t.id, authHeader(kind)),
      401,
      'json',
    );
  });

  it.each([
    ['malformed JSON', '{"client_name":'],
    ['a client_name that is blank', '{"client_name":"  "}'],
    ['an unknown client_type', '{"client_name":"x","client_type":"trusted"}'],
    ['an unsupported grant type', '{"client_name":"x","grant_types":["password"]}'],
    [
      'a public client with a secret method',
      '{"client_name":"x","client_type":"public","token_endpoint_auth_method":"client_secret_basic"}',
    ],
  ])('POST answers 400 to %s', async (_, payload) => {
    const json = await expectError(await create(payload), 400, 'json');
    expect(['invalid_request', 'invalid_client_metadata', 'invalid_redirect_uri']).toContain(json.error);
  });

  it('POST answers 415 to a form body', async () => {
    await expectError(await create('client_name=x', FORM_TYPE), 415, 'json');
  });

  it('POST answers 413 to a body over 64 KiB', async () => {
    await expectError(await create(JSON.stringify({ client_name: 'x', padding: BIG })), 413, 'json');
  });

  it.each(AUTH_CASES)('POST answers 401 with WWW-Authenticate to %s', async (_, kind) => {
    await expectError(await create('{"client_name":"x"}', {}, authHeader(kind)), 401, 'json');
  });
});

describe('GET /v1/users/{userId} and its outcome records', () => {
  it.each(AUTH_CASES)('answers 401 with WWW-Authenticate to %s', async (_, kind) => {
    await expectError(await mgmt('GET', `/v1/users/u1`, undefined, {}, authHeader(kind)), 401, 'json');
    await expectError(
      await mgmt('GET', `/v1/users/u1/actions/${SIGN_IN}/${newUserId()}`, undefined, {}, authHeader(kind)),
      401,
      'json',
    );
  });

  it('answers 404 to an outcome that was never recorded', async () => {
    await expectError(await mgmt('GET', `/v1/users/u1/actions/${SIGN_IN}/${newUserId()}`), 404, 'json');
  });

  it("answers 404 to another tenant's outcome record", async () => {
    const userId = newUserId();
    const init = await initAuth(t, { userId, action: SIGN_IN });
    expect(
      redirectParams(await authorize(t, { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT }))
        .params.code,
    ).toBeTruthy();
    const path = `/v1/users/${userId}/actions/${SIGN_IN}/${init.idempotencyKey}`;
    expect((await mgmt('GET', path)).status).toBe(200);
    const res = await http(`${other.origin}${path}`, { headers: { authorization: docAuth(other) } });
    await expectError(res, 404, 'json');
  });

  const key = '6e7053be-9cca-4dab-8702-00c8116feb85';
  it.each([
    ['a userId of 3000 characters', `/v1/users/${'u'.repeat(3000)}`],
    [
      'an outcome path with a userId of 3000 characters',
      `/v1/users/${'u'.repeat(3000)}/actions/${SIGN_IN}/${key}`,
    ],
    [
      'an outcome path with an idempotency key of 2000 characters',
      `/v1/users/u1/actions/${SIGN_IN}/${'k'.repeat(2000)}`,
    ],
    [
      'an outcome path with an idempotency key that is not a UUID',
      `/v1/users/u1/actions/${SIGN_IN}/not-a-key`,
    ],
    ['an outcome path with an action code of 65 characters', `/v1/users/u1/actions/${ACTION_65}/${key}`],
    ['an outcome path with an action code with a space', `/v1/users/u1/actions/sign%20In/${key}`],
  ])('answers 400 (never 500) to %s', async (_, path) => {
    await expectError(await mgmt('GET', path), 400, 'json', 'invalid_request');
  });

  it('answers a new user as not enrolled rather than 404 (B2C asks before enrolling)', async () => {
    const res = await mgmt('GET', `/v1/users/${newUserId()}`);
    expect(res.status).toBe(200);
  });
});

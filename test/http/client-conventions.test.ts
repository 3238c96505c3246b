/**
 * RFC 7591 conventions for registered clients (issue 11 item 7): `client_name` is optional,
 * `token_endpoint_auth_method: none` alone makes a public client (a contradicting `client_type`
 * answers 400 `invalid_client_metadata`), and new clients require PKCE unless a confidential
 * client opts out; the built-in client keeps its behaviour.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_REDIRECT,
  SIGN_IN,
  body,
  federatedTenant,
  initAuth,
  newUserId,
  type TestTenant,
} from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import { oauthError, registerClient } from '../support/relying-party.js';

let server: TestServer;
let t: TestTenant;

const create = (payload: Record<string, unknown>) =>
  http(`${t.origin}/v1/clients`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(t.secret) },
    body: JSON.stringify({ redirect_uris: [APP_REDIRECT], ...payload }),
  });

/** A federated authorization request for the client, with or without a PKCE challenge. */
async function authorizeFor(clientId: string, pkce: boolean): Promise<URLSearchParams> {
  const { token } = await initAuth(t, { userId: newUserId(), action: SIGN_IN, clientId });
  const q = new URLSearchParams({ client_id: clientId, redirect_uri: APP_REDIRECT, token, state: 's' });
  if (pkce) {
    q.set('code_challenge', randomBytes(32).toString('base64url').slice(0, 43));
    q.set('code_challenge_method', 'S256');
  }
  const res = await http(`${t.issuer}/auth?${q}`);
  expect(res.status, await res.clone().text()).toBe(302);
  return new URL(res.headers.get('location')!).searchParams;
}

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
});
afterAll(async () => {
  await server.stop();
});

describe('client_name', () => {
  it('is optional; the consent page shows the client id instead', async () => {
    const res = await create({});
    const json = await body<Record<string, unknown>>(res);
    expect(res.status, JSON.stringify(json)).toBe(201);
    expect(json.client_name).toBeUndefined();
    expect(json.client_type).toBe('confidential');
  });

  it('a blank one is still refused', async () => {
    expect(await oauthError(await create({ client_name: ' ' }))).toMatchObject({ status: 400 });
  });
});

describe('token_endpoint_auth_method none', () => {
  it('alone makes a public client, with PKCE and no secret', async () => {
    const res = await create({ token_endpoint_auth_method: 'none' });
    const json = await body<Record<string, unknown>>(res);
    expect(res.status, JSON.stringify(json)).toBe(201);
    expect(json).toMatchObject({
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      require_pkce: true,
    });
    expect(json.client_secret).toBeUndefined();
  });

  it('with client_type confidential contradicts it: 400 invalid_client_metadata', async () => {
    const res = await create({ client_type: 'confidential', token_endpoint_auth_method: 'none' });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
  });
});

describe('PKCE by default', () => {
  it('a new confidential client requires PKCE', async () => {
    const app = await registerClient(t, {});
    expect(app.require_pkce).toBe(true);
    const refused = await authorizeFor(app.client_id, false);
    expect(refused.get('error')).toBe('invalid_request');
    expect(refused.get('code')).toBeNull();
    expect((await authorizeFor(app.client_id, true)).get('code')).toBeTruthy();
  });

  it('a confidential client may opt out with require_pkce: false', async () => {
    const app = await registerClient(t, { require_pkce: false });
    expect(app.require_pkce).toBe(false);
    expect((await authorizeFor(app.client_id, false)).get('code')).toBeTruthy();
  });

  it('a public client cannot opt out', async () => {
    const res = await create({ token_endpoint_auth_method: 'none', require_pkce: false });
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
  });

  it('the built-in client keeps its behaviour (no PKCE required)', async () => {
    expect((await authorizeFor(t.id, false)).get('code')).toBeTruthy();
  });
});

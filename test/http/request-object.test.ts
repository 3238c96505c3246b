/**
 * Request objects (OIDC Core §6.1) are not supported: a `request` parameter at the authorization
 * endpoint or at PAR is answered `request_not_supported` (OIDC Core §3.1.2.6), never ignored — an
 * attacker's outer parameters must not win over the signed ones the client meant.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_REDIRECT, body, federatedTenant, type TestTenant } from '../support/flow.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import { oauthError, postForm, registerClient, type RegisteredClient } from '../support/relying-party.js';

let server: TestServer;
let t: TestTenant;
let app: RegisteredClient;

/** An unsigned request object an attacker pairs with different outer parameters. */
const requestObject = () =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
    JSON.stringify({ scope: 'openid', redirect_uri: APP_REDIRECT, state: 'inner' }),
  ).toString('base64url')}.`;

function authQuery(extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    client_id: app.client_id,
    redirect_uri: APP_REDIRECT,
    response_type: 'code',
    scope: 'openid',
    state: 'outer',
    code_challenge: randomBytes(32).toString('base64url').slice(0, 43),
    code_challenge_method: 'S256',
    request: requestObject(),
    ...extra,
  }).toString();
}

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  app = await registerClient(t, { redirect_uris: [APP_REDIRECT], scope: 'openid email', first_party: true });
});
afterAll(async () => {
  await server.stop();
});

describe('request objects', () => {
  it('/oidc/auth with request= redirects request_not_supported with state and iss', async () => {
    const res = await http(`${t.issuer}/auth?${authQuery()}`);
    expect(res.status, await res.clone().text()).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(APP_REDIRECT);
    expect(back.searchParams.get('error')).toBe('request_not_supported');
    expect(back.searchParams.get('state')).toBe('outer');
    expect(back.searchParams.get('iss')).toBe(t.issuer);
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('an empty request= is refused too, and never with a code', async () => {
    const res = await http(`${t.issuer}/auth?${authQuery({ request: '' })}`);
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('request_not_supported');
  });

  it('with an unregistered redirect_uri the error is a page, not a redirect', async () => {
    const res = await http(`${t.issuer}/auth?${authQuery({ redirect_uri: 'https://evil.example.com/cb' })}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('request= beside a pushed request_uri is refused, not ignored', async () => {
    const pushed = await postForm(
      t,
      '/request',
      {
        redirect_uri: APP_REDIRECT,
        response_type: 'code',
        scope: 'openid',
        state: 'pushed',
        code_challenge: randomBytes(32).toString('base64url').slice(0, 43),
        code_challenge_method: 'S256',
      },
      { authorization: basic(app.client_id, app.client_secret!) },
    );
    const { request_uri } = await body<{ request_uri: string }>(pushed);
    expect(pushed.status).toBe(201);
    const q = new URLSearchParams({ client_id: app.client_id, request_uri, request: requestObject() });
    const res = await http(`${t.issuer}/auth?${q}`);
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('request_not_supported');
    expect(back.searchParams.get('state')).toBe('pushed');
  });

  it('PAR with request= answers request_not_supported; discovery says request objects are unsupported', async () => {
    const res = await postForm(
      t,
      '/request',
      { redirect_uri: APP_REDIRECT, response_type: 'code', scope: 'openid', request: requestObject() },
      { authorization: basic(app.client_id, app.client_secret!) },
    );
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'request_not_supported' });
    const meta = await body<Record<string, unknown>>(
      await http(`${t.issuer}/.well-known/openid-configuration`),
    );
    expect(meta.request_parameter_supported).toBe(false);
  });
});

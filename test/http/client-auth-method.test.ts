/**
 * The registered `token_endpoint_auth_method` is the only method a client may use (OIDC Core §9,
 * RFC 7591 §2): a client_secret_basic client that sends its secret in the body, or a
 * client_secret_post client that sends it in Basic, is refused with 401 invalid_client at every
 * client-authenticated endpoint. The built-in client is registered for both secret methods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';
import { body, FORM_TYPE, type TestTenant } from '../support/flow.js';
import { registerApp, type App } from '../support/decoupled-grants.js';

let server: TestServer;
let t: TestTenant;
let basicApp: App;
let postApp: App;

const ENDPOINTS = ['/token', '/token/introspection', '/token/revocation', '/request', '/device/auth'];

function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return http(`${t.issuer}${path}`, {
    method: 'POST',
    headers: { ...FORM_TYPE, ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

const asBasic = (app: App) => ({ authorization: basic(app.client_id, app.client_secret!) });
const asPost = (app: App) => ({ client_id: app.client_id, client_secret: app.client_secret! });

beforeAll(async () => {
  server = await startTestServer();
  t = await server.tenant();
  const metadata = {
    redirect_uris: ['https://app.example.com/cb'],
    grant_types: ['authorization_code', 'client_credentials'],
  };
  basicApp = await registerApp(t, { ...metadata, token_endpoint_auth_method: 'client_secret_basic' });
  postApp = await registerApp(t, { ...metadata, token_endpoint_auth_method: 'client_secret_post' });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('token_endpoint_auth_method is enforced', () => {
  it.each(ENDPOINTS)('refuses client_secret_post from a client_secret_basic client at %s', async (path) => {
    const res = await post(path, { ...asPost(basicApp), token: 'x', scope: 'openid' });
    expect(res.status).toBe(401);
    expect((await body(res)).error).toBe('invalid_client');
  });

  it.each(ENDPOINTS)('refuses client_secret_basic from a client_secret_post client at %s', async (path) => {
    const res = await post(path, { token: 'x', scope: 'openid' }, asBasic(postApp));
    expect(res.status).toBe(401);
    expect((await body(res)).error).toBe('invalid_client');
  });

  it('accepts each client with its registered method', async () => {
    const viaBasic = await post('/token', { grant_type: 'client_credentials' }, asBasic(basicApp));
    expect(viaBasic.status, JSON.stringify(await body(viaBasic.clone()))).toBe(200);
    const viaPost = await post('/token', { grant_type: 'client_credentials', ...asPost(postApp) });
    expect(viaPost.status, JSON.stringify(await body(viaPost.clone()))).toBe(200);
  });

  it('lets the built-in client (registered for both secret methods) use Basic and the form', async () => {
    const viaBasic = await post(
      '/token/introspection',
      { token: 'x' },
      { authorization: basic(t.id, t.secret) },
    );
    expect(viaBasic.status).toBe(200);
    const viaPost = await post('/token/introspection', {
      token: 'x',
      client_id: t.id,
      client_secret: t.secret,
    });
    expect(viaPost.status).toBe(200);
  });
});

/**
 * An `/init-auth` token is bound to the client it was started for — the tenant's built-in client
 * unless the tenant's backend names another — and to that client's registered redirect URIs: a
 * public app of the same tenant (or any other client) presenting it gets no code, and the refused
 * attempt leaves the token usable by the client it belongs to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_REDIRECT,
  SIGN_IN,
  authorize,
  federatedTenant,
  initAuth,
  newUserId,
  postInitAuth,
  redeem,
  redirectParams,
  type TestTenant,
} from '../support/flow.js';
import { registerClient, type RegisteredClient } from '../support/relying-party.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
let publicApp: RegisteredClient;
let confidentialApp: RegisteredClient;
beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  publicApp = await registerClient(t, { client_type: 'public', first_party: true });
  confidentialApp = await registerClient(t, { first_party: true });
});
afterAll(async () => {
  await server.stop();
});

const PKCE = { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };

describe('an init-auth token works only with the client it was started for', () => {
  it('a token of the built-in client is refused to every other client of the tenant, and stays usable', async () => {
    const { token } = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
    for (const app of [publicApp, confidentialApp]) {
      const res = await authorize(t, {
        client_id: app.client_id,
        redirect_uri: APP_REDIRECT,
        token,
        ...PKCE,
      });
      const { params } = redirectParams(res);
      expect(params.error).toBe('invalid_request');
      expect(params.code).toBeUndefined();
    }
    const ok = redirectParams(await authorize(t, { client_id: t.id, redirect_uri: APP_REDIRECT, token }));
    expect(ok.params.code).toBeTruthy();
    expect((await redeem(t, ok.params.code!, APP_REDIRECT)).status).toBe(200);
  });

  it('a token started for a named client works with that client only, not the built-in one', async () => {
    const { token } = await initAuth(t, {
      userId: newUserId(),
      action: SIGN_IN,
      clientId: confidentialApp.client_id,
    });
    for (const clientId of [t.id, publicApp.client_id]) {
      const { params } = redirectParams(
        await authorize(t, { client_id: clientId, redirect_uri: APP_REDIRECT, token, ...PKCE }),
      );
      expect(params.error).toBe('invalid_request');
    }
    const ok = redirectParams(
      await authorize(t, {
        client_id: confidentialApp.client_id,
        redirect_uri: APP_REDIRECT,
        token,
        ...PKCE,
      }),
    );
    expect(ok.params.code).toBeTruthy();
  });

  it('/init-auth refuses a client id the tenant does not have', async () => {
    for (const clientId of ['00000000-0000-4000-8000-000000000000', 'x'.repeat(300), '']) {
      const res = await postInitAuth(t, { userId: newUserId(), action: SIGN_IN, clientId });
      expect(res.status).toBe(400);
    }
  });

  it('a redirect URI not registered for the bound client gets no redirect', async () => {
    const { token } = await initAuth(t, { userId: newUserId(), action: SIGN_IN });
    const res = await authorize(t, { client_id: t.id, redirect_uri: 'https://evil.example.com/cb', token });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});

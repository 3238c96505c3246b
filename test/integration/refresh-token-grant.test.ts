import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../functions/clients/client.js';
import { newCode } from '../../functions/oidc/authorization-codes.js';
import { authorizationCodeGrant } from '../../functions/oidc/authorization-code.js';
import { readRefreshToken, refreshTokenGrant } from '../../functions/oidc/refresh.js';
import { expectProtocolError, grantFixture, type GrantFixture } from '../support/grants.js';

let f: GrantFixture;
let client: Client;

beforeAll(async () => {
  f = await grantFixture('refresh-grant');
  client = f.client({ grant_types: ['authorization_code', 'refresh_token'] });
});

const REDIRECT = 'https://app.example.test/cb';

/** A first refresh token, as an authorization code with offline_access yields it. */
async function firstTokens(scope = 'openid profile offline_access') {
  const { code, key, item } = newCode({
    clientId: client.client_id,
    redirectUri: REDIRECT,
    scope,
    userId: `user-${randomUUID()}`,
    authTime: Math.floor(Date.now() / 1000),
  });
  await f.store.put(key, { ...item }, { ifAbsent: true });
  const tokens = await authorizationCodeGrant(
    { form: { code, redirect_uri: REDIRECT }, resources: [] },
    client,
    f.deps,
  );
  return { ...tokens, refresh_token: tokens.refresh_token! };
}

const refresh = (form: Record<string, string>, c = client, now?: number) =>
  refreshTokenGrant({ form, resources: [] }, c, { ...f.deps, ...(now ? { now } : {}) });

describe('refresh_token grant (RFC 6749 §6)', () => {
  it('rotates the token: new tokens of the same grant, and the old refresh token is spent', async () => {
    const first = await firstTokens();
    const next = await refresh({ refresh_token: first.refresh_token });
    expect(next.refresh_token).toEqual(expect.any(String));
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(next.scope).toBe('openid profile offline_access');
    const [a, b] = [await f.activeClaims(first.access_token), await f.activeClaims(next.access_token)];
    expect(b.gid).toBe(a.gid);
    expect(b.sub).toBe(a.sub);
    expect((await readRefreshToken(f.store, first.refresh_token))?.consumedAt).toEqual(expect.any(Number));
  });

  it('treats a reused token as theft: refused, and the whole family is revoked', async () => {
    const first = await firstTokens();
    const next = await refresh({ refresh_token: first.refresh_token });
    await expectProtocolError(
      refresh({ refresh_token: first.refresh_token }),
      'invalid_grant',
      /already been used/,
    );
    await expectProtocolError(refresh({ refresh_token: next.refresh_token! }), 'invalid_grant', /revoked/);
    expect(await f.isActive(next.access_token)).toBe(false);
    expect(await f.isActive(first.access_token)).toBe(false);
  });

  it("refuses another client's token without spending it", async () => {
    const first = await firstTokens();
    const other = f.client({ grant_types: ['authorization_code', 'refresh_token'] });
    await expectProtocolError(
      refresh({ refresh_token: first.refresh_token }, other),
      'invalid_grant',
      /another client/,
    );
    expect((await refresh({ refresh_token: first.refresh_token })).access_token).toEqual(expect.any(String));
  });

  it('narrows the scope on request, and never widens it', async () => {
    const first = await firstTokens();
    const narrow = await refresh({ refresh_token: first.refresh_token, scope: 'openid' });
    expect(narrow.scope).toBe('openid');
    expect((await f.activeClaims(narrow.access_token)).scope).toBe('openid');
    // The rotated token keeps the original grant: the full scope can come back.
    const again = await refresh({ refresh_token: narrow.refresh_token!, scope: 'openid profile' });
    expect(again.scope).toBe('openid profile');
    await expectProtocolError(
      refresh({ refresh_token: again.refresh_token!, scope: 'openid email' }),
      'invalid_scope',
      /exceeds what was granted: email/,
    );
    await expectProtocolError(
      refresh({ refresh_token: again.refresh_token!, scope: ' ' }),
      'invalid_scope',
      /empty/,
    );
  });

  it('refuses a token past its family lifetime, and an unknown or missing one', async () => {
    const first = await firstTokens();
    const later = Date.now() + (client.refresh_token_absolute_lifetime + 60) * 1000;
    await expectProtocolError(
      refresh({ refresh_token: first.refresh_token }, client, later),
      'invalid_grant',
      /expired/,
    );
    await expectProtocolError(
      refresh({ refresh_token: 'no-such-token' }),
      'invalid_grant',
      /invalid, expired/,
    );
    await expectProtocolError(refresh({}), 'invalid_request', /refresh_token is required/);
  });
});

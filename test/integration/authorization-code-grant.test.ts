import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../functions/clients/client.js';
import { authorizationCodeGrant } from '../../functions/oidc/authorization-code.js';
import { CODE_TTL_SECONDS, newCode, type Grant } from '../../functions/oidc/authorization-codes.js';
import { expectProtocolError, grantFixture, type GrantFixture } from '../support/grants.js';

let f: GrantFixture;
let client: Client;

beforeAll(async () => {
  f = await grantFixture('code-grant');
  client = f.client({
    grant_types: ['authorization_code', 'refresh_token'],
    resources: ['https://api.example.test'],
  });
});

const REDIRECT = 'https://app.example.test/cb';

/** Stores a code as the hosted pages do when the user finishes signing in; returns the code. */
async function issueCode(overrides: Partial<Grant> = {}, now = Date.now()): Promise<string> {
  const { code, key, item } = newCode(
    {
      clientId: client.client_id,
      redirectUri: REDIRECT,
      scope: 'openid profile',
      userId: `user-${randomUUID()}`,
      nonce: 'n-1',
      authTime: Math.floor(now / 1000),
      ...overrides,
    },
    now,
  );
  await f.store.put(key, { ...item }, { ifAbsent: true });
  return code;
}

const redeem = (form: Record<string, string>, c = client, resources: string[] = []) =>
  authorizationCodeGrant({ form, resources }, c, f.deps);

describe('authorization_code grant (RFC 6749 §4.1.3)', () => {
  it('redeems a code for an access token and an ID token of the user', async () => {
    const code = await issueCode({ userId: 'user-42' });
    const tokens = await redeem({ code, redirect_uri: REDIRECT });
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'openid profile' });
    expect(tokens.refresh_token).toBeUndefined();
    const claims = await f.activeClaims(tokens.access_token);
    expect(claims).toMatchObject({ sub: 'user-42', client_id: client.client_id, iss: f.issuer });
    expect(claims.gid).toEqual(expect.any(String));
    const idToken = decodeJwt(tokens.id_token!);
    expect(idToken).toMatchObject({ sub: 'user-42', aud: client.client_id, nonce: 'n-1', iss: f.issuer });
  });

  it('adds a refresh token only with offline_access', async () => {
    const code = await issueCode({ scope: 'openid offline_access' });
    const tokens = await redeem({ code, redirect_uri: REDIRECT });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.scope).toBe('openid offline_access');
  });

  it('refuses a code issued to another client, and the code stays usable by its own', async () => {
    const code = await issueCode();
    const other = f.client({ grant_types: ['authorization_code'] });
    await expectProtocolError(
      redeem({ code, redirect_uri: REDIRECT }, other),
      'invalid_grant',
      /another client/,
    );
    expect((await redeem({ code, redirect_uri: REDIRECT })).access_token).toEqual(expect.any(String));
  });

  it('refuses a replayed code and revokes the tokens the first redemption issued', async () => {
    const code = await issueCode({ scope: 'openid offline_access' });
    const first = await redeem({ code, redirect_uri: REDIRECT });
    expect(await f.isActive(first.access_token)).toBe(true);
    await expectProtocolError(redeem({ code, redirect_uri: REDIRECT }), 'invalid_grant', /already been used/);
    expect(await f.isActive(first.access_token)).toBe(false);
  });

  it('refuses an expired code and an unknown one alike', async () => {
    const expired = await issueCode({}, Date.now() - (CODE_TTL_SECONDS + 5) * 1000);
    await expectProtocolError(redeem({ code: expired, redirect_uri: REDIRECT }), 'invalid_grant', /expired/);
    const unknown = randomBytes(32).toString('base64url');
    await expectProtocolError(redeem({ code: unknown, redirect_uri: REDIRECT }), 'invalid_grant', /expired/);
  });

  it('requires the code and the redirect_uri of the authorization request', async () => {
    await expectProtocolError(redeem({ redirect_uri: REDIRECT }), 'invalid_request', /code is required/);
    const code = await issueCode();
    await expectProtocolError(
      redeem({ code, redirect_uri: 'https://app.example.test/other' }),
      'invalid_grant',
      /redirect_uri/,
    );
  });

  it('lets an /init-auth grant leave out the redirect_uri, but not send a wrong one', async () => {
    const action = {
      code: 'login',
      state: 'CHALLENGE_SUCCEEDED' as const,
      isEnrolled: true,
      idempotencyKey: randomUUID(),
    };
    const tokens = await redeem({ code: await issueCode({ action }) });
    expect(tokens.access_token).toEqual(expect.any(String));
    await expectProtocolError(
      redeem({ code: await issueCode({ action }), redirect_uri: 'https://app.example.test/other' }),
      'invalid_grant',
      /redirect_uri/,
    );
  });

  describe('PKCE (RFC 7636 §4.6)', () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const withChallenge = () => issueCode({ codeChallenge: challenge, codeChallengeMethod: 'S256' });

    it('accepts the verifier of the challenge', async () => {
      const tokens = await redeem({
        code: await withChallenge(),
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      expect(tokens.access_token).toEqual(expect.any(String));
    });

    it('refuses a wrong, malformed or missing verifier', async () => {
      const wrong = randomBytes(32).toString('base64url');
      await expectProtocolError(
        redeem({ code: await withChallenge(), redirect_uri: REDIRECT, code_verifier: wrong }),
        'invalid_grant',
        /does not match/,
      );
      await expectProtocolError(
        redeem({ code: await withChallenge(), redirect_uri: REDIRECT, code_verifier: 'short' }),
        'invalid_grant',
        /malformed/,
      );
      await expectProtocolError(
        redeem({ code: await withChallenge(), redirect_uri: REDIRECT }),
        'invalid_grant',
        /code_verifier is required/,
      );
    });

    it('refuses a verifier when the authorization request had no challenge', async () => {
      await expectProtocolError(
        redeem({ code: await issueCode(), redirect_uri: REDIRECT, code_verifier: verifier }),
        'invalid_grant',
        /no code_challenge/,
      );
    });
  });

  describe('resource indicators (RFC 8707)', () => {
    it('sets the audience to a resource the client may ask for', async () => {
      const tokens = await redeem({ code: await issueCode(), redirect_uri: REDIRECT }, client, [
        'https://api.example.test',
      ]);
      expect((await f.activeClaims(tokens.access_token)).aud).toBe('https://api.example.test');
    });

    it('refuses another resource with invalid_target', async () => {
      await expectProtocolError(
        redeem({ code: await issueCode(), redirect_uri: REDIRECT }, client, ['https://evil.example.test']),
        'invalid_target',
        /not allowed/,
      );
    });
  });
});

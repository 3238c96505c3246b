/**
 * The token endpoint checks everything a code is bound to (client, redirect_uri, PKCE, resource)
 * BEFORE it consumes the code, so an attacker holding another client's code cannot burn it; the
 * consume itself stays one conditional write (of 30 concurrent redemptions exactly one wins) and a
 * replay by the code's client still revokes what the first redemption issued.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../functions/clients/client.js';
import { ProtocolError } from '../../functions/errors.js';
import { authorizationCodeGrant } from '../../functions/oidc/authorization-code.js';
import { newCode, type Grant } from '../../functions/oidc/authorization-codes.js';
import { expectProtocolError, grantFixture, type GrantFixture } from '../support/grants.js';

let f: GrantFixture;
let client: Client;
let attacker: Client;
const REDIRECT = 'https://app.example.test/cb';
const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');

beforeAll(async () => {
  f = await grantFixture('code-order');
  client = f.client({
    grant_types: ['authorization_code', 'refresh_token'],
    resources: ['https://api.example.test'],
  });
  attacker = f.client({ grant_types: ['authorization_code'], redirect_uris: [REDIRECT] });
});

async function issueCode(overrides: Partial<Grant> = {}): Promise<string> {
  const { code, key, item } = newCode({
    clientId: client.client_id,
    redirectUri: REDIRECT,
    scope: 'openid offline_access',
    userId: `user-${randomUUID()}`,
    authTime: Math.floor(Date.now() / 1000),
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    ...overrides,
  });
  await f.store.put(key, { ...item }, { ifAbsent: true });
  return code;
}

const redeem = (form: Record<string, string>, c = client, resources: string[] = []) =>
  authorizationCodeGrant({ form, resources }, c, f.deps);
const good = (code: string) => ({ code, redirect_uri: REDIRECT, code_verifier: verifier });

describe('a code is checked before it is consumed', () => {
  it('30 parallel redemptions by another client all fail and leave the code usable by its own', async () => {
    const code = await issueCode();
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => redeem(good(code), attacker)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as ProtocolError;
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.code).toBe('invalid_grant');
      expect(err.description).toMatch(/another client/);
    }
    const tokens = await redeem(good(code));
    expect(await f.isActive(tokens.access_token)).toBe(true);
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('a wrong redirect_uri, verifier, missing verifier or foreign resource leaves the code usable', async () => {
    const code = await issueCode();
    await expectProtocolError(
      redeem({ ...good(code), redirect_uri: 'https://app.example.test/x' }),
      'invalid_grant',
      /redirect_uri/,
    );
    await expectProtocolError(
      redeem({ ...good(code), code_verifier: randomBytes(32).toString('base64url') }),
      'invalid_grant',
      /does not match/,
    );
    await expectProtocolError(
      redeem({ code, redirect_uri: REDIRECT }),
      'invalid_grant',
      /code_verifier is required/,
    );
    await expectProtocolError(redeem(good(code), client, ['https://evil.example.test']), 'invalid_target');
    const tokens = await redeem(good(code));
    expect(await f.isActive(tokens.access_token)).toBe(true);
  });

  it('of 30 concurrent redemptions by the right client exactly one wins', async () => {
    const code = await issueCode();
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => redeem(good(code))));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected'))
      expect(((r as PromiseRejectedResult).reason as ProtocolError).code).toBe('invalid_grant');
  });

  it('a replay by the right client is still refused and revokes the first tokens; by another client it revokes nothing', async () => {
    const code = await issueCode();
    const first = await redeem(good(code));
    await expectProtocolError(redeem(good(code), attacker), 'invalid_grant', /another client/);
    expect(await f.isActive(first.access_token)).toBe(true);
    await expectProtocolError(redeem(good(code)), 'invalid_grant', /already been used/);
    expect(await f.isActive(first.access_token)).toBe(false);
  });
});

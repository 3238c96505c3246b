/**
 * Codes that carry their grant sealed (functions/oidc/code-seal.ts): redeemed in one transaction
 * without reading the item first, and still exactly as safe — the item stays the authority (a
 * grant sealed for another item, or re-sealed with other contents, redeems nothing), a code whose
 * sealed part does not open falls back to its item, replays and races behave as for plain codes,
 * and a grant too long to seal is issued as a plain code.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Client } from '../../functions/clients/client.js';
import { ProtocolError } from '../../functions/errors.js';
import { authorizationCodeGrant } from '../../functions/oidc/authorization-code.js';
import { newCode, splitCode, type Grant } from '../../functions/oidc/authorization-codes.js';
import { codeSeal, MAX_SEALED_CHARS } from '../../functions/oidc/code-seal.js';
import type { TokenEndpointDeps } from '../../functions/oidc/token-request.js';
import { expectProtocolError, grantFixture, type GrantFixture } from '../support/grants.js';

let f: GrantFixture;
let client: Client;
let deps: TokenEndpointDeps;
const seal = codeSeal({ secretHash: randomBytes(32).toString('hex') });
const otherTenantSeal = codeSeal({ secretHash: randomBytes(32).toString('hex') });
const REDIRECT = 'https://app.example.test/cb';
const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');

beforeAll(async () => {
  f = await grantFixture('sealed-codes');
  client = f.client({ grant_types: ['authorization_code', 'refresh_token'] });
  deps = { ...f.deps, codeSeal: seal };
});

const grant = (overrides: Partial<Grant> = {}): Grant => ({
  clientId: client.client_id,
  redirectUri: REDIRECT,
  scope: 'openid offline_access',
  userId: `user-${randomUUID()}`,
  authTime: Math.floor(Date.now() / 1000),
  codeChallenge: challenge,
  codeChallengeMethod: 'S256',
  ...overrides,
});

async function issue(overrides: Partial<Grant> = {}, with_ = seal): Promise<string> {
  const { code, key, item } = newCode(grant(overrides), Date.now(), with_);
  await f.store.put(key, { ...item }, { ifAbsent: true });
  return code;
}

const redeem = (code: string, d = deps) =>
  authorizationCodeGrant(
    { form: { code, redirect_uri: REDIRECT, code_verifier: verifier }, resources: [] },
    client,
    d,
  );

describe('sealed codes', () => {
  it('carry the grant and redeem with one transaction and no read', async () => {
    const code = await issue();
    expect(splitCode(code).sealed).toEqual(expect.any(String));
    // The grant is not readable in the code.
    expect(Buffer.from(splitCode(code).sealed!, 'base64url').toString('latin1')).not.toContain('user-');
    const get = vi.spyOn(f.store, 'get');
    const transact = vi.spyOn(f.store, 'transact');
    try {
      const tokens = await redeem(code);
      expect(get).not.toHaveBeenCalled();
      expect(transact).toHaveBeenCalledTimes(1);
      get.mockRestore();
      expect(await f.isActive(tokens.access_token)).toBe(true);
    } finally {
      get.mockRestore();
      transact.mockRestore();
    }
  });

  it('without the seal at the token endpoint the item is read, and the code still redeems', async () => {
    const code = await issue();
    const get = vi.spyOn(f.store, 'get');
    try {
      await redeem(code, f.deps);
      expect(get).toHaveBeenCalledTimes(1);
    } finally {
      get.mockRestore();
    }
  });

  it('a sealed part that does not open (tampered, or another key) falls back to the item', async () => {
    const code = await issue();
    const { random, sealed } = splitCode(code);
    const flipped = `${random}${sealed!.slice(0, -2)}${sealed!.endsWith('AA') ? 'BB' : 'AA'}`;
    const tokens = await redeem(flipped);
    expect(await f.isActive(tokens.access_token)).toBe(true);
    // The item is used now: the original code is a replay.
    await expectProtocolError(redeem(code), 'invalid_grant', /already been used/);
    expect(await f.isActive(tokens.access_token)).toBe(false);
  });

  it('a grant re-sealed with other contents under the right key redeems nothing and burns nothing', async () => {
    const code = await issue();
    const { random, sealed } = splitCode(code);
    const original = seal.open<Grant>(random, sealed!)!;
    const forged = seal.seal(random, { ...original, userId: 'someone-else', scope: 'openid' })!;
    await expectProtocolError(
      redeem(`${random}${forged}`),
      'invalid_grant',
      /invalid, expired or already used/,
    );
    const tokens = await redeem(code);
    expect((await f.activeClaims(tokens.access_token)).sub).toBe(original.userId);
  });

  it("another tenant's seal does not open it; a sealed part moved onto another code does not open", async () => {
    const code = await issue();
    const { random, sealed } = splitCode(code);
    expect(otherTenantSeal.open(random, sealed!)).toBeUndefined();
    const other = splitCode(await issue());
    expect(seal.open(other.random, sealed!)).toBeUndefined();
    // Moved anyway: the other code's item is redeemed by its own grant, not the moved one.
    const tokens = await redeem(`${other.random}${sealed!}`);
    expect((await f.activeClaims(tokens.access_token)).sub).not.toBe(
      seal.open<Grant>(random, sealed!)!.userId,
    );
  });

  it('of 30 concurrent redemptions exactly one wins; a later replay revokes its tokens', async () => {
    const code = await issue();
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => redeem(code)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected'))
      expect(((r as PromiseRejectedResult).reason as ProtocolError).code).toBe('invalid_grant');
    const { access_token } = (won[0] as PromiseFulfilledResult<{ access_token: string }>).value;
    // The losers were replays: the winner's tokens are revoked (RFC 6749 §4.1.2).
    expect(await f.isActive(access_token)).toBe(false);
  });

  it('an expired sealed code is refused even before its item is gone', async () => {
    const { code, key, item } = newCode(grant(), Date.now() - 10 * 60_000, seal);
    await f.store.put(key, { ...item, expiresAt: Math.floor(Date.now() / 1000) + 60 });
    await expectProtocolError(redeem(code), 'invalid_grant', /invalid, expired/);
  });

  it('a grant too long to seal is issued as a plain code, and redeems by its item', async () => {
    const code = await issue({ nonce: randomBytes(1500).toString('base64url') });
    expect(splitCode(code).sealed).toBeUndefined();
    expect(code.length).toBeLessThan(50);
    const tokens = await redeem(code);
    expect(tokens.id_token).toEqual(expect.any(String));
  });

  it('codes longer than a sealed one can be are refused without a lookup', async () => {
    const get = vi.spyOn(f.store, 'get');
    try {
      await expectProtocolError(
        redeem(`${'r'.repeat(43)}${'A'.repeat(MAX_SEALED_CHARS + 1)}`),
        'invalid_grant',
        /invalid/,
      );
      expect(get).not.toHaveBeenCalled();
    } finally {
      get.mockRestore();
    }
  });
});

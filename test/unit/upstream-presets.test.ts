/**
 * The presets' rules: Microsoft's multi-tenant issuer (the template filled with the token's own
 * `tid`), Apple's client-secret JWT (ES256, from the PKCS#8 key), and the provider body's
 * validation.
 */
import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { allowLoopbackOutbound } from '../../functions/outbound/guarded-fetch.js';
import { appleClientSecret } from '../../functions/upstream/apple.js';
import { discoveredIssuerMatches, issuerMatches } from '../../functions/upstream/issuer.js';
import {
  MICROSOFT_CONSUMERS_TID,
  presetIssuer,
  putProviderSchema,
} from '../../functions/upstream/provider.js';
import * as z from '../../functions/zod.js';

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER = '11111111-2222-3333-4444-555555555555';
const ms = (tenant: string) => ({
  type: 'microsoft' as const,
  tenant,
  issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
});
const iss = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;

describe('Microsoft issuer rules', () => {
  it('common: iss must be the template with the token’s own tid', () => {
    expect(issuerMatches(ms('common'), { iss: iss(TID), tid: TID })).toBe(true);
    expect(issuerMatches(ms('common'), { iss: iss(OTHER), tid: TID })).toBe(false);
    expect(issuerMatches(ms('common'), { iss: iss(TID) })).toBe(false);
    expect(issuerMatches(ms('common'), { iss: iss('common'), tid: 'common' })).toBe(false);
    expect(issuerMatches(ms('common'), { iss: 'https://evil.example/v2.0', tid: TID })).toBe(false);
  });

  it('organizations excludes personal accounts; consumers admits only them', () => {
    expect(issuerMatches(ms('organizations'), { iss: iss(TID), tid: TID })).toBe(true);
    expect(
      issuerMatches(ms('organizations'), { iss: iss(MICROSOFT_CONSUMERS_TID), tid: MICROSOFT_CONSUMERS_TID }),
    ).toBe(false);
    expect(
      issuerMatches(ms('consumers'), { iss: iss(MICROSOFT_CONSUMERS_TID), tid: MICROSOFT_CONSUMERS_TID }),
    ).toBe(true);
    expect(issuerMatches(ms('consumers'), { iss: iss(TID), tid: TID })).toBe(false);
  });

  it('one directory: exactly its issuer, whatever tid says', () => {
    expect(issuerMatches(ms(TID), { iss: iss(TID), tid: TID })).toBe(true);
    expect(issuerMatches(ms(TID), { iss: iss(OTHER), tid: OTHER })).toBe(false);
  });

  it('the discovery document of a multi-tenant endpoint publishes the template', () => {
    expect(discoveredIssuerMatches(ms('common'), 'https://login.microsoftonline.com/{tenantid}/v2.0')).toBe(
      true,
    );
    expect(discoveredIssuerMatches(ms(TID), 'https://login.microsoftonline.com/{tenantid}/v2.0')).toBe(false);
    expect(discoveredIssuerMatches({ type: 'oidc', issuer: 'https://a.example' }, 'https://b.example')).toBe(
      false,
    );
  });

  it('the preset fills the issuer from tenant (default common)', () => {
    const parsed = z.parse(putProviderSchema, {
      type: 'microsoft',
      name: 'Microsoft',
      client_id: 'c',
      client_secret: 's',
    });
    expect(presetIssuer(parsed)).toBe('https://login.microsoftonline.com/common/v2.0');
    const bad = z.safeParse(putProviderSchema, {
      type: 'microsoft',
      name: 'M',
      client_id: 'c',
      client_secret: 's',
      tenant: 'x',
    });
    expect(bad.success).toBe(false);
  });
});

describe("Apple's client secret", () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('is an ES256 JWT with kid, iss = team, sub = client, aud = Apple, short-lived', async () => {
    const now = Date.now();
    const jwt = await appleClientSecret(
      { teamId: 'TEAM123456', keyId: 'KEY1234567', clientId: 'com.acme.web', privateKeyPem: pem },
      now,
    );
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: 'KEY1234567' });
    const spki = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { payload } = await jwtVerify(jwt, await importSPKI(spki, 'ES256'), {
      issuer: 'TEAM123456',
      subject: 'com.acme.web',
      audience: 'https://appleid.apple.com',
    });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(15_777_000);
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('the body takes only a PKCS#8 P-256 key, and the 10-character team and key ids', () => {
    const body = {
      type: 'apple',
      name: 'Apple',
      client_id: 'com.acme.web',
      team_id: 'TEAM123456',
      key_id: 'KEY1234567',
    };
    expect(z.safeParse(putProviderSchema, { ...body, private_key: pem }).success).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(z.safeParse(putProviderSchema, { ...body, private_key: rsa.toString() }).success).toBe(false);
    expect(z.safeParse(putProviderSchema, { ...body, private_key: 'not a key' }).success).toBe(false);
    expect(z.safeParse(putProviderSchema, { ...body, private_key: pem, team_id: 'short' }).success).toBe(
      false,
    );
    expect(z.safeParse(putProviderSchema, { ...body, private_key: pem, client_secret: 'x' }).success).toBe(
      false,
    );
  });
});

describe('generic issuer', () => {
  it('https only, no private address, no query or fragment; http loopback only where allowed', () => {
    const ok = (issuer: string) =>
      z.safeParse(putProviderSchema, { type: 'oidc', name: 'C', issuer, client_id: 'c', client_secret: 's' })
        .success;
    allowLoopbackOutbound(false);
    try {
      expect(ok('https://login.corp.example')).toBe(true);
      expect(ok('http://login.corp.example')).toBe(false);
      expect(ok('https://10.0.0.1')).toBe(false);
      expect(ok('https://169.254.169.254')).toBe(false);
      expect(ok('https://127.0.0.1:8443')).toBe(false);
      expect(ok('https://login.corp.example?x=1')).toBe(false);
      expect(ok('https://user:pw@login.corp.example')).toBe(false);
      expect(ok('http://127.0.0.1:9000')).toBe(false);
      allowLoopbackOutbound(true);
      expect(ok('http://127.0.0.1:9000')).toBe(true);
    } finally {
      allowLoopbackOutbound(false);
    }
  });
});

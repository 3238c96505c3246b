import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsApiError } from '../../functions/aws/json-api.js';
import { since, snapshot } from '../../functions/metrics.js';
import { KmsSigner } from '../../functions/signing/kms-signer.js';
import { UnsupportedAlgorithmError } from '../../functions/signing/signer.js';
import { BackendUnavailableError } from '../../functions/errors.js';
import { freePort } from '../../local/dynamodb-local.js';
import { AwsFault, DROP } from '../support/aws-endpoint.js';
import { startKmsEndpoint, type KmsEndpoint, type RsaTestKey } from '../support/kms-endpoint.js';

/**
 * KmsSigner against a local KMS endpoint (test/support/kms-endpoint.ts) that speaks KMS's JSON API
 * over HTTP, checks the SigV4 signature and really signs with local RSA keys.
 */
let kms: KmsEndpoint;
let current: RsaTestKey;
let previous: RsaTestKey;
const ALIAS = 'alias/identity-signing';

beforeAll(async () => {
  kms = await startKmsEndpoint();
  current = kms.addSigningKey('arn:aws:kms:us-west-2:111122223333:key/current', [ALIAS]);
  previous = kms.addSigningKey('arn:aws:kms:us-west-2:111122223333:key/previous');
});
afterAll(() => kms.close());

beforeEach(() => {
  kms.calls.length = 0;
  kms.answer = undefined;
});

const signCalls = () => kms.inputsOf('Sign');
const publicKeyCalls = () => kms.inputsOf('GetPublicKey');

/** The real GetPublicKey answer with some fields changed. */
const publicKeyWith =
  (overrides: Record<string, unknown>) => (operation: string, _input: unknown, real: () => unknown) =>
    operation === 'GetPublicKey' ? { ...(real() as object), ...overrides } : real();

const newSigner = (previousKeyIds: string[] = []) => new KmsSigner(kms.client(), ALIAS, previousKeyIds);

async function verify(signer: KmsSigner, jwt: string, typ?: string) {
  return jwtVerify(jwt, createLocalJWKSet({ keys: await signer.publicKeys() }), {
    algorithms: ['RS256'],
    typ,
  });
}

describe('KmsSigner', () => {
  it('signs RS256 JWTs that jose verifies against its published keys', async () => {
    const signer = newSigner();
    const jwt = await signer.signJwt({ sub: 'user-1', aud: 'client-1' }, { typ: 'at+jwt' });
    const { payload, protectedHeader } = await verify(signer, jwt, 'at+jwt');
    expect(payload).toEqual({ sub: 'user-1', aud: 'client-1' });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    // The signature is exactly what Node computes for RS256 with the same key (deterministic).
    const forged = `${jwt.split('.').slice(0, 2).join('.')}.${Buffer.alloc(256).toString('base64url')}`;
    await expect(verify(signer, forged)).rejects.toThrow();
  });

  it('uses the RFC 7638 thumbprint of the public key as kid, and publishes only public members', async () => {
    const signer = newSigner();
    const kid = await calculateJwkThumbprint(current.jwk, 'sha256');
    const jwt = await signer.signJwt({ sub: 'x' });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', typ: 'JWT', kid });
    expect(await signer.publicKeys()).toEqual([
      { kty: 'RSA', n: current.jwk.n, e: current.jwk.e, kid, alg: 'RS256', use: 'sig' },
    ]);
  });

  it('calls Sign with the resolved key, PKCS#1 v1.5 SHA-256 and a 32-byte digest', async () => {
    const signer = newSigner();
    await signer.signJwt({ sub: 'x' });
    const calls = signCalls();
    expect(calls).toHaveLength(1);
    const input = calls[0]!;
    expect(input).toMatchObject({
      KeyId: current.arn,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    });
    expect(Buffer.from(input.Message as string, 'base64')).toHaveLength(32);
  });

  it('fetches the public key once, however many tokens it signs', async () => {
    const signer = newSigner();
    const jwts = await Promise.all(Array.from({ length: 10 }, (_, i) => signer.signJwt({ n: i })));
    for (let i = 0; i < 3; i++) jwts.push(await signer.signJwt({ n: 10 + i }));
    await signer.publicKeys();
    await signer.publicKeys();
    expect(publicKeyCalls()).toHaveLength(1);
    expect(signCalls()).toHaveLength(13);
    for (const jwt of jwts) await expect(verify(signer, jwt)).resolves.toBeTruthy();
  });

  it('does not cache a failed GetPublicKey: the next call tries again', async () => {
    // KMS fails (500, retried by the client up to its attempts) for the first GetPublicKey call.
    let failing = true;
    kms.answer = (operation, _input, real) => {
      if (operation === 'GetPublicKey' && failing) throw new AwsFault('KMSInternalException', 500);
      return real();
    };
    const signer = new KmsSigner(kms.client({ maxAttempts: 1 }), ALIAS);
    await expect(signer.signJwt({ sub: 'x' })).rejects.toBeInstanceOf(BackendUnavailableError);
    failing = false;
    const jwt = await signer.signJwt({ sub: 'x' });
    await expect(verify(signer, jwt)).resolves.toBeTruthy();
    expect(publicKeyCalls()).toHaveLength(2);
  });

  it('publishes previous keys after the current one, so tokens they signed still verify', async () => {
    const before = new KmsSigner(kms.client(), previous.arn);
    const oldJwt = await before.signJwt({ sub: 'old' });

    const signer = newSigner([previous.arn]);
    const keys = await signer.publicKeys();
    expect(keys.map((k) => k.kid)).toEqual([
      await calculateJwkThumbprint(current.jwk, 'sha256'),
      await calculateJwkThumbprint(previous.jwk, 'sha256'),
    ]);
    await expect(verify(signer, oldJwt)).resolves.toBeTruthy();
    const newJwt = await signer.signJwt({ sub: 'new' });
    expect(decodeProtectedHeader(newJwt).kid).toBe(keys[0]!.kid);
    await expect(verify(signer, newJwt)).resolves.toBeTruthy();
  });

  it('leaves out a previous key KMS no longer serves, but never the current one', async () => {
    const gone = 'arn:aws:kms:us-west-2:111122223333:key/deleted';
    const signer = newSigner([gone, previous.arn]);
    const keys = await signer.publicKeys();
    expect(keys.map((k) => k.kid)).toEqual([
      await calculateJwkThumbprint(current.jwk, 'sha256'),
      await calculateJwkThumbprint(previous.jwk, 'sha256'),
    ]);
    const broken = new KmsSigner(kms.client(), gone, [previous.arn]);
    await expect(broken.publicKeys()).rejects.toBeTruthy();
  });

  it.each<[string, (op: string, input: unknown, real: () => unknown) => unknown]>([
    [
      'ThrottlingException',
      () => {
        throw new AwsFault('ThrottlingException');
      },
    ],
    [
      'KMSInternalException',
      () => {
        throw new AwsFault('KMSInternalException', 500);
      },
    ],
    [
      'DependencyTimeoutException',
      () => {
        throw new AwsFault('DependencyTimeoutException', 503);
      },
    ],
    ['a reset connection', () => DROP],
  ])('turns %s from Sign into BackendUnavailableError, after the retries', async (_name, fault) => {
    kms.answer = (operation, input, real) => (operation === 'Sign' ? fault(operation, input, real) : real());
    const signer = newSigner();
    const err: unknown = await signer.signJwt({ sub: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).not.toMatch(/sub/);
    // The client's three attempts, one invocation.
    expect(signCalls()).toHaveLength(3);
  });

  it('turns a refused connection into BackendUnavailableError', async () => {
    const port = await freePort(); // nothing listens there
    const signer = new KmsSigner(kms.client({ endpoint: `http://127.0.0.1:${port}` }), ALIAS);
    await expect(signer.signJwt({ sub: 'x' })).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('lets a non-transient error (unknown key) through unchanged', async () => {
    const signer = new KmsSigner(kms.client(), 'arn:aws:kms:us-west-2:1:key/missing');
    const err: unknown = await signer.signJwt({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsApiError);
    expect((err as Error).name).toBe('NotFoundException');
    expect(err).not.toBeInstanceOf(BackendUnavailableError);
  });

  it.each<[string, Record<string, unknown>]>([
    ['an ECC key', { KeySpec: 'ECC_NIST_P256' }],
    ['a 4096-bit RSA key', { KeySpec: 'RSA_4096' }],
    ['an encryption key', { KeyUsage: 'ENCRYPT_DECRYPT' }],
    ['no public key', { PublicKey: undefined }],
  ])('refuses %s', async (_name, overrides) => {
    kms.answer = publicKeyWith(overrides);
    const signer = newSigner();
    await expect(signer.signJwt({ sub: 'x' })).rejects.toThrow(/RSA_2048 SIGN_VERIFY/);
    await expect(signer.publicKeys()).rejects.toThrow(/RSA_2048 SIGN_VERIFY/);
    expect(signCalls()).toHaveLength(0);
  });

  it('refuses a real ECC public key reported as ECC_NIST_P256', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    kms.answer = publicKeyWith({
      PublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      KeySpec: 'ECC_NIST_P256',
    });
    await expect(newSigner().signJwt({ sub: 'x' })).rejects.toThrow();
    expect(signCalls()).toHaveLength(0);
  });

  it('refuses to sign when KMS returns no signature', async () => {
    kms.answer = (operation, _input, real) => (operation === 'Sign' ? { KeyId: current.arn } : real());
    await expect(newSigner().signJwt({ sub: 'x' })).rejects.toThrow(/no signature/);
  });
});

describe('SIGNER=kms costs one KMS Sign per token (counted for the bench)', () => {
  it('counts kms:Sign per token and kms:GetPublicKey once per container; refuses other algorithms', async () => {
    const signer = new KmsSigner(kms.client(), current.arn);
    const before = snapshot();
    const jwks = createLocalJWKSet({ keys: await signer.publicKeys() });
    for (let i = 0; i < 3; i++) await jwtVerify(await signer.signJwt({ sub: `u${i}` }), jwks);
    expect(since(before)).toMatchObject({ 'kms:Sign': 3, 'kms:GetPublicKey': 1 });
    expect(await signer.algorithms()).toEqual(['RS256']);
    await expect(signer.signJwt({ sub: 'x' }, { alg: 'ES256' })).rejects.toBeInstanceOf(
      UnsupportedAlgorithmError,
    );
  });
});

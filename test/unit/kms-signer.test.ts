import { constants, generateKeyPairSync, privateEncrypt, type KeyObject } from 'node:crypto';
import {
  DependencyTimeoutException,
  GetPublicKeyCommand,
  KMSClient,
  KMSInternalException,
  NotFoundException,
  SignCommand,
  type GetPublicKeyCommandOutput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { since, snapshot } from '../../functions/metrics.js';
import { KmsSigner } from '../../functions/signing/kms-signer.js';
import { UnsupportedAlgorithmError } from '../../functions/signing/signer.js';
import { BackendUnavailableError } from '../../functions/errors.js';

/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017 §9.2, note 1). */
const SHA256_DIGESTINFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

interface TestKey {
  arn: string;
  privateKey: KeyObject;
  spki: Buffer;
  jwk: JWK;
}

function rsaKey(arn: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    arn,
    privateKey,
    spki: publicKey.export({ format: 'der', type: 'spki' }),
    jwk: publicKey.export({ format: 'jwk' }) as JWK,
  };
}

const current = rsaKey('arn:aws:kms:us-west-2:111122223333:key/current');
const previous = rsaKey('arn:aws:kms:us-west-2:111122223333:key/previous');
const keysByArn = new Map([current, previous].map((k) => [k.arn, k]));
const ALIAS = 'alias/identity-signing';

const kmsMock = mockClient(KMSClient);
afterAll(() => kmsMock.restore());

function publicKeyOutput(
  key: TestKey,
  overrides: Partial<GetPublicKeyCommandOutput> = {},
): GetPublicKeyCommandOutput {
  return {
    $metadata: {},
    KeyId: key.arn,
    PublicKey: new Uint8Array(key.spki),
    KeySpec: 'RSA_2048',
    KeyUsage: 'SIGN_VERIFY',
    SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'],
    ...overrides,
  };
}

/** Resolves key ids the way KMS does: the alias and the ARN name the current key. */
function keyFor(keyId: string | undefined): TestKey {
  if (keyId === ALIAS) return current;
  const key = keysByArn.get(keyId ?? '');
  if (!key) throw new NotFoundException({ message: `key ${keyId} not found`, $metadata: {} });
  return key;
}

/** A KMS Sign that really signs: RSASSA-PKCS1-v1_5 over a SHA-256 digest it is given. */
function kmsSign(input: {
  KeyId?: string;
  Message?: Uint8Array;
  MessageType?: string;
  SigningAlgorithm?: string;
}) {
  if (input.MessageType !== 'DIGEST' || input.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256') {
    throw new Error('unexpected Sign parameters');
  }
  const digest = Buffer.from(input.Message ?? []);
  if (digest.length !== 32) throw new Error('a SHA-256 digest is 32 bytes');
  const signature = privateEncrypt(
    { key: keyFor(input.KeyId).privateKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([SHA256_DIGESTINFO_PREFIX, digest]),
  );
  return {
    $metadata: {},
    KeyId: input.KeyId,
    Signature: new Uint8Array(signature),
    SigningAlgorithm: input.SigningAlgorithm,
  };
}

beforeEach(() => {
  kmsMock.reset();
  kmsMock
    .on(GetPublicKeyCommand)
    .callsFake((input: { KeyId?: string }) => publicKeyOutput(keyFor(input.KeyId)));
  kmsMock.on(SignCommand).callsFake(kmsSign);
});

const newSigner = (previousKeyIds: string[] = []) =>
  new KmsSigner(new KMSClient({ region: 'us-west-2' }), ALIAS, previousKeyIds);

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
    const calls = kmsMock.commandCalls(SignCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({
      KeyId: current.arn,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    });
    expect(input.Message).toHaveLength(32);
  });

  it('fetches the public key once, however many tokens it signs', async () => {
    const signer = newSigner();
    const jwts = await Promise.all(Array.from({ length: 10 }, (_, i) => signer.signJwt({ n: i })));
    for (let i = 0; i < 3; i++) jwts.push(await signer.signJwt({ n: 10 + i }));
    await signer.publicKeys();
    await signer.publicKeys();
    expect(kmsMock.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
    expect(kmsMock.commandCalls(SignCommand)).toHaveLength(13);
    for (const jwt of jwts) await expect(verify(signer, jwt)).resolves.toBeTruthy();
  });

  it('does not cache a failed GetPublicKey: the next call tries again', async () => {
    kmsMock
      .on(GetPublicKeyCommand)
      .rejectsOnce(new KMSInternalException({ message: 'internal', $metadata: {} }))
      .callsFake((input: { KeyId?: string }) => publicKeyOutput(keyFor(input.KeyId)));
    const signer = newSigner();
    await expect(signer.signJwt({ sub: 'x' })).rejects.toBeInstanceOf(BackendUnavailableError);
    const jwt = await signer.signJwt({ sub: 'x' });
    await expect(verify(signer, jwt)).resolves.toBeTruthy();
    expect(kmsMock.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });

  it('publishes previous keys after the current one, so tokens they signed still verify', async () => {
    const before = new KmsSigner(new KMSClient({ region: 'us-west-2' }), previous.arn);
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
    const broken = new KmsSigner(new KMSClient({ region: 'us-west-2' }), gone, [previous.arn]);
    await expect(broken.publicKeys()).rejects.toBeTruthy();
  });

  it.each([
    ['ThrottlingException', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
    ['KMSInternalException', new KMSInternalException({ message: 'internal', $metadata: {} })],
    ['DependencyTimeoutException', new DependencyTimeoutException({ message: 'timed out', $metadata: {} })],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('turns %s from Sign into BackendUnavailableError', async (_name, error) => {
    kmsMock.on(SignCommand).rejects(error);
    const signer = newSigner();
    const err: unknown = await signer.signJwt({ sub: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).not.toMatch(/sub/);
  });

  it('lets a non-transient error (unknown key) through unchanged', async () => {
    const signer = new KmsSigner(
      new KMSClient({ region: 'us-west-2' }),
      'arn:aws:kms:us-west-2:1:key/missing',
    );
    const err: unknown = await signer.signJwt({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundException);
    expect(err).not.toBeInstanceOf(BackendUnavailableError);
  });

  it.each<[string, Partial<GetPublicKeyCommandOutput>]>([
    ['an ECC key', { KeySpec: 'ECC_NIST_P256' }],
    ['a 4096-bit RSA key', { KeySpec: 'RSA_4096' }],
    ['an encryption key', { KeyUsage: 'ENCRYPT_DECRYPT' }],
    ['no public key', { PublicKey: undefined }],
  ])('refuses %s', async (_name, overrides) => {
    kmsMock.on(GetPublicKeyCommand).resolves(publicKeyOutput(current, overrides));
    const signer = newSigner();
    await expect(signer.signJwt({ sub: 'x' })).rejects.toThrow(/RSA_2048 SIGN_VERIFY/);
    await expect(signer.publicKeys()).rejects.toThrow(/RSA_2048 SIGN_VERIFY/);
    expect(kmsMock.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('refuses a real ECC public key reported as ECC_NIST_P256', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    kmsMock.on(GetPublicKeyCommand).resolves({
      $metadata: {},
      KeyId: current.arn,
      PublicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
    });
    await expect(newSigner().signJwt({ sub: 'x' })).rejects.toThrow();
    expect(kmsMock.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('refuses to sign when KMS returns no signature', async () => {
    kmsMock.on(SignCommand).resolves({ $metadata: {} });
    await expect(newSigner().signJwt({ sub: 'x' })).rejects.toThrow(/no signature/);
  });
});

describe('SIGNER=kms costs one KMS Sign per token (counted for the bench)', () => {
  it('counts kms:Sign per token and kms:GetPublicKey once per container; refuses other algorithms', async () => {
    kmsMock.reset();
    kmsMock.on(GetPublicKeyCommand).resolves(publicKeyOutput(current));
    kmsMock.on(SignCommand).callsFake((input: { Message?: Uint8Array }) => ({
      KeyId: current.arn,
      Signature: new Uint8Array(
        privateEncrypt(
          { key: current.privateKey, padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([SHA256_DIGESTINFO_PREFIX, Buffer.from(input.Message ?? [])]),
        ),
      ),
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    }));
    const signer = new KmsSigner(new KMSClient({ region: 'us-west-2' }), current.arn);
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

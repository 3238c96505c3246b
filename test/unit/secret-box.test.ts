import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KmsSecretBox } from '../../functions/crypto/kms-secret-box.js';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import { canonicalContext, isSealed, SecretBoxError } from '../../functions/crypto/secret-box.js';
import { BackendUnavailableError } from '../../functions/errors.js';
import { AwsFault } from '../support/aws-endpoint.js';
import { startKmsEndpoint, type KmsEndpoint } from '../support/kms-endpoint.js';

const CONTEXT = { tenantId: 'tenant-a', userId: 'user-1', purpose: 'totp' };
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** Flips one bit of one base64url part of a `loc1:` value. */
function tamper(sealed: string, part: number): string {
  const parts = sealed.slice('loc1:'.length).split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0]! ^= 1;
  parts[part] = bytes.toString('base64url');
  return `loc1:${parts.join('.')}`;
}

describe('secret-box helpers', () => {
  it('orders the context canonically, whatever the key order', () => {
    expect(canonicalContext({ b: '2', a: '1' })).toBe(canonicalContext({ a: '1', b: '2' }));
    expect(canonicalContext({ a: '1' })).not.toBe(canonicalContext({ a: '2' }));
  });
  it('tells sealed values from clear base32 secrets', () => {
    expect(isSealed('loc1:a.b.c')).toBe(true);
    expect(isSealed('kms1:AQID')).toBe(true);
    expect(isSealed(SECRET)).toBe(false);
  });
});

describe('LocalSecretBox', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'secret-box-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips, with a fresh IV each time', async () => {
    const box = LocalSecretBox.open(dir, 'us');
    const a = await box.seal(SECRET, CONTEXT);
    const b = await box.seal(SECRET, CONTEXT);
    expect(a).toMatch(/^loc1:[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    expect(await box.open(a, CONTEXT)).toBe(SECRET);
    // Key order of the context does not matter.
    expect(await box.open(b, { purpose: 'totp', userId: 'user-1', tenantId: 'tenant-a' })).toBe(SECRET);
  });

  it('does not open under another context (another user, tenant or purpose)', async () => {
    const box = LocalSecretBox.open(dir, 'us');
    const sealed = await box.seal(SECRET, CONTEXT);
    for (const other of [
      { ...CONTEXT, userId: 'user-2' },
      { ...CONTEXT, tenantId: 'tenant-b' },
      { ...CONTEXT, purpose: 'other' },
      { tenantId: 'tenant-a', userId: 'user-1' },
    ]) {
      await expect(box.open(sealed, other)).rejects.toBeInstanceOf(SecretBoxError);
    }
  });

  it('refuses a tampered IV, ciphertext or tag, and malformed values', async () => {
    const box = LocalSecretBox.open(dir, 'us');
    const sealed = await box.seal(SECRET, CONTEXT);
    for (const part of [0, 1, 2]) {
      await expect(box.open(tamper(sealed, part), CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
    }
    for (const bad of [SECRET, 'loc1:', 'loc1:a.b', `kms1:${sealed.slice(5)}`]) {
      await expect(box.open(bad, CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
    }
  });

  it('creates its key file 0600, marked not for production, and reuses it', async () => {
    const keysDir = join(dir, 'nested', 'keys');
    const sealed = await LocalSecretBox.open(keysDir, 'us').seal(SECRET, CONTEXT);
    const file = join(keysDir, 'secret-box-us.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const data = JSON.parse(readFileSync(file, 'utf8')) as { warning: string; key: string };
    expect(data.warning).toMatch(/NOT FOR PRODUCTION/);
    expect(Buffer.from(data.key, 'base64url')).toHaveLength(32);
    // A second open (another process, a restart) reads the same key.
    expect(await LocalSecretBox.open(keysDir, 'us').open(sealed, CONTEXT)).toBe(SECRET);
    expect(readFileSync(file, 'utf8')).toContain(data.key);
    // Another region has its own key.
    await expect(LocalSecretBox.open(keysDir, 'eu').open(sealed, CONTEXT)).rejects.toBeInstanceOf(
      SecretBoxError,
    );
  });
});

describe('KmsSecretBox', () => {
  const KEY_ARN = 'arn:aws:kms:us-west-2:111122223333:key/secrets';
  /** A local KMS endpoint that really encrypts (AES-256-GCM, the EncryptionContext as AAD). */
  let kms: KmsEndpoint;
  beforeAll(async () => {
    kms = await startKmsEndpoint();
    kms.addSymmetricKey(KEY_ARN);
    kms.addSymmetricKey('arn:aws:kms:us-west-2:111122223333:key/other');
  });
  afterAll(() => kms.close());

  beforeEach(() => {
    kms.calls.length = 0;
    kms.answer = undefined;
  });
  afterEach(() => {
    for (const call of kms.calls) {
      expect(call.input.KeyId).toBe(KEY_ARN);
      expect(call.input.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
    }
  });

  const box = () => new KmsSecretBox(kms.client(), KEY_ARN);

  it('seals with Encrypt and the context as EncryptionContext, as kms1:<base64 blob>', async () => {
    const sealed = await box().seal(SECRET, CONTEXT);
    expect(sealed).toMatch(/^kms1:[A-Za-z0-9+/]+=*$/);
    expect(sealed).not.toContain(SECRET);
    const calls = kms.inputsOf('Encrypt');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.EncryptionContext).toEqual(CONTEXT);
    expect(await box().open(sealed, CONTEXT)).toBe(SECRET);
    expect(kms.inputsOf('Decrypt')[0]!.EncryptionContext).toEqual(CONTEXT);
  });

  it('does not open under another context, nor a tampered blob', async () => {
    const sealed = await box().seal(SECRET, CONTEXT);
    await expect(box().open(sealed, { ...CONTEXT, userId: 'user-2' })).rejects.toBeInstanceOf(SecretBoxError);
    await expect(box().open(sealed, { ...CONTEXT, tenantId: 'tenant-b' })).rejects.toBeInstanceOf(
      SecretBoxError,
    );
    const blob = Buffer.from(sealed.slice(5), 'base64');
    blob[blob.length - 1]! ^= 1;
    await expect(box().open(`kms1:${blob.toString('base64')}`, CONTEXT)).rejects.toBeInstanceOf(
      SecretBoxError,
    );
    await expect(box().open('loc1:a.b.c', CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
    await expect(box().open('kms1:', CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('does not open a blob sealed under another KMS key', async () => {
    const other = new KmsSecretBox(kms.client(), 'arn:aws:kms:us-west-2:111122223333:key/other');
    const sealed = await other.seal(SECRET, CONTEXT);
    kms.calls.length = 0;
    await expect(box().open(sealed, CONTEXT)).rejects.toBeInstanceOf(SecretBoxError);
  });

  it('turns KMS being unavailable into BackendUnavailableError (503), not a bad secret', async () => {
    kms.answer = () => {
      throw new AwsFault('DependencyTimeoutException', 503);
    };
    await expect(box().seal(SECRET, CONTEXT)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(box().open('kms1:AQID', CONTEXT)).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});

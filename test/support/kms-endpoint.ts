import {
  constants,
  createCipheriv,
  createDecipheriv,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { JWK } from 'jose';
import { canonicalContext } from '../../functions/crypto/secret-box.js';
import { AwsFault, startAwsEndpoint, type AwsEndpoint } from './aws-endpoint.js';

/**
 * A local KMS endpoint that speaks KMS's JSON API (awsJson1_1, `X-Amz-Target: TrentService.*`) and
 * does the real cryptography with local keys: `GetPublicKey` and `Sign` (RSASSA-PKCS1-v1_5 over a
 * SHA-256 digest) with RSA keys, `Encrypt` and `Decrypt` (AES-256-GCM, the encryption context
 * authenticated, the key named in the blob) with symmetric keys. Requests must be SigV4-signed for
 * `kms` in the endpoint's region. Point an adapter at it with its `client()` (or
 * AWS_ENDPOINT_URL_KMS).
 */

/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017 §9.2, note 1). */
const SHA256_DIGESTINFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface RsaTestKey {
  arn: string;
  privateKey: KeyObject;
  spki: Buffer;
  jwk: JWK;
}

export interface KmsEndpoint extends AwsEndpoint {
  /** An RSA_2048 SIGN_VERIFY key, known by its ARN and the aliases given. */
  addSigningKey(arn: string, aliases?: string[]): RsaTestKey;
  /** A SYMMETRIC_DEFAULT key, known by its ARN and the aliases given. */
  addSymmetricKey(arn: string, aliases?: string[]): void;
  /** The inputs of every call of one operation, in order. */
  inputsOf(operation: string): Record<string, unknown>[];
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export async function startKmsEndpoint(region = 'us-west-2'): Promise<KmsEndpoint> {
  const signing = new Map<string, RsaTestKey>();
  const symmetric = new Map<string, Buffer>();
  const aliases = new Map<string, string>();
  const resolve = (keyId: unknown) => aliases.get(str(keyId)) ?? str(keyId);

  const signingKey = (keyId: unknown): RsaTestKey => {
    const key = signing.get(resolve(keyId));
    if (!key)
      throw new AwsFault(symmetric.has(resolve(keyId)) ? 'InvalidKeyUsageException' : 'NotFoundException');
    return key;
  };
  const symmetricKey = (keyId: unknown): [string, Buffer] => {
    const arn = resolve(keyId);
    const key = symmetric.get(arn);
    if (!key) throw new AwsFault(signing.has(arn) ? 'InvalidKeyUsageException' : 'NotFoundException');
    return [arn, key];
  };
  const context = (input: Record<string, unknown>) =>
    Buffer.from(canonicalContext((input.EncryptionContext ?? {}) as Record<string, string>));

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetPublicKey: (input) => {
      const key = signingKey(input.KeyId);
      return {
        KeyId: key.arn,
        PublicKey: key.spki.toString('base64'),
        KeySpec: 'RSA_2048',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'],
      };
    },
    Sign: (input) => {
      const key = signingKey(input.KeyId);
      if (input.MessageType !== 'DIGEST' || input.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256')
        throw new AwsFault('ValidationException');
      const digest = Buffer.from(str(input.Message), 'base64');
      if (digest.length !== 32) throw new AwsFault('ValidationException');
      const signature = privateEncrypt(
        { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING },
        Buffer.concat([SHA256_DIGESTINFO_PREFIX, digest]),
      );
      return {
        KeyId: key.arn,
        Signature: signature.toString('base64'),
        SigningAlgorithm: input.SigningAlgorithm,
      };
    },
    Encrypt: (input) => {
      const [arn, key] = symmetricKey(input.KeyId);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(context(input));
      const ct = Buffer.concat([cipher.update(Buffer.from(str(input.Plaintext), 'base64')), cipher.final()]);
      // The blob names its key, as KMS's does: Decrypt finds the key from it.
      const name = Buffer.from(arn);
      const blob = Buffer.concat([Buffer.from([name.length]), name, iv, cipher.getAuthTag(), ct]);
      return {
        KeyId: arn,
        CiphertextBlob: blob.toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    Decrypt: (input) => {
      const blob = Buffer.from(str(input.CiphertextBlob), 'base64');
      const arn = blob.subarray(1, 1 + (blob[0] ?? 0)).toString();
      if (input.KeyId !== undefined && resolve(input.KeyId) !== arn) {
        throw new AwsFault(symmetric.has(arn) ? 'IncorrectKeyException' : 'InvalidCiphertextException');
      }
      const key = symmetric.get(arn);
      if (!key) throw new AwsFault('InvalidCiphertextException');
      const rest = blob.subarray(1 + arn.length);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, rest.subarray(0, 12));
        decipher.setAAD(context(input));
        decipher.setAuthTag(rest.subarray(12, 28));
        const pt = Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]);
        return { KeyId: arn, Plaintext: pt.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } catch {
        throw new AwsFault('InvalidCiphertextException');
      }
    },
  };

  const endpoint = await startAwsEndpoint(
    'kms',
    'kms',
    region,
    (req) => String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, ''),
    (operation, input) => {
      const run = operations[operation];
      if (!run) throw new AwsFault('UnknownOperationException');
      return run(input);
    },
  );
  return Object.assign(endpoint, {
    addSigningKey(arn: string, names: string[] = []): RsaTestKey {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const key = {
        arn,
        privateKey,
        spki: publicKey.export({ format: 'der', type: 'spki' }),
        jwk: publicKey.export({ format: 'jwk' }) as JWK,
      };
      signing.set(arn, key);
      for (const alias of names) aliases.set(alias, arn);
      return key;
    },
    addSymmetricKey(arn: string, names: string[] = []): void {
      symmetric.set(arn, randomBytes(32));
      for (const alias of names) aliases.set(alias, arn);
    },
    inputsOf: (operation: string) =>
      endpoint.calls.filter((c) => c.operation === operation).map((c) => c.input),
  });
}

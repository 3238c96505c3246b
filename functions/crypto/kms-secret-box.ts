import type { AwsApi } from '../aws/json-api.js';
import { kmsCall } from './kms-call.js';
import { SecretBoxError, type SecretBox, type SecretContext } from './secret-box.js';

const PREFIX = 'kms1:';

/**
 * AWS KMS adapter: a symmetric (`SYMMETRIC_DEFAULT`, AES-256-GCM inside KMS) key per region
 * encrypts each secret, with the context as KMS `EncryptionContext`, so a ciphertext decrypts only
 * under the context it was sealed with (and CloudTrail logs that context with every use). Secrets
 * here are tiny (well under KMS's 4 KB limit), so KMS encrypts them directly: the key never leaves
 * KMS. Sealed: `kms1:<base64 ciphertext blob>` (the blob names the key and its rotation version).
 */
export class KmsSecretBox implements SecretBox {
  constructor(
    /** A KMS client (`functions/aws/json-api.ts`). */
    private readonly kms: AwsApi,
    private readonly keyId: string,
  ) {}

  async seal(plaintext: string, context: SecretContext): Promise<string> {
    // Blobs travel base64-encoded in KMS's JSON API.
    const out = await kmsCall<{ CiphertextBlob?: string }>(this.kms, 'Encrypt', {
      KeyId: this.keyId,
      Plaintext: Buffer.from(plaintext, 'utf8').toString('base64'),
      EncryptionContext: { ...context },
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    });
    if (!out.CiphertextBlob) throw new Error('KMS returned no ciphertext');
    return `${PREFIX}${out.CiphertextBlob}`;
  }

  async open(sealed: string, context: SecretContext): Promise<string> {
    if (!sealed.startsWith(PREFIX)) throw new SecretBoxError('not a kms1 sealed value');
    const blob = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    if (blob.length === 0) throw new SecretBoxError('malformed kms1 sealed value');
    let out: { Plaintext?: string };
    try {
      out = await kmsCall(this.kms, 'Decrypt', {
        CiphertextBlob: blob.toString('base64'),
        EncryptionContext: { ...context },
        // Only this key: a blob made under any other key is refused, not decrypted with it.
        KeyId: this.keyId,
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      });
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (/InvalidCiphertext|IncorrectKey/.test(name)) {
        throw new SecretBoxError(`sealed value does not open under this key and context (${name})`, {
          cause: err,
        });
      }
      throw err;
    }
    if (!out.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(out.Plaintext, 'base64').toString('utf8');
  }
}

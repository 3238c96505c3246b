/**
 * The secret-box port: envelope encryption of the few secrets that must be usable again and so
 * cannot be stored as hashes like every other secret, such as TOTP shared secrets. The sealed
 * string names its format (`kms1:`, `loc1:`) so the key scheme can change without a migration.
 *
 * The encryption context binds a ciphertext to where it belongs (`{ tenantId, userId, purpose }`):
 * it is authenticated but not secret, and a ciphertext opened under any other context fails, so a
 * sealed value copied to another user's or tenant's item is useless there.
 */
export type SecretContext = Readonly<Record<string, string>>;

export interface SecretBox {
  seal(plaintext: string, context: SecretContext): Promise<string>;
  open(sealed: string, context: SecretContext): Promise<string>;
}

/** A sealed value that does not open: wrong context, tampered, another key, or an unknown format. */
export class SecretBoxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretBoxError';
  }
}

/** Whether a stored value is sealed (`<format>:`), rather than a clear value written before sealing existed. */
export function isSealed(value: string): boolean {
  return /^[a-z][a-z0-9]*:/.test(value);
}

/** The context as one canonical string: keys sorted, JSON (the AES-GCM additional data). */
export function canonicalContext(context: SecretContext): string {
  return JSON.stringify(
    Object.keys(context)
      .sort()
      .map((k) => [k, context[k]]),
  );
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Lru } from '../lru.js';

/**
 * Authorization codes that carry their grant, sealed, so the token endpoint redeems one with a
 * single DynamoDB transaction instead of a read and then a transaction (issue: a federated flow
 * in at most five round trips).
 *
 * A code is `<r><sealed>`: `r` is the 256-bit random part (43 characters), whose hash keys the code's item as
 * before; `sealed` is the grant (what the item holds) deflated and encrypted with AES-256-GCM
 * under a key derived from the tenant's secret hash (HKDF-SHA256, RFC 5869), with `r` as
 * additional data, so a sealed grant cannot be moved onto another code. The item stays the
 * authority: redeeming a sealed code still consumes the item in one conditional write, matching
 * the digest of the sealed part, so a grant sealed by anyone else (even with the key) does not
 * redeem. A code whose sealed part does not open (the tenant secret was rotated in between, a
 * tampered code) is redeemed the old way, by reading its item. Grants too large to seal within
 * `MAX_SEALED_CHARS` (a long `nonce` or `claims` request) are issued as plain `r`, also the old way.
 *
 * Why not the item alone: the read is one of the two round trips of the token step, and the
 * grant's fields are needed before the consume (PKCE, redirect URI, client and DPoP bindings are
 * checked first, so a wrong request cannot burn a code). Why sealed and not just signed: the code
 * travels in the browser's URL, and the grant (user id, nonce, action state) is nobody's business
 * there.
 */

/** Sealed parts are kept short enough for any URL (a code is 43 + at most this many characters). */
export const MAX_SEALED_CHARS = 1000;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const INFO = Buffer.from('authorization-code-seal:v1');

/** Derived keys of the tenants a warm container has seen (HKDF is cheap, but not free). */
const keys = new Lru<string, Buffer>(1000);

function keyFor(secretHash: string): Buffer {
  let key = keys.get(secretHash);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', Buffer.from(secretHash, 'utf8'), Buffer.alloc(0), INFO, 32));
    keys.set(secretHash, key);
  }
  return key;
}

/** Seals and opens a code's grant (an `authorization-codes.ts` CodeItem, as JSON). */
export interface CodeSeal {
  /** The sealed part for a grant, or undefined when it would be too long. */
  seal(random: string, item: object): string | undefined;
  /** The grant a sealed part holds, or undefined if it does not open under this tenant's key. */
  open<T extends object>(random: string, sealed: string): T | undefined;
}

/** The code seal of a tenant, keyed by its secret hash. */
export function codeSeal(tenant: { secretHash: string }): CodeSeal {
  const key = keyFor(tenant.secretHash);
  return {
    seal(random, item) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(random, 'utf8'));
      const body = Buffer.concat([cipher.update(deflateRawSync(JSON.stringify(item))), cipher.final()]);
      const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
      return sealed.length <= MAX_SEALED_CHARS ? sealed : undefined;
    },
    open<T extends object>(random: string, sealed: string): T | undefined {
      if (sealed.length > MAX_SEALED_CHARS || !/^[A-Za-z0-9_-]+$/.test(sealed)) return undefined;
      const raw = Buffer.from(sealed, 'base64url');
      if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(random, 'utf8'));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
          decipher.final(),
        ]);
        // Bounded: what was deflated was at most a few KB of JSON.
        return JSON.parse(inflateRawSync(plain, { maxOutputLength: 64 * 1024 }).toString('utf8')) as T;
      } catch {
        return undefined;
      }
    },
  };
}

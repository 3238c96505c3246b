import { createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { AwsApi } from '../aws/json-api.js';
import { logger } from '../log.js';
import { kmsCall } from '../crypto/kms-call.js';
import {
  compactJws,
  publicJwk,
  UnsupportedAlgorithmError,
  type PublicJwk,
  type SignOptions,
  type Signer,
  type SigningAlg,
} from './signer.js';

interface KmsKey {
  keyId: string;
  jwk: PublicJwk;
}

/**
 * KMS adapter: an RSA_2048 SIGN_VERIFY key per region signs RS256 tokens. The private key never
 * leaves KMS. `GetPublicKey` has a very low request quota, so each key's public half is fetched once
 * per container and cached for the container's life (a key's public half never changes).
 */
export class KmsSigner implements Signer {
  private readonly keys = new Map<string, Promise<KmsKey>>();

  constructor(
    /** A KMS client (`functions/aws/json-api.ts`). */
    private readonly kms: AwsApi,
    private readonly currentKeyId: string,
    private readonly previousKeyIds: string[] = [],
  ) {}

  private key(keyId: string): Promise<KmsKey> {
    let p = this.keys.get(keyId);
    if (!p) {
      p = this.fetch(keyId);
      this.keys.set(keyId, p);
      // A failed fetch must not poison the cache: the next request tries again.
      p.catch(() => this.keys.delete(keyId));
    }
    return p;
  }

  private async fetch(keyId: string): Promise<KmsKey> {
    const out = await kmsCall<{ KeyId?: string; PublicKey?: string; KeySpec?: string; KeyUsage?: string }>(
      this.kms,
      'GetPublicKey',
      { KeyId: keyId },
    );
    if (!out.PublicKey || out.KeySpec !== 'RSA_2048' || out.KeyUsage !== 'SIGN_VERIFY') {
      throw new Error(`KMS key ${keyId} is not an RSA_2048 SIGN_VERIFY key`);
    }
    const jwk = createPublicKey({
      key: Buffer.from(out.PublicKey, 'base64'),
      format: 'der',
      type: 'spki',
    }).export({
      format: 'jwk',
    }) as JWK;
    // The kid is the RFC 7638 thumbprint of the public key: stable, and derived from the key itself.
    const kid = await calculateJwkThumbprint(jwk, 'sha256');
    return { keyId: out.KeyId ?? keyId, jwk: publicJwk(jwk, kid) };
  }

  async algorithms(): Promise<SigningAlg[]> {
    return ['RS256'];
  }

  async signJwt(payload: Record<string, unknown>, header: SignOptions = {}): Promise<string> {
    // The region's KMS key is RSA with PKCS#1 v1.5 only: another algorithm is refused, never swapped.
    if (header.alg && header.alg !== 'RS256') throw new UnsupportedAlgorithmError(header.alg);
    const key = await this.key(this.currentKeyId);
    return compactJws(key.jwk.kid, payload, header, async (digest) => {
      const out = await kmsCall<{ Signature?: string }>(this.kms, 'Sign', {
        KeyId: key.keyId,
        Message: Buffer.from(digest).toString('base64'),
        MessageType: 'DIGEST',
        // PKCS#1 v1.5 with SHA-256 is exactly RS256 (RFC 7518 §3.3); KMS returns the raw signature.
        SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
      });
      if (!out.Signature) throw new Error('KMS returned no signature');
      return new Uint8Array(Buffer.from(out.Signature, 'base64'));
    });
  }

  async publicKeys(): Promise<PublicJwk[]> {
    const current = await this.key(this.currentKeyId);
    // A retired key that KMS no longer serves (disabled, pending deletion) drops out of the JWKS
    // instead of taking the whole JWKS down with it; the current key must always be there.
    const previous = await Promise.allSettled(this.previousKeyIds.map((id) => this.key(id)));
    for (const [i, p] of previous.entries()) {
      if (p.status === 'rejected')
        logger.warn('a previous signing key is unavailable', { keyId: this.previousKeyIds[i] });
    }
    return [current, ...previous.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : []))].map(
      (k) => k.jwk,
    );
  }
}

import { constants, createPrivateKey, sign, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.js';
import { count } from '../metrics.js';
import type { TenantStore } from '../store/tenant-store.js';
import { Lru } from '../lru.js';
import {
  DEFAULT_SIGNING_ALG,
  SIGNING_ALGS,
  UnsupportedAlgorithmError,
  type PublicJwk,
  type SignOptions,
  type Signer,
  type SigningAlg,
} from './signer.js';
import {
  KEY_LIST_CACHE_MS,
  keyContext,
  SIGNING_KEYS_KEY,
  loadOrCreateKeys,
  publishedKeys,
  signingKey,
  type TenantKeyRecord,
  type TenantKeysItem,
} from './tenant-keys.js';

type PrivateKey = KeyObject;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Encoded protected headers by alg, typ and kid: a handful per tenant, the same for every token. */
const headers = new Lru<string, string>(1_000);
function encodedHeader(alg: SigningAlg, typ: string, kid: string): string {
  const key = `${alg} ${typ} ${kid}`;
  let encoded = headers.get(key);
  if (!encoded) {
    encoded = b64({ alg, typ, kid });
    headers.set(key, encoded);
  }
  return encoded;
}

/**
 * The JWS signature of `input` (RFC 7518 §3.3-3.5, RFC 8037 §3.1), with node:crypto directly:
 * synchronous and several times faster than going through WebCrypto for ES256 and EdDSA. jose
 * verifies every algorithm in the tests.
 */
function jwsSignature(alg: SigningAlg, input: Buffer, key: KeyObject): Buffer {
  switch (alg) {
    case 'RS256':
      return sign('sha256', input, key);
    case 'PS256':
      // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
      return sign('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256':
      // RFC 7518 §3.4: R || S, 32 bytes each, not DER.
      return sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, input, key);
  }
}

/**
 * One tenant's signer (`SIGNER=tenant`). The key list is read at most every `listCacheMs`
 * (`TENANT_CACHE_SECONDS`, like the tenant record);
 * each private key is opened (one secret-box open: a KMS Decrypt on AWS) the first time it signs
 * in this container and kept, so a warm container signs with no KMS call at all.
 */
export class TenantKeyring implements Signer {
  private list: { keys: TenantKeyRecord[]; until: number } | undefined;
  private loading: Promise<TenantKeysItem> | undefined;
  private creating: Promise<TenantKeysItem> | undefined;
  private readonly opened = new Map<string, Promise<PrivateKey>>();

  constructor(
    private readonly store: TenantStore,
    private readonly box: SecretBox,
    /** Verification-only keys published next to the tenant's own (the region's KMS key during migration). */
    private readonly extraKeys: () => Promise<PublicJwk[]> = async () => [],
    private readonly now: () => number = Date.now,
    private readonly listCacheMs = KEY_LIST_CACHE_MS,
  ) {}

  /**
   * The tenant's key list. Only signing creates the keys of a tenant made before per-tenant keys
   * (`create`): publishing and verifying only read, so read-only functions need no write or
   * `kms:Encrypt` permission; until the first token such a tenant's JWKS has only the region keys.
   */
  private async keys(create = false): Promise<TenantKeyRecord[]> {
    const cached = this.list;
    if (cached && cached.until > this.now() && (cached.keys.length > 0 || !create)) return cached.keys;
    const load = create
      ? (this.creating ??= loadOrCreateKeys(this.store, this.box, this.now()).finally(
          () => (this.creating = undefined),
        ))
      : (this.loading ??= this.store
          .get<TenantKeysItem>(SIGNING_KEYS_KEY)
          .then((item) => item ?? { keys: [], rev: '' })
          .finally(() => (this.loading = undefined)));
    const item = await load;
    this.list = { keys: item.keys, until: this.now() + this.listCacheMs };
    // A revoked key's opened private half is dropped with it.
    const live = new Set(item.keys.map((k) => k.kid));
    for (const kid of this.opened.keys()) if (!live.has(kid)) this.opened.delete(kid);
    return item.keys;
  }

  private open(key: TenantKeyRecord): Promise<PrivateKey> {
    let p = this.opened.get(key.kid);
    if (!p) {
      p = this.box
        .open(key.sealed, keyContext(this.store.tenantId, key.kid))
        .then((jwk) => createPrivateKey({ key: JSON.parse(jwk) as JsonWebKeyInput['key'], format: 'jwk' }));
      this.opened.set(key.kid, p);
      // A failed open (KMS down) must not stick: the next token tries again.
      p.catch(() => this.opened.delete(key.kid));
    }
    return p;
  }

  async algorithms(): Promise<SigningAlg[]> {
    const keys = await this.keys();
    const now = this.now();
    const algs = [...new Set(keys.filter((k) => signingKey(keys, k.alg, now)).map((k) => k.alg))];
    // A tenant whose keys are made at its first token signs with every algorithm from then on.
    return algs.length ? algs : [...SIGNING_ALGS];
  }

  async signJwt(payload: Record<string, unknown>, header: SignOptions = {}): Promise<string> {
    const alg = header.alg ?? DEFAULT_SIGNING_ALG;
    const key = signingKey(await this.keys(true), alg, this.now());
    if (!key) throw new UnsupportedAlgorithmError(alg);
    const privateKey = await this.open(key);
    count('signer:signJwt');
    const signingInput = `${encodedHeader(alg, header.typ ?? 'JWT', key.kid)}.${b64(payload)}`;
    const signature = jwsSignature(alg, Buffer.from(signingInput, 'ascii'), privateKey);
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  async publicKeys(): Promise<PublicJwk[]> {
    const [keys, extra] = await Promise.all([this.keys(), this.extraKeys()]);
    return [...publishedKeys(keys, this.now()).map((k) => k.publicJwk), ...extra];
  }
}

/** Default number of tenants whose keyrings a warm container keeps. */
export const KEYRING_CACHE_TENANTS = 500;

/** The keyrings of one region's tenants in this container, least recently used forgotten first. */
export class TenantKeyrings {
  private readonly cache: Lru<string, TenantKeyring>;

  constructor(
    private readonly box: SecretBox,
    private readonly opts: {
      capacity?: number;
      extraKeys?: () => Promise<PublicJwk[]>;
      now?: () => number;
      /** How long a container trusts its copy of a tenant's key list (a revocation reaches it within this). */
      listCacheMs?: number;
    } = {},
  ) {
    this.cache = new Lru(opts.capacity ?? KEYRING_CACHE_TENANTS);
  }

  for(store: TenantStore): TenantKeyring {
    let ring = this.cache.get(store.tenantId);
    if (!ring) {
      ring = new TenantKeyring(store, this.box, this.opts.extraKeys, this.opts.now, this.opts.listCacheMs);
      this.cache.set(store.tenantId, ring);
    }
    return ring;
  }
}

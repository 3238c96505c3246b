import { createPrivateKey } from 'node:crypto';
import { config } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { ReadCache } from '../read-cache.js';
import { outboundUrlProblem } from '../outbound/guarded-fetch.js';
import type { TenantStore } from '../store/tenant-store.js';
import * as z from '../zod.js';

/**
 * A tenant's upstream OpenID Connect providers: "Continue with <name>" on the hosted login. Each
 * is one item of the tenant's `identity-providers` partition; its client secret (or Apple's
 * private key) is sealed with the `SecretBox`, bound to the tenant and the provider id, and never
 * leaves this module in clear except to the token request.
 */

/** The id in `/v1/identity-providers/{id}` and in `/oidc/callback/{id}`. */
export const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const providerIdSchema = z
  .string()
  .check(z.regex(PROVIDER_ID, 'the provider id is 1 to 63 lower-case letters, digits or "-"'));

export const MICROSOFT_CONSUMERS_TID = '9188040d-6c67-4c5b-b112-36a304b66dad';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const APPLE_ISSUER = 'https://appleid.apple.com';
export const GOOGLE_ISSUER = 'https://accounts.google.com';

const text = (what: string, max: number) =>
  z
    .string()
    .check(
      z.regex(
        new RegExp(`^[^\\p{Cc}\\p{Cf}]{1,${max}}$`, 'u'),
        `${what} is 1 to ${max} printable characters`,
      ),
    );

/** OIDC Core §3.1.2.1: `scope` must contain `openid`; scope-tokens per RFC 6749 §3.3. */
const scopes = z.string().check(
  z.maxLength(500),
  z.regex(
    /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/,
    'scopes are scope-tokens separated by one space',
  ),
  z.refine((s) => s.split(' ').includes('openid'), 'scopes must include openid (OIDC Core §3.1.2.1)'),
);

const issuerUrl = z.string().check(
  z.maxLength(500),
  z.superRefine((value: string, ctx) => {
    const problem = outboundUrlProblem(value, 'issuer');
    if (problem) return ctx.addIssue({ code: 'custom', message: problem });
    const url = new URL(value);
    // OIDC Discovery §2: an issuer is a URL without query or fragment.
    if (url.search || url.hash || value.includes('#') || value.includes('?'))
      ctx.addIssue({
        code: 'custom',
        message: 'issuer has no query or fragment (OpenID Connect Discovery §2)',
      });
  }),
);

const common = {
  name: text('name', 100),
  client_id: text('client_id', 256),
  scopes: z.optional(scopes),
  linkByEmail: z._default(z.boolean(), false),
};
const clientSecret = text('client_secret', 4096);

const pkcs8 = z.string().check(
  z.maxLength(8192),
  z.refine((pem) => {
    try {
      const key = createPrivateKey({ key: pem, format: 'pem' });
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    } catch {
      return false;
    }
  }, 'private_key is a PKCS#8 PEM P-256 key (the .p8 file Apple gives)'),
);

export const putProviderSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('oidc'), ...common, issuer: issuerUrl, client_secret: clientSecret }),
  z.strictObject({ type: z.literal('google'), ...common, client_secret: clientSecret }),
  z.strictObject({
    type: z.literal('microsoft'),
    ...common,
    client_secret: clientSecret,
    // Which Entra ID accounts may sign in: one directory (its GUID) or a multi-tenant audience.
    tenant: z._default(
      z.pipe(
        z
          .string()
          .check(
            z.refine(
              (t) => ['common', 'organizations', 'consumers'].includes(t) || GUID.test(t.toLowerCase()),
              'tenant is common, organizations, consumers or a directory (tenant) id',
            ),
          ),
        z.transform((t: string) => t.toLowerCase()),
      ),
      'common',
    ),
  }),
  z.strictObject({
    type: z.literal('apple'),
    ...common,
    team_id: z.string().check(z.regex(/^[A-Z0-9]{10}$/, 'team_id is the 10-character Apple team id')),
    key_id: z.string().check(z.regex(/^[A-Z0-9]{10}$/, 'key_id is the 10-character Apple key id')),
    private_key: pkcs8,
  }),
]);

export type ProviderInput = z.output<typeof putProviderSchema>;
export type ProviderType = ProviderInput['type'];

/** A provider as stored and as the API shows it (the secret never). */
export interface ProviderView {
  id: string;
  type: ProviderType;
  name: string;
  issuer: string;
  client_id: string;
  scopes: string;
  linkByEmail: boolean;
  tenant?: string;
  team_id?: string;
  key_id?: string;
  /** Where the upstream sends the browser back: register it there. */
  redirect_uri: string;
  updatedAt: string;
}

/** What the upstream leg needs: the view and the secret (client secret, or Apple's PEM) still sealed. */
export interface StoredProvider extends Omit<ProviderView, 'redirect_uri'> {
  sealedSecret: string;
}

const DEFAULT_SCOPES: Record<ProviderType, string> = {
  oidc: 'openid email profile',
  google: 'openid email profile',
  microsoft: 'openid email profile',
  // Apple releases name and email only with form_post (Sign in with Apple REST API).
  apple: 'openid name email',
};

/** The issuer a preset stands for (Microsoft: the v2.0 endpoint of the chosen audience). */
export function presetIssuer(input: ProviderInput): string {
  switch (input.type) {
    case 'oidc':
      // Kept exactly as given: `iss` is compared to it character for character (OIDC Core §3.1.3.7).
      return input.issuer;
    case 'google':
      return GOOGLE_ISSUER;
    case 'apple':
      return APPLE_ISSUER;
    case 'microsoft':
      return `https://login.microsoftonline.com/${input.tenant}/v2.0`;
  }
}

/** The callback on the tenant host: `redirect_uri` of every upstream request (OIDC Core §3.1.2.1). */
export const callbackUri = (origin: string, id: string) => `${origin}/oidc/callback/${id}`;

/** Where a sealed provider secret belongs: this tenant and this provider only. */
export const secretContext = (tenantId: string, id: string) => ({
  tenantId,
  purpose: `identity-provider:${id}`,
});

const PK = 'identity-providers';
export const providerKey = (id: string) => ({ pk: PK, sk: `idp#${id}` });
const key = providerKey;

export const MAX_PROVIDERS = 20;

/**
 * The hosted login's "Continue with …" list, per tenant: read once per `TENANT_CACHE_SECONDS` by a
 * warm container instead of on every sign-in page (most tenants have none, and the query would be
 * the page's only read).
 */
const loginListCache = new ReadCache<StoredProvider[]>(1000);

export class IdentityProviderRepository {
  constructor(
    private readonly store: TenantStore,
    private readonly box: SecretBox,
    private readonly origin: string,
  ) {}

  view(p: StoredProvider): ProviderView {
    const { sealedSecret: _secret, ...rest } = p;
    return { ...rest, redirect_uri: callbackUri(this.origin, p.id) };
  }

  async get(id: string): Promise<StoredProvider | undefined> {
    if (!PROVIDER_ID.test(id)) return undefined;
    const item = await this.store.get<StoredProvider & Record<string, unknown>>(key(id));
    return item ? pick(item) : undefined;
  }

  async list(): Promise<StoredProvider[]> {
    const items = await this.store.query<StoredProvider & Record<string, unknown>>(PK, 'idp#');
    return items.map(pick).sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * `list` for the sign-in page, cached per container: a provider put or deleted shows there within
   * `TENANT_CACHE_SECONDS` (at once in the container that changed it). The management API reads
   * `list`, never this, so it always answers what is stored.
   */
  listForLogin(): Promise<StoredProvider[]> {
    return loginListCache.get(this.store.tenantId, config().tenantCacheSeconds * 1000, () => this.list());
  }

  async put(
    id: string,
    input: ProviderInput,
    now = Date.now(),
  ): Promise<{ provider: StoredProvider; created: boolean }> {
    const existing = await this.get(id);
    const secret = input.type === 'apple' ? input.private_key : input.client_secret;
    const provider: StoredProvider = {
      id,
      type: input.type,
      name: input.name,
      issuer: presetIssuer(input),
      client_id: input.client_id,
      scopes: input.scopes ?? DEFAULT_SCOPES[input.type],
      linkByEmail: input.linkByEmail,
      ...(input.type === 'microsoft' ? { tenant: input.tenant } : {}),
      ...(input.type === 'apple' ? { team_id: input.team_id, key_id: input.key_id } : {}),
      sealedSecret: await this.box.seal(secret, secretContext(this.store.tenantId, id)),
      updatedAt: new Date(now).toISOString(),
    };
    await this.store.put(key(id), { ...provider });
    loginListCache.forget(this.store.tenantId);
    return { provider, created: !existing };
  }

  async delete(id: string): Promise<boolean> {
    if (!(await this.get(id))) return false;
    await this.store.delete(key(id));
    loginListCache.forget(this.store.tenantId);
    return true;
  }

  /** The client secret (or Apple's PEM) in clear, for one token request. */
  openSecret(p: StoredProvider): Promise<string> {
    return this.box.open(p.sealedSecret, secretContext(this.store.tenantId, p.id));
  }
}

function pick(item: StoredProvider & Record<string, unknown>): StoredProvider {
  const {
    id,
    type,
    name,
    issuer,
    client_id,
    scopes,
    linkByEmail,
    tenant,
    team_id,
    key_id,
    sealedSecret,
    updatedAt,
  } = item;
  return {
    id,
    type,
    name,
    issuer,
    client_id,
    scopes,
    linkByEmail,
    ...(tenant ? { tenant } : {}),
    ...(team_id ? { team_id } : {}),
    ...(key_id ? { key_id } : {}),
    sealedSecret,
    updatedAt,
  };
}

import * as z from '../zod.js';
import type { TenantStore } from '../store/tenant-store.js';
import { SCOPE_CLAIMS, type Profile } from '../users/profile.js';

/**
 * Tenant-defined scopes: a name, a description the consent page shows, and the claims the scope
 * releases — names of custom attribute keys (released as top-level claims of the same name) or
 * `roles` / `groups`. They live in one partition (`scopes`), so one query reads all of them.
 */

/**
 * The scopes the provider defines itself: `openid`, `offline_access` (OIDC Core §11) and those that
 * release claims (§5.4's, and its own `roles`, `groups`, `custom_attributes`). Discovery lists them;
 * a tenant can never redefine one.
 */
export const BUILT_IN_SCOPES: readonly string[] = ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS)];

/** Bounds: the scopes travel in discovery and their claims in tokens, which must stay small. */
export const MAX_TENANT_SCOPES = 50;
export const MAX_SCOPE_CLAIMS = 20;

/**
 * RFC 6749 §3.3 scope-token (`%x21 / %x23-5B / %x5D-7E`) without `/`, which could not travel in
 * one path segment; at most 64 characters.
 */
export const SCOPE_NAME = /^[\x21\x23-\x2e\x30-\x5b\x5d-\x7e]{1,64}$/;

export const scopeNameSchema = z.string().check(
  z.regex(SCOPE_NAME, 'a scope is 1 to 64 printable ASCII characters without space, ", \\ or /'),
  z.refine((s) => !BUILT_IN_SCOPES.includes(s), 'a standard scope cannot be redefined'),
);

/**
 * Claims that must never come from a tenant attribute: the ID token's and access token's own
 * (OIDC Core §2, RFC 9068 §2.2, RFC 9449 §6) and every profile claim (§5.1), so a scope can never
 * shadow `sub`, `email` or `acr`. `roles` and `groups` are the two profile lists a scope may name.
 */
const RESERVED_CLAIMS = new Set([
  ...Object.values(SCOPE_CLAIMS)
    .flat()
    .filter((c) => c !== 'roles' && c !== 'groups'),
  ...['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'azp'],
  ...['at_hash', 'c_hash', 's_hash', 'sid', 'cnf', 'scope', 'client_id', 'typ', 'events', 'gid', 'uic'],
]);

/** A claim name: a custom attribute key (same pattern as profile.ts) or `roles` / `groups`. */
const claimName = z.string().check(
  z.regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/, 'a claim is a custom attribute name, roles or groups'),
  z.refine((c) => !RESERVED_CLAIMS.has(c), 'a registered claim cannot be released by a tenant scope'),
);

/** The body of `PUT /v1/scopes/{scope}`. */
export const putScopeSchema = z.strictObject({
  description: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
  claims: z.array(claimName).check(
    z.minLength(1, 'claims names at least one claim'),
    z.maxLength(MAX_SCOPE_CLAIMS, `at most ${MAX_SCOPE_CLAIMS} claims`),
    z.refine((l) => new Set(l).size === l.length, 'claims must not repeat'),
  ),
});

export type TenantScope = z.output<typeof putScopeSchema> & { scope: string; updatedAt: string };

const PK = 'scopes';
const key = (scope: string) => ({ pk: PK, sk: `scope#${scope}` });

export class TenantScopeRepository {
  constructor(private readonly store: TenantStore) {}

  /** Every scope of the tenant, by name: one query. */
  async list(): Promise<TenantScope[]> {
    const items = await this.store.query<TenantScope & Record<string, unknown>>(PK, 'scope#');
    return items.map(view).sort((a, b) => a.scope.localeCompare(b.scope));
  }

  async get(scope: string): Promise<TenantScope | undefined> {
    const item = await this.store.get<TenantScope & Record<string, unknown>>(key(scope));
    return item ? view(item) : undefined;
  }

  /**
   * Creates or replaces a scope; `created` says which. A new scope beyond the bound is refused
   * (`undefined`): two concurrent creations can both pass the count, which only ever adds one.
   */
  async put(
    scope: string,
    input: z.output<typeof putScopeSchema>,
    now = Date.now(),
  ): Promise<{ saved: TenantScope; created: boolean } | undefined> {
    const all = await this.list();
    const created = !all.some((s) => s.scope === scope);
    if (created && all.length >= MAX_TENANT_SCOPES) return undefined;
    const saved: TenantScope = { scope, ...input, updatedAt: new Date(now).toISOString() };
    await this.store.put(key(scope), { ...saved });
    return { saved, created };
  }

  async delete(scope: string): Promise<boolean> {
    const existed = (await this.store.get(key(scope))) !== undefined;
    await this.store.delete(key(scope));
    return existed;
  }
}

function view(item: TenantScope & Record<string, unknown>): TenantScope {
  const { scope, description, claims, updatedAt } = item;
  return { scope, description, claims, updatedAt };
}

/**
 * The claims the granted tenant scopes release from a profile: a custom attribute as a top-level
 * claim of its name, `roles` and `groups` as themselves. Absent values are left out.
 */
export function tenantScopeClaims(
  profile: Profile | undefined,
  granted: readonly string[],
  scopes: readonly TenantScope[],
): Record<string, unknown> {
  if (!profile) return {};
  const claims: Record<string, unknown> = {};
  for (const s of scopes) {
    if (!granted.includes(s.scope)) continue;
    for (const name of s.claims) {
      const value = name === 'roles' || name === 'groups' ? profile[name] : profile.custom_attributes?.[name];
      if (value !== undefined) claims[name] = value;
    }
  }
  return claims;
}

/** The descriptions of the tenant scopes among `scopes`, for the consent page (no read without one). */
export async function scopeDescriptions(
  store: TenantStore,
  scopes: readonly string[],
): Promise<Record<string, string>> {
  if (scopes.every((s) => BUILT_IN_SCOPES.includes(s))) return {};
  const own = await new TenantScopeRepository(store).list();
  return Object.fromEntries(own.filter((s) => scopes.includes(s.scope)).map((s) => [s.scope, s.description]));
}

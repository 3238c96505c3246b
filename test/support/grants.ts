import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { withDefaults, type Client } from '../../functions/clients/client.js';
import { ProtocolError } from '../../functions/errors.js';
import { verifyAccessToken } from '../../functions/oidc/access-tokens.js';
import type { TokenEndpointDeps } from '../../functions/oidc/token-request.js';
import type { AccessTokenClaims } from '../../functions/oidc/tokens.js';
import { LocalSigner } from '../../functions/signing/local-signer.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { freshStore } from './dynamo.js';

/**
 * What a grant function needs, on the run's DynamoDB Local: one tenant's `TenantStore` in a fresh
 * table, a local signer and the tenant's issuer. Grants are called as the token endpoint calls
 * them, after client authentication and the grant check.
 */
export interface GrantFixture {
  store: TenantStore;
  deps: TokenEndpointDeps;
  issuer: string;
  /** A registered confidential client allowed `grant_types`, with its own id. */
  client(overrides?: Partial<Client>): Client;
  /** The claims of an access token this tenant issued; fails the test when it is not active. */
  activeClaims(accessToken: string, now?: number): Promise<AccessTokenClaims>;
  /** Whether an access token is still accepted (not revoked, not expired). */
  isActive(accessToken: string): Promise<boolean>;
}

export async function grantFixture(prefix: string): Promise<GrantFixture> {
  const raw = await freshStore(prefix);
  const store = new TenantStore(raw, randomUUID());
  const signer = await LocalSigner.open(mkdtempSync(join(tmpdir(), `${prefix}-keys-`)), 'us');
  const issuer = `https://${prefix}.us.example.test/oidc`;
  const deps: TokenEndpointDeps = { store, signer, issuer };
  return {
    store,
    deps,
    issuer,
    client: (overrides = {}) =>
      withDefaults({
        client_id: randomUUID(),
        client_name: 'Test app',
        built_in: false,
        client_type: 'confidential',
        redirect_uris: ['https://app.example.test/cb'],
        post_logout_redirect_uris: [],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        scope: 'openid profile email offline_access',
        token_endpoint_auth_method: 'client_secret_basic',
        require_pkce: false,
        require_pushed_authorization_requests: false,
        first_party: false,
        access_token_lifetime: 600,
        id_token_lifetime: 600,
        resources: [],
        refresh_token_lifetime: 3600,
        refresh_token_absolute_lifetime: 7200,
        created_at: '',
        updated_at: '',
        ...overrides,
      }),
    activeClaims: async (accessToken, now) => {
      const check = await verifyAccessToken(accessToken, { ...deps, ...(now ? { now } : {}) });
      if (!check.active) throw new Error(`access token not active: ${check.reason}`);
      return check.claims;
    },
    isActive: async (accessToken) => (await verifyAccessToken(accessToken, deps)).active,
  };
}

/** The promise fails with a `ProtocolError` of this RFC 6749 §5.2 code (and description, if given). */
export async function expectProtocolError(
  promise: Promise<unknown>,
  code: string,
  description?: RegExp,
): Promise<ProtocolError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  const protocolError = err as ProtocolError;
  expect(protocolError.code).toBe(code);
  expect(protocolError.status).toBe(400);
  if (description) expect(protocolError.description).toMatch(description);
  return protocolError;
}

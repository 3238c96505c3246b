import { json, tenantHandler } from '../http/handler.js';
import { JWKS_MAX_AGE_SECONDS, JWKS_STALE_SECONDS } from '../signing/tenant-keys.js';

/**
 * GET /oidc/jwks — this tenant's public signing keys (RFC 7517 §5): current, next and recently
 * retired ones, never another tenant's. Cacheable for a short while: rotation publishes a new key
 * longer than this cache lifetime before it signs (functions/signing/tenant-keys.ts), and a
 * verifier that meets an unknown `kid` refetches.
 */
export const handler = tenantHandler(async (_req, ctx) =>
  json(
    200,
    { keys: await ctx.signer.publicKeys() },
    {
      'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}, stale-while-revalidate=${JWKS_STALE_SECONDS}`,
      'access-control-allow-origin': '*',
    },
  ),
);

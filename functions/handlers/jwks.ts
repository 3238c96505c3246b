import { json, tenantHandler } from '../http/handler.js';

/**
 * GET /oidc/jwks — the region's public signing keys (RFC 7517 §5). Cacheable for a short while: a
 * verifier that meets an unknown `kid` refetches, and a new key is published before it signs.
 */
export const handler = tenantHandler(async (_req, ctx) =>
  json(
    200,
    { keys: await ctx.services.signer.publicKeys() },
    {
      'cache-control': 'public, max-age=300, stale-while-revalidate=60',
      'access-control-allow-origin': '*',
    },
  ),
);

import { authenticateClientAt } from '../http/client-auth.js';
import { parseForm } from '../http/body.js';
import { json, tenantHandler } from '../http/handler.js';
import { verifyDpopProof } from '../oidc/dpop.js';
import { pushAuthorizationRequest } from '../oidc/par.js';

/**
 * POST /oidc/request — the pushed authorization request endpoint (RFC 9126 §2): the client
 * authenticates as at the token endpoint (public clients send their client_id only), pushes the
 * authorization request parameters and gets a one-time `request_uri` for `/oidc/auth`. A `DPoP`
 * proof sent with it binds the code to the proof's key (RFC 9449 §10.1).
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    // Parameters must not repeat, as at the authorization endpoint (RFC 6749 §3.1).
    const form = parseForm(req);
    const client = await authenticateClientAt(req, form, ctx, '/request');
    const proof =
      req.headers.dpop === undefined
        ? undefined
        : await verifyDpopProof(
            ctx.store,
            {
              proof: req.headers.dpop,
              method: req.method,
              url: `${ctx.issuer}/request`,
              nonceKey: ctx.tenant.secretHash,
            },
            { site: 'token', requireNonce: client.require_dpop_nonce === true },
          );
    const pushed = await pushAuthorizationRequest(
      form,
      client,
      { store: ctx.store, issuer: ctx.issuer },
      proof?.jkt,
    );
    const nonce: Record<string, string> = proof?.nonce ? { 'dpop-nonce': proof.nonce } : {};
    return json(201, pushed, { 'cache-control': 'no-store', pragma: 'no-cache', ...nonce });
  },
  { errors: 'oauth' },
);

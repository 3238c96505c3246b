import { authenticateClientAt } from '../http/client-auth.js';
import { tenantHandler } from '../http/handler.js';
import { revokeToken } from '../oidc/revocation.js';
import { parseTokenRequest } from '../http/token-form.js';

/**
 * POST /oidc/token/revocation — token revocation (RFC 7009): the client authenticates as at the
 * token endpoint; the answer is 200 with an empty body whatever the token was (§2.2).
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const { form } = parseTokenRequest(req);
    const client = await authenticateClientAt(req, form, ctx, '/token/revocation');
    await revokeToken(form, client, { store: ctx.store, signer: ctx.signer, issuer: ctx.issuer });
    return { status: 200, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body: '' };
  },
  { errors: 'oauth' },
);

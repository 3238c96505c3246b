import { authenticateClientAt } from '../clients/client-auth.js';
import { ProtocolError } from '../errors.js';
import { json, tenantHandler } from '../http/handler.js';
import { CIBA_GRANT, DEVICE_CODE_GRANT } from '../clients/client.js';
import { cibaGrant } from '../oidc/ciba.js';
import { clientCredentialsGrant } from '../oidc/client-credentials.js';
import { deviceCodeGrant } from '../oidc/device.js';
import { refreshTokens } from '../oidc/refresh.js';
import { exchangeCode } from '../oidc/token-exchange.js';
import { parseTokenRequest } from '../oidc/token-request.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * POST /oidc/token — the token endpoint (RFC 6749 §3.2): client authentication (a secret, a
 * `private_key_jwt` assertion or none), then the grant: authorization_code, refresh_token,
 * client_credentials, the device code (RFC 8628) or CIBA (poll mode).
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const { form, resources } = parseTokenRequest(req);
    const client = await authenticateClientAt(req, form, ctx, '/token');
    const grantType = form.grant_type;
    if (!grantType) throw new ProtocolError(400, 'invalid_request', 'grant_type is required');
    const deps = { store: ctx.store, signer: ctx.services.signer, issuer: ctx.issuer };
    switch (grantType) {
      case 'authorization_code':
        return json(200, await exchangeCode(form, client, deps, resources), NO_STORE);
      case 'refresh_token':
        return json(200, await refreshTokens(form, resources, client, deps), NO_STORE);
      case 'client_credentials':
        return json(200, await clientCredentialsGrant(form, resources, client, deps), NO_STORE);
      case DEVICE_CODE_GRANT:
        return json(200, await deviceCodeGrant(form, resources, client, deps), NO_STORE);
      case CIBA_GRANT:
        return json(200, await cibaGrant(form, resources, client, deps), NO_STORE);
      default:
        throw new ProtocolError(
          400,
          'unsupported_grant_type',
          `grant_type "${grantType.slice(0, 100)}" is not supported`,
        );
    }
  },
  { errors: 'oauth' },
);

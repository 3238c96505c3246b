import {
  CIBA_GRANT,
  DEVICE_CODE_GRANT,
  mayUseGrant,
  type Client,
  type GrantType,
} from '../clients/client.js';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from '../errors.js';
import { authenticateClientAt } from '../http/client-auth.js';
import { json, tenantHandler } from '../http/handler.js';
import { parseTokenRequest } from '../http/token-form.js';
import { metric } from '../metrics.js';
import { authorizationCodeGrant } from '../oidc/authorization-code.js';
import { codeSeal } from '../oidc/code-seal.js';
import { cibaGrant } from '../oidc/ciba.js';
import { clientCredentialsGrant } from '../oidc/client-credentials.js';
import { deviceCodeGrant } from '../oidc/device.js';
import { tokenRequestProof } from '../oidc/dpop.js';
import { refreshTokenGrant } from '../oidc/refresh.js';
import type { TokenEndpointDeps, TokenRequest } from '../oidc/token-request.js';
import type { TokenResponse } from '../oidc/tokens.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** The grants of the token endpoint, each with the words its `unauthorized_client` error uses. */
const GRANTS: {
  type: GrantType;
  name: string;
  issue: (request: TokenRequest, client: Client, deps: TokenEndpointDeps) => Promise<TokenResponse>;
}[] = [
  { type: 'authorization_code', name: 'the authorization_code grant', issue: authorizationCodeGrant },
  { type: 'refresh_token', name: 'the refresh_token grant', issue: refreshTokenGrant },
  { type: 'client_credentials', name: 'the client_credentials grant', issue: clientCredentialsGrant },
  { type: DEVICE_CODE_GRANT, name: 'the device code grant', issue: deviceCodeGrant },
  { type: CIBA_GRANT, name: 'the CIBA grant', issue: cibaGrant },
];

/**
 * POST /oidc/token — the token endpoint (RFC 6749 §3.2): client authentication (a secret, a
 * `private_key_jwt` assertion or none), whether this client may use the grant it names (once, for
 * every grant), then the grant: authorization_code, refresh_token, client_credentials, the device
 * code (RFC 8628) or CIBA (poll mode). A `DPoP` proof (RFC 9449 §5) binds the access token to
 * its key; the client's own metadata may require one.
 */
export const handler = tenantHandler(
  async (req, ctx) => {
    const request = parseTokenRequest(req);
    const client = await authenticateClientAt(req, request.form, ctx, '/token');
    const grantType = request.form.grant_type;
    if (!grantType) throw invalidRequest('grant_type is required');
    const grant = GRANTS.find((g) => g.type === grantType);
    if (!grant) throw unsupportedGrantType(`grant_type "${grantType.slice(0, 100)}" is not supported`);
    if (!mayUseGrant(client, grant.type)) throw unauthorizedClient(`this client may not use ${grant.name}`);
    const proof = await tokenRequestProof(
      ctx.store,
      {
        proof: req.headers.dpop,
        method: req.method,
        url: `${ctx.issuer}/token`,
        nonceKey: ctx.tenant.secretHash,
      },
      client,
    );
    const deps = {
      store: ctx.store,
      signer: ctx.signer,
      issuer: ctx.issuer,
      dpopJkt: proof?.jkt,
      codeSeal: codeSeal(ctx.tenant),
    };
    const nonce: Record<string, string> = proof?.nonce ? { 'dpop-nonce': proof.nonce } : {};
    const tokens = await grant.issue(request, client, deps);
    metric('TokensIssued', { GrantType: grant.type });
    return json(200, tokens, { ...NO_STORE, ...nonce });
  },
  { errors: 'oauth' },
);

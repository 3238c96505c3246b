import {
  CLIENT_ASSERTION_ALGS,
  GRANT_TYPES,
  REQUEST_OBJECT_ALGS,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from '../clients/client.js';
import { BUILT_IN_SCOPES } from '../scopes/tenant-scopes.js';
import { PROFILE_CLAIMS } from '../users/profile.js';
import { LOCALES } from '../i18n.js';
import { DPOP_ALGS } from './dpop.js';
import { SUPPORTED_ACR } from './login-request.js';

/** Claims the provider can release: the standard ones, the profile's, and the federated outcome's. */
const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'at_hash',
  'amr',
  'acr',
  'sid',
  ...PROFILE_CLAIMS,
  'action',
  'action_code',
  'action_state',
  'is_enrolled',
  'idempotency_key',
];

/**
 * OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2). Only what works is
 * advertised: a client library trusts this document, so a listed feature that fails is worse than
 * a missing one.
 */
export function discoveryDocument(
  issuer: string,
  /** What the tenant's keys can sign now (OpenID Connect Discovery 1.0 §3); RS256 is always first. */
  signingAlgs: readonly string[] = ['RS256'],
  /** The tenant's own scopes (`scopes/tenant-scopes.ts`): their names and claims are listed too. */
  tenantScopes: readonly { scope: string; claims: readonly string[] }[] = [],
): Record<string, unknown> {
  // Revocation and introspection take the same client authentication as the token endpoint.
  const authMethods = [...TOKEN_ENDPOINT_AUTH_METHODS];
  const confidentialMethods = authMethods.filter((m) => m !== 'none');
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks`,
    revocation_endpoint: `${issuer}/token/revocation`,
    introspection_endpoint: `${issuer}/token/introspection`,
    end_session_endpoint: `${issuer}/session/end`,
    // RFC 8628 §4 and CIBA Core §4 (poll mode only; signed requests and user_code not supported).
    device_authorization_endpoint: `${issuer}/device/auth`,
    backchannel_authentication_endpoint: `${issuer}/backchannel`,
    backchannel_token_delivery_modes_supported: ['poll'],
    backchannel_user_code_parameter_supported: false,
    // RFC 9126 §5: PAR, with the token endpoint's client authentication.
    pushed_authorization_request_endpoint: `${issuer}/request`,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    grant_types_supported: [...GRANT_TYPES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...signingAlgs],
    // Signed UserInfo responses (OIDC Core §5.3.2), per client userinfo_signed_response_alg.
    userinfo_signing_alg_values_supported: [...signingAlgs],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    revocation_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    // Introspection is for confidential clients (RFC 7662 §2.1).
    introspection_endpoint_auth_methods_supported: confidentialMethods,
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...BUILT_IN_SCOPES, ...tenantScopes.map((s) => s.scope)],
    claims_supported: [...new Set([...CLAIMS_SUPPORTED, ...tenantScopes.flatMap((s) => s.claims)])],
    claims_parameter_supported: true,
    // OIDC Core §3.1.2.1 prompt values (OpenID Connect Prompt Create is not supported).
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    acr_values_supported: [...SUPPORTED_ACR],
    ui_locales_supported: [...LOCALES],
    // RFC 9101: signed request objects (never alg none); `require_signed_request_object` is per
    // client. No remote request_uri is fetched (SSRF, RFC 9101 §10.4): only PAR's.
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: [...REQUEST_OBJECT_ALGS],
    request_uri_parameter_supported: false,
    // Per client (require_pushed_authorization_requests), not for the whole tenant. A PAR
    // request_uri works whatever request_uri_parameter_supported says (RFC 9126 §5).
    require_pushed_authorization_requests: false,
    // OpenID Connect Back-Channel Logout 1.0 §2.1: logout tokens carry `sid` (and `sub`).
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // RFC 9207: authorization responses carry `iss`.
    authorization_response_iss_parameter_supported: true,
    // RFC 9449 §5.1: DPoP at the token endpoint, UserInfo and introspection (asymmetric only).
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
  };
}

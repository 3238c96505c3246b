/**
 * OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3). Only what works is advertised: a
 * client library trusts this document, so a listed feature that fails is worse than a missing one.
 */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat'],
  };
}

import * as z from '../zod.js';
import { backchannelLogoutUriSchema } from './backchannel-uri.js';
import { resourceList, uriList } from './client-uris.js';
import {
  DEFAULT_SIGNING_ALG,
  MAX_TOKEN_LIFETIME_SECONDS,
  SIGNING_ALGS,
  type SigningAlg,
} from '../signing/signer.js';

/**
 * An OIDC client of a tenant, stored as its RFC 7591 metadata (snake_case, as the management API
 * shows it) plus the hash of its secret. The tenant id is also a client: the built-in one whose
 * secret is the tenant secret, used by `/init-auth` flows (its client_id is the tenant id).
 */
export interface Client {
  client_id: string;
  /** Optional (RFC 7591 §2); pages show the client id instead (`clientDisplayName`). */
  client_name?: string;
  built_in: boolean;
  /** `confidential` clients authenticate at the token endpoint; `public` ones cannot keep a secret. */
  client_type: 'confidential' | 'public';
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  /**
   * `authorization_code`, `refresh_token` (with the `offline_access` scope), `client_credentials`
   * (confidential only), the device code grant (RFC 8628) and CIBA (confidential only).
   */
  grant_types: GrantType[];
  response_types: string[];
  /** Scopes the client may request (space-separated, RFC 7591 §2). */
  scope: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  require_pkce: boolean;
  /** RFC 9126 §6: the client may start an authorization request only through `POST /oidc/request`. */
  require_pushed_authorization_requests: boolean;
  first_party: boolean;
  access_token_lifetime: number;
  id_token_lifetime: number;
  /** JWS algorithm of its ID tokens (OpenID Connect Dynamic Client Registration 1.0 §2); RS256 by default. */
  id_token_signed_response_alg: SigningAlg;
  /** JWS algorithm of its access tokens (RFC 9068 §2.1 allows any asymmetric one); RS256 by default. */
  access_token_signed_response_alg: SigningAlg;
  /**
   * RFC 8707 resource indicators (absolute URIs) the client may ask access tokens for, with
   * `resource` (or `audience`): they become the access token's `aud`. Empty: the `aud` is the client id.
   */
  resources: string[];
  /** Sliding lifetime of a refresh token (seconds): each rotation extends it, up to the absolute one. */
  refresh_token_lifetime: number;
  /** Absolute lifetime of a refresh token family (seconds), counted from the authorization. */
  refresh_token_absolute_lifetime: number;
  /**
   * The client's public keys for `private_key_jwt` (RFC 7523 client assertions) and for signed
   * request objects (RFC 9101): an inline JWKS.
   */
  jwks?: { keys: PublicClientJwk[] };
  /**
   * Request objects (RFC 9101 §10.5, OpenID Connect Dynamic Client Registration 1.0 §2): the one
   * algorithm this client's request objects must be signed with (any supported one when absent),
   * and whether every authorization request must come as a signed request object.
   */
  request_object_signing_alg?: RequestObjectAlg;
  require_signed_request_object?: boolean;
  /** RFC 9449 §5.2: every token request must carry a DPoP proof, so its access tokens are key-bound. */
  dpop_bound_access_tokens?: boolean;
  /** RFC 9449 §8: DPoP proofs of this client must carry a server nonce (`use_dpop_nonce` until they do). */
  require_dpop_nonce?: boolean;
  /**
   * OpenID Connect Back-Channel Logout 1.0 §2.2: where the provider POSTs a logout token when a
   * session this client got tokens in ends, and whether the client needs `sid` in it (always sent).
   */
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
  /**
   * OpenID Connect Dynamic Client Registration 1.0 §2: when set, UserInfo answers a JWT signed with
   * this algorithm (`application/jwt`, OIDC Core §5.3.2); plain JSON when absent.
   */
  userinfo_signed_response_alg?: SigningAlg;
  /** The ID token also carries the granted tenant scopes' claims (the provider's own option). */
  id_token_scope_claims?: boolean;
  created_at: string;
  updated_at: string;
  /** SHA-256 of the secret; absent on public and built-in clients. */
  secret_hash?: string;
}

/**
 * Client ids are UUIDs (registered clients and the built-in one, whose id is the tenant id); 200
 * leaves room for any id format without nearing DynamoDB's 1024-byte sort key limit, so an id
 * outside these bounds is simply unknown (404), never a key the store rejects.
 */
export const MAX_CLIENT_ID_LENGTH = 200;
/** RFC 3986 unreserved characters only: what a client id may contain. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~-]+$/;
export const isClientId = (value: string | undefined): value is string =>
  typeof value === 'string' && value.length <= MAX_CLIENT_ID_LENGTH && CLIENT_ID_PATTERN.test(value);

export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  // RFC 8628 device authorization grant (public or confidential clients).
  DEVICE_CODE_GRANT,
  // OpenID Connect CIBA Core 1.0, poll mode (confidential clients only).
  CIBA_GRANT,
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** Client assertion signature algorithms accepted for `private_key_jwt` (RFC 7523). */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256'] as const;
/**
 * Request object signature algorithms (RFC 9101 §4): never `none`, see `oidc/request-object.ts`.
 * `Ed25519` is RFC 9864's fully-specified name for EdDSA with Ed25519, which current relying-party
 * libraries (openid-client) sign with.
 */
export const REQUEST_OBJECT_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;
export type RequestObjectAlg = (typeof REQUEST_OBJECT_ALGS)[number];
/** The key type each request object algorithm needs (RFC 7518 §3, RFC 8037 §3.1). */
const KEY_TYPE_OF: Record<RequestObjectAlg, PublicClientJwk['kty']> = {
  RS256: 'RSA',
  PS256: 'RSA',
  ES256: 'EC',
  EdDSA: 'OKP',
  Ed25519: 'OKP',
};

export const DEFAULT_SCOPES = 'openid';
export const DEFAULT_ACCESS_TOKEN_LIFETIME = 600;
export const DEFAULT_ID_TOKEN_LIFETIME = 600;
export const DEFAULT_REFRESH_TOKEN_LIFETIME = 14 * 86_400;
export const DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME = 90 * 86_400;
/** The longest a refresh token family may live; revocation markers are kept this long. */
export const MAX_REFRESH_TOKEN_LIFETIME = 365 * 86_400;

/** A public JWK of a client: RSA, EC P-256 or Ed25519 (request objects only), never private members. */
export interface PublicClientJwk {
  kty: 'RSA' | 'EC' | 'OKP';
  kid?: string;
  alg?: RequestObjectAlg;
  use?: 'sig';
  n?: string;
  e?: string;
  crv?: 'P-256' | 'Ed25519';
  x?: string;
  y?: string;
}

/** Space-separated scope tokens (RFC 6749 §3.3: NQCHAR, one space between tokens): create and PATCH alike. */
const scopeSchema = z
  .string()
  .check(
    z.maxLength(1000),
    z.regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'space-separated scope tokens'),
  );

const lifetime = z.number().check(z.int(), z.gte(60), z.lte(MAX_TOKEN_LIFETIME_SECONDS));
/**
 * A token signing algorithm: any value is let through here and judged by `clientRuleViolation`,
 * so an unsupported one answers `invalid_client_metadata` (RFC 7591 §3.2.2), not a generic
 * `invalid_request`, at create and at PATCH alike.
 */
const signingAlg = z.custom<SigningAlg>(() => true);
const isSigningAlg = (value: unknown): value is SigningAlg => SIGNING_ALGS.includes(value as SigningAlg);
const refreshLifetime = z.number().check(z.int(), z.gte(60), z.lte(MAX_REFRESH_TOKEN_LIFETIME));

const b64u = z.string().check(z.regex(/^[A-Za-z0-9_-]+$/, 'base64url'), z.maxLength(2048));
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * One public signing key (RFC 7517): RSA (n, e), EC P-256 (x, y) or, for request objects signed
 * with EdDSA, OKP Ed25519 (x; RFC 8037 §2); private members are refused.
 */
const publicJwkSchema = z.pipe(
  z
    .looseObject({
      kty: z.enum(['RSA', 'EC', 'OKP']),
      kid: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
      alg: z.optional(z.enum(REQUEST_OBJECT_ALGS)),
      use: z.optional(z.literal('sig')),
      n: z.optional(b64u),
      e: z.optional(b64u),
      crv: z.optional(z.enum(['P-256', 'Ed25519'])),
      x: z.optional(b64u),
      y: z.optional(b64u),
    })
    .check(
      z.superRefine((jwk, ctx) => {
        const privateMembers = PRIVATE_MEMBERS.filter((m) => m in jwk);
        if (privateMembers.length) {
          ctx.addIssue({
            code: 'custom',
            message: `a client JWKS holds public keys only (remove ${privateMembers.join(', ')})`,
          });
        }
        if (jwk.kty === 'RSA' && (!jwk.n || !jwk.e))
          ctx.addIssue({ code: 'custom', message: 'an RSA key needs n and e' });
        if (jwk.kty === 'EC' && (jwk.crv !== 'P-256' || !jwk.x || !jwk.y)) {
          ctx.addIssue({ code: 'custom', message: 'an EC key must be P-256 with x and y' });
        }
        if (jwk.kty === 'OKP' && (jwk.crv !== 'Ed25519' || !jwk.x || jwk.y)) {
          ctx.addIssue({ code: 'custom', message: 'an OKP key must be Ed25519 with x' });
        }
      }),
    ),
  z.transform((jwk): PublicClientJwk => {
    // Only the members that matter are kept (x5c, key_ops and the like are dropped).
    const { kty, kid, alg, use, n, e, crv, x, y } = jwk;
    return Object.fromEntries(
      Object.entries({ kty, kid, alg, use, n, e, crv, x, y }).filter(([, v]) => v !== undefined),
    ) as unknown as PublicClientJwk;
  }),
);

const jwksSchema = z.object({
  keys: z
    .array(publicJwkSchema)
    .check(z.minLength(1, 'at least one key'), z.maxLength(10, 'at most 10 keys')),
});

const grantTypes = z.array(z.enum(GRANT_TYPES)).check(
  z.minLength(1),
  z.refine((l) => new Set(l).size === l.length, 'grant types must not repeat'),
);

/** Body of `POST /v1/clients` (RFC 7591 names). */
export const createClientSchema = z.object({
  client_name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200))),
  // Absent: public when token_endpoint_auth_method is "none", else confidential (RFC 7591 §2).
  client_type: z.optional(z.enum(['confidential', 'public'])),
  redirect_uris: z._default(uriList, []),
  post_logout_redirect_uris: z._default(uriList, []),
  grant_types: z._default(grantTypes, ['authorization_code']),
  response_types: z._default(z.array(z.literal('code')), ['code']),
  scope: z._default(scopeSchema, DEFAULT_SCOPES),
  token_endpoint_auth_method: z.optional(z.enum(TOKEN_ENDPOINT_AUTH_METHODS)),
  require_pkce: z.optional(z.boolean()),
  require_pushed_authorization_requests: z._default(z.boolean(), false),
  first_party: z._default(z.boolean(), false),
  access_token_lifetime: z._default(lifetime, DEFAULT_ACCESS_TOKEN_LIFETIME),
  id_token_lifetime: z._default(lifetime, DEFAULT_ID_TOKEN_LIFETIME),
  id_token_signed_response_alg: z._default(signingAlg, DEFAULT_SIGNING_ALG),
  access_token_signed_response_alg: z._default(signingAlg, DEFAULT_SIGNING_ALG),
  resources: z._default(resourceList, []),
  refresh_token_lifetime: z._default(refreshLifetime, DEFAULT_REFRESH_TOKEN_LIFETIME),
  refresh_token_absolute_lifetime: z._default(refreshLifetime, DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME),
  jwks: z.optional(jwksSchema),
  // RFC 9101 §10.5; OpenID Connect Dynamic Client Registration 1.0 §2 (never "none" here).
  request_object_signing_alg: z.optional(z.enum(REQUEST_OBJECT_ALGS)),
  require_signed_request_object: z._default(z.boolean(), false),
  dpop_bound_access_tokens: z._default(z.boolean(), false),
  require_dpop_nonce: z._default(z.boolean(), false),
  backchannel_logout_uri: z.optional(backchannelLogoutUriSchema),
  backchannel_logout_session_required: z._default(z.boolean(), false),
  userinfo_signed_response_alg: z.optional(signingAlg),
  id_token_scope_claims: z.optional(z.boolean()),
});

/**
 * Body of `PATCH /v1/clients/{clientId}`: any subset, no defaults, unknown fields refused; the type
 * and built-in flag cannot change.
 */
export const patchClientSchema = z.strictObject({
  client_name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200))),
  redirect_uris: z.optional(uriList),
  post_logout_redirect_uris: z.optional(uriList),
  grant_types: z.optional(grantTypes),
  response_types: z.optional(z.array(z.literal('code'))),
  scope: z.optional(scopeSchema),
  token_endpoint_auth_method: z.optional(z.enum(TOKEN_ENDPOINT_AUTH_METHODS)),
  require_pkce: z.optional(z.boolean()),
  require_pushed_authorization_requests: z.optional(z.boolean()),
  first_party: z.optional(z.boolean()),
  access_token_lifetime: z.optional(lifetime),
  id_token_lifetime: z.optional(lifetime),
  id_token_signed_response_alg: z.optional(signingAlg),
  access_token_signed_response_alg: z.optional(signingAlg),
  resources: z.optional(resourceList),
  refresh_token_lifetime: z.optional(refreshLifetime),
  refresh_token_absolute_lifetime: z.optional(refreshLifetime),
  /** `null` removes the keys. */
  jwks: z.optional(z.nullable(jwksSchema)),
  /** `null` lifts the restriction to one algorithm. */
  request_object_signing_alg: z.optional(z.nullable(z.enum(REQUEST_OBJECT_ALGS))),
  require_signed_request_object: z.optional(z.boolean()),
  dpop_bound_access_tokens: z.optional(z.boolean()),
  require_dpop_nonce: z.optional(z.boolean()),
  /** `null` stops back-channel logout for the client. */
  backchannel_logout_uri: z.optional(z.nullable(backchannelLogoutUriSchema)),
  backchannel_logout_session_required: z.optional(z.boolean()),
  /** `null` goes back to plain JSON. */
  userinfo_signed_response_alg: z.optional(z.nullable(signingAlg)),
  id_token_scope_claims: z.optional(z.boolean()),
});

/**
 * A client as stored before refresh tokens, resources and client assertions existed reads with the
 * defaults of today, so every reader sees complete metadata.
 */
type SigningAlgFields = 'id_token_signed_response_alg' | 'access_token_signed_response_alg';
export function withDefaults(
  client: Omit<Client, SigningAlgFields> & Partial<Pick<Client, SigningAlgFields>>,
): Client {
  return {
    ...client,
    resources: client.resources ?? [],
    id_token_signed_response_alg: client.id_token_signed_response_alg ?? DEFAULT_SIGNING_ALG,
    access_token_signed_response_alg: client.access_token_signed_response_alg ?? DEFAULT_SIGNING_ALG,
    require_pushed_authorization_requests: client.require_pushed_authorization_requests ?? false,
    refresh_token_lifetime: client.refresh_token_lifetime ?? DEFAULT_REFRESH_TOKEN_LIFETIME,
    refresh_token_absolute_lifetime:
      client.refresh_token_absolute_lifetime ?? DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME,
    require_signed_request_object: client.require_signed_request_object ?? false,
    dpop_bound_access_tokens: client.dpop_bound_access_tokens ?? false,
    require_dpop_nonce: client.require_dpop_nonce ?? false,
    backchannel_logout_session_required: client.backchannel_logout_session_required ?? false,
  };
}

/** The rules that involve more than one field; `undefined` when the client is consistent. */
export function clientRuleViolation(client: Client): string | undefined {
  const method = client.token_endpoint_auth_method;
  if (client.client_type === 'public') {
    if (method !== 'none')
      return 'a public client cannot authenticate with a secret or key: use token_endpoint_auth_method "none"';
    if (!client.require_pkce) return 'PKCE cannot be turned off for a public client';
    if (client.grant_types.includes('client_credentials')) {
      return 'the client_credentials grant is for confidential clients only (RFC 6749 §4.4)';
    }
    if (client.grant_types.includes(CIBA_GRANT)) {
      return 'the CIBA grant is for confidential clients only (CIBA Core §4: the client authenticates)';
    }
  } else if (method === 'none') {
    return 'a confidential client must authenticate: choose client_secret_basic, client_secret_post or private_key_jwt';
  }
  if (method === 'private_key_jwt' && !client.jwks?.keys.length)
    return 'private_key_jwt needs the public keys in jwks';
  for (const field of ['id_token_signed_response_alg', 'access_token_signed_response_alg'] as const) {
    if (!isSigningAlg(client[field])) return `${field} must be one of ${SIGNING_ALGS.join(', ')}`;
  }
  const userinfoAlg = client.userinfo_signed_response_alg;
  if (userinfoAlg !== undefined && !isSigningAlg(userinfoAlg))
    return `userinfo_signed_response_alg must be one of ${SIGNING_ALGS.join(', ')}`;
  if (
    client.built_in &&
    (client.id_token_signed_response_alg !== 'RS256' || client.access_token_signed_response_alg !== 'RS256')
  ) {
    return 'the built-in client signs with RS256 (what Azure AD B2C expects)';
  }
  if (client.refresh_token_absolute_lifetime < client.refresh_token_lifetime) {
    return 'refresh_token_absolute_lifetime must not be shorter than refresh_token_lifetime';
  }
  return requestObjectRuleViolation(client);
}

/** A client that signs request objects needs a registered key that can verify them. */
function requestObjectRuleViolation(client: Client): string | undefined {
  const alg = client.request_object_signing_alg;
  const keys = client.jwks?.keys ?? [];
  if (client.require_signed_request_object && !keys.length)
    return 'require_signed_request_object needs the public keys in jwks';
  if (alg && !keys.some((k) => k.kty === KEY_TYPE_OF[alg] && (!k.alg || k.alg === alg)))
    return `request_object_signing_alg ${alg} needs a ${KEY_TYPE_OF[alg]} key for it in jwks`;
  return undefined;
}

/** Grants that need a client that authenticates: RFC 6749 §4.4, CIBA Core §4. */
const CONFIDENTIAL_ONLY_GRANTS: readonly GrantType[] = ['client_credentials', CIBA_GRANT];

/**
 * Whether a client may use a grant at the token endpoint: the grant is among its `grant_types`,
 * and a grant for confidential clients only is refused to a public one even if a client stored
 * before that rule lists it (RFC 6749 §5.2 `unauthorized_client`).
 */
export function mayUseGrant(client: Client, grantType: GrantType): boolean {
  if (!client.grant_types.includes(grantType)) return false;
  return client.client_type === 'confidential' || !CONFIDENTIAL_ONLY_GRANTS.includes(grantType);
}

/** The name the pages show: `client_name`, which RFC 7591 §2 makes optional, else the client id. */
export const clientDisplayName = (client: Client): string => client.client_name ?? client.client_id;

/** What the management API shows of a client: never the secret's hash. */
export function publicView(client: Client): Omit<Client, 'secret_hash'> {
  const { secret_hash: _hash, ...view } = client;
  return view;
}

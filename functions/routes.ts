/**
 * The one route table: the CDK stack creates one API Gateway route per method and one Lambda
 * function per entry from it; the local server dispatches the same entries to the same handler
 * modules. Local and cloud cannot drift, because neither has a list of its own.
 */
import type { Method, Route } from './route.js';
import { managementRoutes } from './routes-management.js';

export type { Method, Permission, Route } from './route.js';

export const routes: Route[] = [
  {
    id: 'Health',
    methods: ['GET'],
    path: '/health',
    handler: 'health',
    tenant: false,
    permissions: [],
    purpose: 'Liveness: 200 when the function can answer',
  },
  {
    id: 'Discovery',
    methods: ['GET'],
    path: '/oidc/.well-known/openid-configuration',
    handler: 'discovery',
    tenant: true,
    permissions: ['table:read'],
    purpose: 'OpenID Provider metadata for the tenant (OpenID Connect Discovery 1.0 §4)',
  },
  {
    id: 'AuthorizationServerMetadata',
    methods: ['GET'],
    // RFC 8414 §3.1: the issuer's path (`/oidc`) goes after the well-known segment.
    path: '/.well-known/oauth-authorization-server/oidc',
    handler: 'discovery',
    tenant: true,
    permissions: ['table:read'],
    purpose: 'OAuth 2.0 Authorization Server Metadata (RFC 8414 §3): the same document as discovery',
  },
  {
    id: 'Jwks',
    methods: ['GET'],
    path: '/oidc/jwks',
    handler: 'jwks',
    tenant: true,
    permissions: ['table:read', 'kms:publicKey'],
    purpose: "The region's signing keys, current and still-verifiable previous ones (RFC 7517)",
  },
  {
    id: 'Interaction',
    methods: ['GET'],
    path: '/interaction/{id}',
    handler: 'interaction',
    tenant: true,
    // A GET seals nothing (a new authenticator-app secret is made by a POST step), so no
    // kms:Encrypt. table:write stays until every page a GET renders is known to write nothing
    // (the SSO session it reads may be refreshed).
    permissions: ['table:read', 'table:write', 'kms:secrets:open'],
    purpose: 'Hosted pages: the challenge, enrollment or settings screen of one interaction',
  },
  {
    id: 'InteractionStep',
    methods: ['POST'],
    path: '/interaction/{id}/{step}',
    handler: 'interaction',
    tenant: true,
    permissions: ['table:read', 'table:write', 'ses:send', 'sms:send', 'kms:secrets', 'kms:sign'],
    purpose: 'Hosted pages: verify a code, send an email code, passkey ceremonies, enroll, remove, finish',
  },
  {
    id: 'InteractionPasskey',
    methods: ['POST'],
    path: '/interaction/{id}/passkey/{step}',
    handler: 'interaction-passkey',
    tenant: true,
    // kms:sign: a passkey that ends a sign-in may end older sessions (their logout tokens are signed).
    permissions: ['table:read', 'table:write', 'kms:sign'],
    purpose: 'Hosted pages: the passkey ceremonies (options and verification, sign-in and enrollment)',
  },
  {
    id: 'EndSession',
    methods: ['GET', 'POST'],
    path: '/oidc/session/end',
    handler: 'end-session',
    tenant: true,
    // kms:sign: the logout tokens of Back-Channel Logout 1.0.
    permissions: ['table:read', 'table:write', 'kms:sign', 'kms:publicKey', 'queue:logout'],
    purpose:
      'RP-Initiated Logout 1.0: ends the SSO session, tells its clients (Back-Channel Logout 1.0), back to the post-logout URI',
  },
  {
    id: 'InitAuth',
    methods: ['POST'],
    path: '/init-auth',
    handler: 'init-auth',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose:
      'Starts an Authsignal-style federated challenge flow: a short-lived, single-use token for /oidc/auth',
  },
  {
    id: 'GetUser',
    methods: ['POST'],
    path: '/get-user',
    handler: 'get-user',
    tenant: true,
    permissions: ['table:read'],
    purpose: 'Azure AD B2C proxy of GET /v1/users/{userId}: userId in the body, as B2C sends claims',
  },
  {
    id: 'Authorize',
    methods: ['GET', 'POST'],
    path: '/oidc/auth',
    handler: 'authorize',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: 'Authorization endpoint (OIDC Core §3.1.2): always ends with a code at the redirect URI',
  },
  {
    id: 'Token',
    methods: ['POST'],
    path: '/oidc/token',
    handler: 'token',
    tenant: true,
    permissions: ['table:read', 'table:write', 'kms:sign', 'kms:publicKey'],
    purpose:
      'Token endpoint (RFC 6749 §3.2): authorization_code, refresh_token, client_credentials, device code and CIBA grants',
  },
  {
    id: 'UserInfo',
    methods: ['GET', 'POST'],
    path: '/oidc/userinfo',
    handler: 'userinfo',
    tenant: true,
    // kms:sign: signed responses for clients with userinfo_signed_response_alg (OIDC Core §5.3.2).
    permissions: ['table:read', 'kms:sign', 'kms:publicKey'],
    purpose: "UserInfo endpoint (OIDC Core §5.3): the profile claims an access token's scopes release",
  },
  {
    id: 'Revocation',
    methods: ['POST'],
    path: '/oidc/token/revocation',
    handler: 'revocation',
    tenant: true,
    permissions: ['table:read', 'table:write', 'kms:publicKey'],
    purpose: 'Token revocation (RFC 7009): a refresh token and its family, or one access token',
  },
  {
    id: 'Introspection',
    methods: ['POST'],
    path: '/oidc/token/introspection',
    handler: 'introspection',
    tenant: true,
    permissions: ['table:read', 'table:write', 'kms:publicKey'],
    purpose: 'Token introspection (RFC 7662): whether a token is active, and its claims',
  },
  {
    id: 'PushedAuthorizationRequest',
    methods: ['POST'],
    path: '/oidc/request',
    handler: 'par',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: 'Pushed authorization requests (RFC 9126): a one-time request_uri for /oidc/auth',
  },
  {
    id: 'DeviceAuthorization',
    methods: ['POST'],
    path: '/oidc/device/auth',
    handler: 'device-auth',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: 'Device authorization (RFC 8628 §3.1): a device code to poll with and a user code to enter',
  },
  {
    id: 'DevicePage',
    methods: ['GET', 'POST'],
    path: '/oidc/device',
    handler: 'device-page',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: 'Device verification page (RFC 8628 §3.3): enter the user code, then the hosted sign-in',
  },
  {
    id: 'Backchannel',
    methods: ['POST'],
    path: '/oidc/backchannel',
    handler: 'backchannel',
    tenant: true,
    permissions: ['table:read', 'table:write', 'ses:send', 'sms:send'],
    purpose: 'CIBA backchannel authentication (poll mode): an auth_req_id, and a link to the user',
  },
  {
    id: 'BackchannelVerify',
    methods: ['GET'],
    path: '/oidc/backchannel/verify',
    handler: 'backchannel-verify',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: "CIBA link target: the hosted sign-in for the named user, ending in the request's approval",
  },
  {
    id: 'UpstreamCallback',
    methods: ['GET', 'POST'],
    path: '/oidc/callback/{id}',
    handler: 'oidc-callback',
    tenant: true,
    // kms:idp-secrets:open: the provider's client secret; kms:sign: as every step ending a sign-in.
    permissions: ['table:read', 'table:write', 'kms:idp-secrets:open', 'kms:sign'],
    purpose:
      'Upstream sign-in: the answer of an upstream OpenID Connect provider (code flow, PKCE, nonce), then the local sign-in goes on',
  },
  ...managementRoutes,
];

/**
 * What answers a request no entry matches: JSON 404, or 405 with `Allow` for a known path and the
 * wrong method. The CDK stack wires it to `ANY` on every API resource and `{proxy+}`; the local server calls
 * it for the same requests, so an unknown path looks the same locally and on AWS.
 */
export const fallbackRoute: Route = {
  id: 'NotFound',
  methods: [],
  path: '$default',
  handler: 'not-found',
  tenant: false,
  permissions: [],
  purpose: 'Any request no route matches: JSON 404, or 405 with Allow',
};

/** Matches a concrete path against a route path; returns the path parameters or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  return matchSegments(pattern.split('/'), path.split('/'));
}

function matchSegments(p: readonly string[], a: readonly string[]): Record<string, string> | undefined {
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    const val = a[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (!val) return undefined;
      try {
        params[seg.slice(1, -1)] = decodeURIComponent(val);
      } catch {
        return undefined;
      }
    } else if (seg !== val) {
      return undefined;
    }
  }
  return params;
}

/**
 * The table split once, grouped by segment count (in table order within a group): a request is
 * compared only with the routes of its own length, without splitting every pattern on every request.
 */
let bySegments: Map<number, { route: Route; segments: string[] }[]> | undefined;
function routesOfLength(n: number) {
  if (!bySegments) {
    bySegments = new Map();
    for (const route of routes) {
      const segments = route.path.split('/');
      const group = bySegments.get(segments.length) ?? [];
      group.push({ route, segments });
      bySegments.set(segments.length, group);
    }
  }
  return bySegments.get(n) ?? [];
}

export function findRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { allowed: Method[] } | undefined {
  const allowed: Method[] = [];
  const actual = path.split('/');
  for (const { route, segments } of routesOfLength(actual.length)) {
    const params = matchSegments(segments, actual);
    if (!params) continue;
    if ((route.methods as string[]).includes(method)) return { route, params };
    allowed.push(...route.methods);
  }
  return allowed.length ? { allowed } : undefined;
}

import { z } from 'zod';

/**
 * An OIDC client of a tenant, stored as its RFC 7591 metadata (snake_case, as the management API
 * shows it) plus the hash of its secret. The tenant id is also a client: the built-in one whose
 * secret is the tenant secret, used by `/init-auth` flows (API.md).
 */
export interface Client {
  client_id: string;
  client_name: string;
  built_in: boolean;
  /** `confidential` clients authenticate at the token endpoint; `public` ones cannot keep a secret. */
  client_type: 'confidential' | 'public';
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  /** Scopes the client may request (space-separated, RFC 7591 §2). */
  scope: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  require_pkce: boolean;
  first_party: boolean;
  access_token_lifetime: number;
  id_token_lifetime: number;
  created_at: string;
  updated_at: string;
  /** SHA-256 of the secret; absent on public and built-in clients. */
  secret_hash?: string;
}

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export const DEFAULT_SCOPES = 'openid';
export const DEFAULT_ACCESS_TOKEN_LIFETIME = 600;
export const DEFAULT_ID_TOKEN_LIFETIME = 600;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A redirect URI as OAuth 2.0 Security BCP and RFC 8252 allow: absolute, no fragment (RFC 6749
 * §3.1.2), https, or http only on loopback, or a private-use scheme with a dot for native apps. It
 * is matched exactly, never by prefix or wildcard.
 */
export const redirectUriSchema = z
  .string()
  .max(2000, 'a redirect URI is at most 2000 characters')
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an absolute URI` });
      return;
    }
    if (url.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: 'a redirect URI has no fragment' });
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'a redirect URI has no user info' });
    if (value.includes('*')) ctx.addIssue({ code: 'custom', message: 'wildcards are not allowed: register exact URIs' });
    const scheme = url.protocol.slice(0, -1);
    if (scheme === 'https') return;
    if (scheme === 'http' && LOOPBACK.has(url.hostname)) return;
    if (scheme === 'http' && url.hostname.endsWith('.localhost')) return;
    if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+$/.test(scheme)) return; // RFC 8252 §7.1 private-use scheme
    ctx.addIssue({ code: 'custom', message: `"${value}" must use https (http only for localhost)` });
  });

const uriList = z.array(redirectUriSchema).max(50, 'at most 50 URIs').refine((l) => new Set(l).size === l.length, 'URIs must not repeat');

const lifetime = z.number().int().min(60).max(86_400);

/** Body of `POST /v1/clients` (RFC 7591 names). */
export const createClientSchema = z.object({
  client_name: z.string().trim().min(1).max(200),
  client_type: z.enum(['confidential', 'public']).default('confidential'),
  redirect_uris: uriList.default([]),
  post_logout_redirect_uris: uriList.default([]),
  grant_types: z.array(z.enum(['authorization_code'])).min(1).default(['authorization_code']),
  response_types: z.array(z.literal('code')).default(['code']),
  scope: z.string().max(1000).regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'space-separated scope tokens').default(DEFAULT_SCOPES),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
  require_pkce: z.boolean().optional(),
  first_party: z.boolean().default(false),
  access_token_lifetime: lifetime.default(DEFAULT_ACCESS_TOKEN_LIFETIME),
  id_token_lifetime: lifetime.default(DEFAULT_ID_TOKEN_LIFETIME),
});

/** Body of `PATCH /v1/clients/{clientId}`: any subset; the type and built-in flag cannot change. */
export const patchClientSchema = createClientSchema
  .omit({ client_type: true })
  .partial()
  .extend({
    client_name: z.string().trim().min(1).max(200).optional(),
    redirect_uris: uriList.optional(),
    post_logout_redirect_uris: uriList.optional(),
    grant_types: z.array(z.enum(['authorization_code'])).min(1).optional(),
    response_types: z.array(z.literal('code')).optional(),
    scope: z.string().max(1000).optional(),
    first_party: z.boolean().optional(),
    access_token_lifetime: lifetime.optional(),
    id_token_lifetime: lifetime.optional(),
  })
  .strict();

/** What the management API shows of a client: never the secret's hash. */
export function publicView(client: Client): Omit<Client, 'secret_hash'> {
  const { secret_hash: _hash, ...view } = client;
  return view;
}

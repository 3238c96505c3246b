/**
 * The named errors of the product, one place for all of them. Use-cases throw these; the edge
 * (`functions/http/`) renders them in the endpoint's style (OAuth JSON, B2C RESTful JSON, or an
 * HTML page) and maps the domain errors below to HTTP in one table. This module imports nothing,
 * so every layer and every adapter can use it.
 */

/**
 * An error with a protocol meaning: an HTTP status and a machine-readable code (the RFC 6749 §5.2
 * `error` value on OAuth endpoints), with a description that is safe to show.
 */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    /** Machine-readable code: an RFC 6749 `error` value on OAuth endpoints. */
    readonly code: string,
    /** Human-readable description, safe to show. */
    readonly description: string,
    readonly headers: Record<string, string> = {},
    /** Extra fields for the JSON body (e.g. zod issue paths). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description);
    this.name = 'ProtocolError';
  }
}

// ---- RFC 6749 §5.2 (token endpoint) and friends ---------------------------------------------

/** 400 `invalid_request` (or another code given): a missing, repeated or malformed parameter. */
export const badRequest = (description: string, code = 'invalid_request', extra?: Record<string, unknown>) =>
  new ProtocolError(400, code, description, {}, extra);

/** 400 `invalid_request` (RFC 6749 §5.2). */
export const invalidRequest = (description: string) => new ProtocolError(400, 'invalid_request', description);

/**
 * 401 `invalid_client` (RFC 6749 §5.2). RFC 6749 requires `WWW-Authenticate` when the client used
 * the Authorization header, and RFC 9110 §15.5.2 requires it on every 401, so it is always sent.
 */
export const invalidClient = (description = 'client authentication failed') =>
  new ProtocolError(401, 'invalid_client', description, {
    'www-authenticate': 'Basic realm="token", error="invalid_client"',
  });

/** 400 `invalid_grant` (RFC 6749 §5.2): a code, refresh token or device code that is not good. */
export const invalidGrant = (description: string) => new ProtocolError(400, 'invalid_grant', description);

/** 400 `unauthorized_client` (RFC 6749 §5.2): this client may not use this grant or endpoint. */
export const unauthorizedClient = (description: string) =>
  new ProtocolError(400, 'unauthorized_client', description);

/** 400 `unsupported_grant_type` (RFC 6749 §5.2). */
export const unsupportedGrantType = (description: string) =>
  new ProtocolError(400, 'unsupported_grant_type', description);

/** 400 `invalid_scope` (RFC 6749 §5.2). */
export const invalidScope = (description: string) => new ProtocolError(400, 'invalid_scope', description);

/** 400 `invalid_target` (RFC 8707 §2): a resource the client may not ask for. */
export const invalidTarget = (description: string) => new ProtocolError(400, 'invalid_target', description);

/** 400 `authorization_pending` (RFC 8628 §3.5, CIBA Core §11): the user has not answered yet. */
export const authorizationPending = (description = 'the user has not answered yet') =>
  new ProtocolError(400, 'authorization_pending', description);

/** 400 `slow_down` (RFC 8628 §3.5): polling faster than the interval. */
export const slowDown = (description = 'poll less often') => new ProtocolError(400, 'slow_down', description);

/** 400 `expired_token` (RFC 8628 §3.5, CIBA Core §11). */
export const expiredToken = (description: string) => new ProtocolError(400, 'expired_token', description);

/** 400 `access_denied` (RFC 8628 §3.5, CIBA Core §11): the user said no. */
export const accessDenied = (description: string) => new ProtocolError(400, 'access_denied', description);

/**
 * 429 (RFC 6585 §4) with `Retry-After` (RFC 9110 §10.2.3): too many failed attempts from this
 * source, or too many of something a limit counts. The code is for clients and logs; the status
 * and Retry-After are what a client acts on.
 */
export const tooManyRequests = (retryAfterSeconds: number, description: string, code = 'too_many_requests') =>
  new ProtocolError(429, code, description, {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });

// ---- RFC 6750 (protected resources: UserInfo) ----------------------------------------------

/**
 * RFC 6750 §3: a 401 or 403 names the Bearer scheme in `WWW-Authenticate`, with the error code
 * when a token was presented (and none when the request carried no token at all).
 */
export function bearerError(
  status: 400 | 401 | 403,
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope',
  description: string,
  realm: string,
  withCode = true,
): ProtocolError {
  const challenge = withCode
    ? `Bearer realm="${realm}", error="${error}", error_description="${description.replace(/["\\]/g, '')}"`
    : `Bearer realm="${realm}"`;
  return new ProtocolError(status, error, description, { 'www-authenticate': challenge });
}

// ---- management API and hosts ---------------------------------------------------------------

export const notFound = (description = 'not found', code = 'not_found') =>
  new ProtocolError(404, code, description);

export const conflict = (description: string, code = 'conflict', extra?: Record<string, unknown>) =>
  new ProtocolError(409, code, description, {}, extra);

// ---- infrastructure -------------------------------------------------------------------------

/**
 * The storage, signing, sealing or mail backend is unavailable (throttled, timed out, down). The
 * edge answers 503 `temporarily_unavailable`, never 500 (RFC 6749 §4.1.2.1 names the code).
 */
export class BackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

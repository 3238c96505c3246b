/**
 * Typed HTTP errors. Handlers throw these; the error middleware renders them in the endpoint's
 * style (OAuth JSON, B2C RESTful JSON, or an HTML page). Anything else becomes a generic 500 with
 * nothing of the exception in the response.
 */
export class HttpError extends Error {
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
    this.name = 'HttpError';
  }
}

export const badRequest = (description: string, code = 'invalid_request', extra?: Record<string, unknown>) =>
  new HttpError(400, code, description, {}, extra);

export const notFound = (description = 'not found', code = 'not_found') =>
  new HttpError(404, code, description);

export const unauthorized = (description = 'authentication required', scheme = 'Basic realm="identity"') =>
  new HttpError(401, 'unauthorized', description, { 'www-authenticate': scheme });

export const invalidClient = (description = 'client authentication failed', _basicAttempted = true) =>
  // RFC 6749 §5.2 requires WWW-Authenticate when the client used the Authorization header, and
  // RFC 9110 §15.5.2 requires it on every 401, so it is always sent.
  new HttpError(401, 'invalid_client', description, {
    'www-authenticate': 'Basic realm="token", error="invalid_client"',
  });

export const payloadTooLarge = (limit: number) =>
  new HttpError(413, 'payload_too_large', `the request body is larger than ${limit} bytes`);

export const unsupportedMediaType = (expected: string) =>
  new HttpError(415, 'unsupported_media_type', `the request body must be ${expected}`);

export const methodNotAllowed = (allowed: string[]) =>
  new HttpError(405, 'method_not_allowed', `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });

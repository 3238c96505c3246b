import { ProtocolError } from '../errors.js';

/**
 * Errors that only the HTTP edge raises: authentication schemes, body limits and media types,
 * methods. Everything with a protocol meaning is in `functions/errors.ts`.
 */
export const unauthorized = (description = 'authentication required', scheme = 'Basic realm="identity"') =>
  new ProtocolError(401, 'unauthorized', description, { 'www-authenticate': scheme });

export const payloadTooLarge = (limit: number) =>
  new ProtocolError(413, 'payload_too_large', `the request body is larger than ${limit} bytes`);

export const unsupportedMediaType = (expected: string) =>
  new ProtocolError(415, 'unsupported_media_type', `the request body must be ${expected}`);

export const methodNotAllowed = (allowed: string[]) =>
  new ProtocolError(405, 'method_not_allowed', `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });

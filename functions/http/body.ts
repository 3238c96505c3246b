import type * as z from '../zod.js';
import { badRequest } from '../errors.js';
import { validate } from '../validate.js';
import { payloadTooLarge, unsupportedMediaType } from './errors.js';
import type { HttpRequest } from './request.js';

/** Default body limit: generous for every JSON or form request this API takes, small enough to refuse abuse. */
export const MAX_BODY_BYTES = 64 * 1024;

function mediaType(req: HttpRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A JSON body validated with zod: 415 for another content type, 413 when too large, 400 when malformed. */
export function parseJson<S extends z.core.$ZodType>(
  req: HttpRequest,
  schema: S,
  limit = MAX_BODY_BYTES,
  /** The `error` of a body the schema refuses (client metadata: `invalid_client_metadata`, RFC 7591 §3.2.2). */
  code = 'invalid_request',
): z.output<S> {
  if (mediaType(req) !== 'application/json') throw unsupportedMediaType('application/json');
  if (req.bodyBytes > limit) throw payloadTooLarge(limit);
  let value: unknown;
  try {
    value = JSON.parse(req.body);
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
  return validate(schema, value, code);
}

/**
 * Parses `application/x-www-form-urlencoded` (or a query string). OAuth parameters must not repeat
 * (RFC 6749 §3.1 and §3.2), so a repeated name is refused rather than guessed at.
 */
export function parseParams(source: string | URLSearchParams): Record<string, string> {
  const params = typeof source === 'string' ? new URLSearchParams(source) : source;
  const out: Record<string, string> = {};
  for (const [name, value] of params) {
    if (Object.hasOwn(out, name)) throw badRequest(`the parameter "${name}" is repeated`);
    out[name] = value;
  }
  return out;
}

export function parseForm(req: HttpRequest, limit = MAX_BODY_BYTES): Record<string, string> {
  return parseParams(formParams(req, limit));
}

/** The body of a form POST, its media type and size checked, repeats not yet refused. */
export function formParams(req: HttpRequest, limit = MAX_BODY_BYTES): URLSearchParams {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    throw unsupportedMediaType('application/x-www-form-urlencoded');
  }
  if (req.bodyBytes > limit) throw payloadTooLarge(limit);
  return new URLSearchParams(req.body);
}

/** `Authorization: Basic` credentials (RFC 7617), each part form-decoded as RFC 6749 §2.3.1 asks. */
export function basicCredentials(req: HttpRequest): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return { user: decoded, password: '' };
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { user: dec(decoded.slice(0, i)), password: dec(decoded.slice(i + 1)) };
}

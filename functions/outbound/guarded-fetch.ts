import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { exchange } from './exchange.js';

/*
 * Every request this provider sends to a URL someone else chose (a client's back-channel logout
 * URI, an upstream identity provider's discovery document, JWKS and token endpoint) goes through
 * here. Such URLs are request-forgery targets (OWASP SSRF; RFC 9700 §4.15; OpenID Connect
 * Back-Channel Logout 1.0 §2.2): https only, no user info, and never an address inside the network
 * the provider runs in — on AWS the Lambda runtime API and the instance metadata listen on
 * loopback and link-local addresses. The literal host is checked before connecting and every
 * address DNS answers is checked in the lookup the socket uses, so the address checked is the
 * address connected to (no DNS rebinding in between).
 */

/** Loopback, private (RFC 1918, RFC 4193), link-local, CGNAT, unspecified and mapped ranges. */
const FORBIDDEN = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  FORBIDDEN.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  FORBIDDEN.addSubnet(net, bits, 'ipv6');

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
export const isLoopbackName = (host: string) => LOOPBACK_NAMES.has(host) || host.endsWith('.localhost');

export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

let loopbackAllowed = false;
/**
 * The local server (`functions/adapters/local.ts`) lets outbound requests reach http loopback
 * servers (a back-channel logout receiver, an upstream provider in the tests), so the features can
 * be tried and tested on one machine. Never set on AWS.
 */
export function allowLoopbackOutbound(on = true): void {
  loopbackAllowed = on;
}
export const loopbackOutboundAllowed = (): boolean => loopbackAllowed;

/** Whether an address (after DNS resolution) is one the provider must never call. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (loopbackAllowed && isLoopbackAddress(address)) return false;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Why the provider must not call this URL, or undefined when it may (`what` names it in the
 * message, e.g. "a back-channel logout URI").
 */
export function outboundUrlProblem(value: string, what: string): string | undefined {
  if (/[\p{Cc}\p{Cf}\p{Z}\s]/u.test(value)) return `${what} has no whitespace`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URI`;
  }
  if (url.username || url.password) return `${what} has no user info`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackName(url.hostname) || (isIP(host) !== 0 && isLoopbackAddress(host));
  if (loopbackAllowed && loopback && (url.protocol === 'http:' || url.protocol === 'https:'))
    return undefined;
  if (url.protocol !== 'https:') return `${what} must use https`;
  if (loopback || (isIP(host) !== 0 && isForbiddenAddress(host)))
    return `${what} must not point at a loopback, private or link-local address`;
  return undefined;
}

/** Resolves like `dns.lookup` but fails for names that lead to a forbidden address. */
export function guardedLookup(
  hostname: string,
  options: LookupOptions,
  cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, []);
    if (!addresses.length || addresses.some((a) => isForbiddenAddress(a.address)))
      return cb(forbidden('forbidden address'), []);
    if (options.all) return cb(null, addresses);
    cb(null, addresses[0]!.address, addresses[0]!.family);
  });
}

const forbidden = (message: string) => Object.assign(new Error(message), { code: 'EFORBIDDEN' });

export interface OutboundRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, connection included, answered within this or abandoned. */
  timeoutMs: number;
  /** A larger answer is abandoned (an attacker's endpoint could stream forever). */
  maxBytes?: number;
  /** Named in the refusal message. */
  what?: string;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One request, no redirect followed, over the shared exchange (`exchange.ts`): node:http rather
 * than fetch also because fetch offers no hook between DNS resolution and connecting, where the
 * address must be checked. Rejects with `code: 'EFORBIDDEN'` for a URL or address it must not reach.
 */
export function guardedRequest(uri: string, req: OutboundRequest): Promise<OutboundResponse> {
  const problem = outboundUrlProblem(uri, req.what ?? 'an outbound URL');
  if (problem) return Promise.reject(forbidden(problem));
  const url = new URL(uri);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isForbiddenAddress(host)) return Promise.reject(forbidden('forbidden address'));
  return exchange(url, {
    method: req.method ?? 'GET',
    headers: req.headers ?? {},
    ...(req.body !== undefined ? { body: req.body } : {}),
    timeoutMs: req.timeoutMs,
    maxBytes: req.maxBytes ?? 512 * 1024,
    lookup: guardedLookup as LookupFunction,
  }).then((res) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.status, headers, body: res.body };
  });
}

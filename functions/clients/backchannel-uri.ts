import { BlockList, isIP } from 'node:net';
import * as z from '../zod.js';

/*
 * The one URI a client registers for the provider to call: `backchannel_logout_uri` (OpenID Connect
 * Back-Channel Logout 1.0 §2.2). The provider itself sends requests there, so it is a request
 * forgery target (OWASP SSRF; RFC 9700 §4.15 for the same concern with redirects): https only, no
 * fragment (§2.2), no user info, and never an address inside the network the provider runs in — on
 * AWS the Lambda runtime API and the instance metadata listen on loopback and link-local
 * addresses. Checked once at registration on the literal host, and again on every delivery after
 * DNS resolution (`isForbiddenAddress`), since a name can point anywhere later.
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
const isLoopbackName = (host: string) => LOOPBACK_NAMES.has(host) || host.endsWith('.localhost');

let localDelivery = false;
/**
 * The local server (`functions/adapters/local.ts`) lets back-channel logout reach http loopback
 * receivers, so the feature can be tried and tested on one machine. Never set on AWS.
 */
export function allowLocalDelivery(on = true): void {
  localDelivery = on;
}
export const localDeliveryAllowed = (): boolean => localDelivery;

/** Whether an address (after DNS resolution) is one the provider must never call. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (localDelivery && isLoopbackAddress(address)) return false;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

/** Why a back-channel logout URI is refused, or `undefined` when it may be registered. */
export function backchannelUriProblem(value: string): string | undefined {
  if (/[\p{Cc}\p{Cf}\p{Z}\s]/u.test(value)) return 'a back-channel logout URI has no whitespace';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URI`;
  }
  if (url.hash || value.includes('#')) return 'a back-channel logout URI has no fragment (§2.2)';
  if (url.username || url.password) return 'a back-channel logout URI has no user info';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackName(url.hostname) || (isIP(host) !== 0 && isLoopbackAddress(host));
  if (localDelivery && loopback && (url.protocol === 'http:' || url.protocol === 'https:')) return undefined;
  if (url.protocol !== 'https:') return 'a back-channel logout URI must use https';
  if (loopback || (isIP(host) !== 0 && isForbiddenAddress(host)))
    return 'a back-channel logout URI must not point at a loopback, private or link-local address';
  return undefined;
}

export const backchannelLogoutUriSchema = z.string().check(
  z.maxLength(2000, 'a back-channel logout URI is at most 2000 characters'),
  z.superRefine((value: string, ctx) => {
    const problem = backchannelUriProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

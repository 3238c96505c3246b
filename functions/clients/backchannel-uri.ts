import {
  allowLoopbackOutbound,
  isForbiddenAddress,
  loopbackOutboundAllowed,
  outboundUrlProblem,
} from '../outbound/guarded-fetch.js';
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

/**
 * The local server lets back-channel logout reach http loopback receivers (and every other
 * outbound request, `outbound/guarded-fetch.ts`), so the feature can be tried on one machine.
 */
export const allowLocalDelivery = allowLoopbackOutbound;
export const localDeliveryAllowed = loopbackOutboundAllowed;
export { isForbiddenAddress };

/** Why a back-channel logout URI is refused, or `undefined` when it may be registered. */
export function backchannelUriProblem(value: string): string | undefined {
  const what = 'a back-channel logout URI';
  // §2.2: no fragment; the rest is every outbound URL's rule.
  if (!/[\p{Cc}\p{Cf}\p{Z}\s]/u.test(value) && URL.canParse(value) && value.includes('#'))
    return `${what} has no fragment (§2.2)`;
  return outboundUrlProblem(value, what);
}

export const backchannelLogoutUriSchema = z.string().check(
  z.maxLength(2000, 'a back-channel logout URI is at most 2000 characters'),
  z.superRefine((value: string, ctx) => {
    const problem = backchannelUriProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

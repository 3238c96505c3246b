/** RFC 8176 authentication method references for each kind of authenticator. */
export const AMR: Record<string, string[]> = {
  PASSKEY: ['hwk', 'user'],
  AUTHENTICATOR_APP: ['otp'],
  EMAIL_OTP: ['otp'],
  // RFC 8176 §2: `fed`, federated authentication (an upstream identity provider).
  UPSTREAM: ['fed'],
  // RFC 8176 §2: `sms`, confirmation by text message to a number the user registered.
  SMS: ['sms'],
};

/**
 * RFC 8176 values for the methods used, and the acr level reached: `phishing-resistant` when a
 * passkey was used (the hosted pages require user verification, so it is also two factors), `mfa`
 * when two distinct methods were, else single-factor (`oidc/login-request.ts` ranks them).
 */
export function authContext(methods: string[]): { amr: string[]; acr: string } {
  const amr = [...new Set(methods.flatMap((m) => AMR[m] ?? []))];
  const distinct = new Set(methods).size;
  if (distinct >= 2) amr.push('mfa');
  if (amr.includes('hwk') && amr.includes('user')) return { amr, acr: 'phishing-resistant' };
  return { amr, acr: distinct >= 2 ? 'mfa' : 'urn:identity:acr:single-factor' };
}

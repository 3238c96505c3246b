/** RFC 8176 authentication method references for each kind of authenticator. */
export const AMR: Record<string, string[]> = {
  PASSKEY: ['hwk', 'user'],
  AUTHENTICATOR_APP: ['otp'],
  EMAIL_OTP: ['otp'],
};

/** RFC 8176 values for the methods used, and `mfa` when two distinct ones were (or a user-verifying passkey). */
export function authContext(methods: string[]): { amr: string[]; acr: string } {
  const amr = [...new Set(methods.flatMap((m) => AMR[m] ?? []))];
  const distinct = new Set(methods).size;
  const mfa = distinct >= 2 || (amr.includes('hwk') && amr.includes('user'));
  if (distinct >= 2) amr.push('mfa');
  return { amr, acr: mfa ? 'mfa' : 'urn:identity:acr:single-factor' };
}

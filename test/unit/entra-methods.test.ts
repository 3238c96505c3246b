/** Entra's `claims` (amr and acr requested) in the product's terms: which methods, which acr. */
import { describe, expect, it } from 'vitest';
import { entraPolicy } from '../../functions/entra/methods.js';

const claims = (idToken: Record<string, unknown>) => JSON.stringify({ id_token: idToken });

describe('entraPolicy', () => {
  it('maps fido to passkeys, otp to authenticator app and emailed codes, sms to texted codes', () => {
    expect(entraPolicy(claims({ amr: { values: ['fido'] } }))?.allowed).toEqual(['PASSKEY']);
    expect(entraPolicy(claims({ amr: { values: ['otp'] } }))?.allowed).toEqual([
      'AUTHENTICATOR_APP',
      'EMAIL_OTP',
    ]);
    expect(entraPolicy(claims({ amr: { values: ['sms', 'tel'] } }))?.allowed).toEqual(['SMS']);
    expect(entraPolicy(claims({ amr: { values: ['tel', 'vbm'] } }))).toBeUndefined();
  });

  it('allows every method when no amr values are named, none when they are malformed', () => {
    expect(entraPolicy(undefined)?.allowed).toHaveLength(4);
    expect(entraPolicy(claims({ amr: { essential: true } }))?.allowed).toHaveLength(4);
    expect(entraPolicy(claims({ amr: { values: 'fido' } }))).toBeUndefined();
  });

  it('satisfies an acr naming possession with that value, and refuses one that does not', () => {
    expect(entraPolicy(claims({ acr: { values: ['knowledge', 'possessionorinherence'] } }))?.acr).toBe(
      'possessionorinherence',
    );
    expect(entraPolicy(claims({ acr: { values: ['knowledgeorinherence'] } }))).toBeUndefined();
    expect(entraPolicy(claims({}))?.acr).toBe('possession');
  });
});

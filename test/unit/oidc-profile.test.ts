import { describe, expect, it } from 'vitest';
import {
  loginIdentifiers,
  mergeProfile,
  profileClaims,
  profileSchema,
  type Profile,
} from '../../functions/users/profile.js';

const PROFILE: Profile = {
  username: 'Ada',
  email: 'ada@example.com',
  phone_number: '+442079460000',
  phone_number_verified: true,
  name: 'Ada Lovelace',
  given_name: 'Ada',
  address: { country: 'GB' },
  custom_attributes: { tier: 'gold' },
  created_at: '2024-01-01T00:00:00.000Z',
  updated_at: '2024-01-02T00:00:00.000Z',
};

describe('profileClaims', () => {
  it('releases nothing but what each scope covers', () => {
    expect(profileClaims(PROFILE, ['openid'])).toEqual({});
    expect(profileClaims(PROFILE, ['openid', 'email'])).toEqual({
      email: 'ada@example.com',
      email_verified: false,
    });
    expect(profileClaims(PROFILE, ['openid', 'phone'])).toEqual({
      phone_number: '+442079460000',
      phone_number_verified: true,
    });
    expect(profileClaims(PROFILE, ['openid', 'address'])).toEqual({ address: { country: 'GB' } });
  });

  it('profile: standard claims, preferred_username falls back to the username, updated_at in seconds', () => {
    expect(profileClaims(PROFILE, ['profile'])).toEqual({
      name: 'Ada Lovelace',
      given_name: 'Ada',
      preferred_username: 'Ada',
      updated_at: Date.UTC(2024, 0, 2) / 1000,
    });
    expect(
      profileClaims({ ...PROFILE, preferred_username: 'countess' }, ['profile']).preferred_username,
    ).toBe('countess');
  });

  it('never releases custom attributes or the username as such, and nothing without a profile', () => {
    const all = profileClaims(PROFILE, ['openid', 'profile', 'email', 'phone', 'address']);
    expect(all).not.toHaveProperty('custom_attributes');
    expect(all).not.toHaveProperty('username');
    expect(all).not.toHaveProperty('created_at');
    expect(profileClaims(undefined, ['profile', 'email'])).toEqual({});
  });

  it('leaves email claims out when there is no email', () => {
    expect(
      profileClaims({ created_at: PROFILE.created_at, updated_at: PROFILE.updated_at }, ['email', 'phone']),
    ).toEqual({});
  });
});

describe('profileSchema', () => {
  it('normalises phone numbers to E.164', () => {
    expect(profileSchema.parse({ phone_number: '+1 (415) 555-0123' }).phone_number).toBe('+14155550123');
  });

  it.each([
    [{ birthdate: '2024-02-29' }, true],
    [{ birthdate: '2023-02-29' }, false],
    [{ birthdate: '0000-02-29' }, true],
    [{ zoneinfo: 'America/New_York' }, true],
    [{ locale: 'fr-CA' }, true],
    [{ locale: 'en_US' }, true],
    [{ email: 'a@b' }, false],
    [{ picture: 'ftp://example.com/a.png' }, false],
    [{ username: '-leading-dash' }, false],
    [{ custom_attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, false],
  ])('%j valid: %s', (input, valid) => {
    expect(profileSchema.safeParse(input).success).toBe(valid);
  });
});

describe('mergeProfile (RFC 7396)', () => {
  it('replaces, removes with null, and merges the two maps key by key', () => {
    const merged = mergeProfile(
      {
        name: 'A',
        nickname: 'n',
        address: { country: 'GB', locality: 'London' },
        custom_attributes: { a: 1 },
      },
      { name: 'B', nickname: null, address: { locality: null }, custom_attributes: { b: 'x' } },
    );
    expect(merged).toEqual({ name: 'B', address: { country: 'GB' }, custom_attributes: { a: 1, b: 'x' } });
  });

  it('drops a map emptied by the patch', () => {
    expect(mergeProfile({ address: { country: 'GB' } }, { address: { country: null } })).toEqual({});
  });
});

describe('loginIdentifiers', () => {
  it('lowercases email and username', () => {
    expect(loginIdentifiers({ email: 'A@Example.COM', username: 'Ada' })).toEqual([
      { kind: 'email', value: 'a@example.com' },
      { kind: 'username', value: 'ada' },
    ]);
    expect(loginIdentifiers(undefined)).toEqual([]);
  });
});

import * as z from '../zod.js';

/**
 * A user's profile: the OpenID Connect standard claims (OIDC Core §5.1) the userinfo endpoint
 * releases by scope, the tenant's own `custom_attributes`, `roles` and `groups`, and the login identifiers (`email`,
 * `username`) a login page can find the user by. It lives in the user's partition
 * (`user#<userId>`, sort key `profile`); see `profile-repository.ts`.
 */

const text = (max: number) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));

const httpUrl = z.string().check(
  z.maxLength(2000),
  z.refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL'),
);

/** OIDC Core §5.1: `YYYY-MM-DD` (a real date; year `0000` when it is withheld) or just `YYYY`. */
const birthdate = z.string().check(
  z.refine((value) => {
    if (/^\d{4}$/.test(value)) return true;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!m) return false;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(y === 0 ? 2000 : y, mo - 1, d));
    return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
  }, 'must be an ISO 8601 date, YYYY-MM-DD (or YYYY)'),
);

const zoneinfo = z.string().check(
  z.maxLength(64),
  z.refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone, e.g. Europe/Paris'),
);

const locale = z.string().check(
  z.maxLength(35),
  z.refine((tag) => {
    try {
      return Intl.getCanonicalLocales(tag.replace('_', '-')).length === 1;
    } catch {
      return false;
    }
  }, 'must be a BCP 47 language tag, e.g. en-US'),
);

/** E.164 (a plus, the country code, at most 15 digits); spaces, dots, dashes and brackets are dropped. */
const phoneNumber = z
  .pipe(
    z.string().check(z.maxLength(32)),
    z.transform((v: string) => v.replace(/[\s().-]/g, '')),
  )
  .check(z.refine((v) => /^\+[1-9]\d{6,14}$/.test(v), 'must be an E.164 phone number, e.g. +14155550123'));

/** A login name: letters, digits, `.`, `_`, `-`; no `@`, so it can never be mistaken for an email. */
export const usernameSchema = z
  .string()
  .check(
    z.trim(),
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    ),
  );

export const addressSchema = z.strictObject({
  formatted: z.optional(text(500)),
  street_address: z.optional(text(300)),
  locality: z.optional(text(100)),
  region: z.optional(text(100)),
  postal_code: z.optional(text(20)),
  country: z.optional(text(100)),
});

const scalar = z.union([z.string().check(z.maxLength(2048)), z.number(), z.boolean()]);
/** Bounds on tenant-defined attributes: they travel in tokens, which must stay small. */
export const MAX_CUSTOM_ATTRIBUTES = 50;
const MAX_CUSTOM_ATTRIBUTES_BYTES = 8192;

/**
 * The tenant's own attributes: names of letters, digits and `_ . : -`; values JSON scalars or
 * arrays of up to 50 scalars; at most 50 attributes and 8 KB of JSON in all.
 */
const customAttributes = z
  .record(
    z
      .string()
      .check(
        z.regex(
          /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/,
          'a custom attribute name is 1 to 64 letters, digits, _ . : -',
        ),
      ),
    z.union([scalar, z.array(scalar).check(z.maxLength(50, 'at most 50 values in an attribute'))]),
  )
  .check(
    z.refine((o) => Object.keys(o).length <= MAX_CUSTOM_ATTRIBUTES, 'at most 50 custom attributes'),
    z.refine(
      (o) => Buffer.byteLength(JSON.stringify(o)) <= MAX_CUSTOM_ATTRIBUTES_BYTES,
      'custom attributes are at most 8192 bytes of JSON',
    ),
  );

/** `roles` and `groups`: up to 100 distinct names of 1 to 200 printable characters. */
const nameList = z
  .array(z.string().check(z.regex(/^[^\p{Cc}\p{Cf}]{1,200}$/u, '1 to 200 printable characters')))
  .check(
    z.maxLength(100, 'at most 100 entries'),
    z.refine((l) => new Set(l).size === l.length, 'entries must not repeat'),
  );

/** The body of `PUT /v1/users/{userId}`: every field optional, unknown fields refused. */
export const profileSchema = z.strictObject({
  username: z.optional(usernameSchema),
  email: z.optional(z.email('must be an email address').check(z.maxLength(254))),
  email_verified: z.optional(z.boolean()),
  phone_number: z.optional(phoneNumber),
  phone_number_verified: z.optional(z.boolean()),
  name: z.optional(text(200)),
  given_name: z.optional(text(200)),
  family_name: z.optional(text(200)),
  middle_name: z.optional(text(200)),
  nickname: z.optional(text(200)),
  preferred_username: z.optional(text(100)),
  picture: z.optional(httpUrl),
  website: z.optional(httpUrl),
  gender: z.optional(text(50)),
  birthdate: z.optional(birthdate),
  zoneinfo: z.optional(zoneinfo),
  locale: z.optional(locale),
  address: z.optional(addressSchema),
  custom_attributes: z.optional(customAttributes),
  roles: z.optional(nameList),
  groups: z.optional(nameList),
});

export type ProfileInput = z.output<typeof profileSchema>;

/** A stored profile as the management API shows it. */
export type Profile = ProfileInput & { created_at: string; updated_at: string };

/** The item in the table: the profile plus its revision (guards concurrent replacements). */
export type ProfileItem = Profile & { version: number };

/** Where the profile lives: the user's partition (`user#<userId>`, as in user-records.ts). */
export const profileKey = (userId: string) => ({ pk: `user#${userId}`, sk: 'profile' });

/** Removes storage-only attributes. */
export function profileView(item: ProfileItem & { sk?: string }): Profile {
  const { version: _v, sk: _sk, ...profile } = item;
  return profile;
}

/** The kinds of login identifier and how each is normalised for its index item. */
export type LoginKind = 'email' | 'username';
export const normaliseLogin = (value: string) => value.trim().toLowerCase();
export const loginKey = (kind: LoginKind, value: string) => ({
  pk: `login#${kind}#${normaliseLogin(value)}`,
  sk: 'login',
});

/** The login identifiers a profile holds. */
export function loginIdentifiers(
  profile: Pick<ProfileInput, 'email' | 'username'> | undefined,
): { kind: LoginKind; value: string }[] {
  const ids: { kind: LoginKind; value: string }[] = [];
  if (profile?.email) ids.push({ kind: 'email', value: normaliseLogin(profile.email) });
  if (profile?.username) ids.push({ kind: 'username', value: normaliseLogin(profile.username) });
  return ids;
}

/** Which claims each scope releases (OIDC Core §5.4). */
export const SCOPE_CLAIMS = {
  profile: [
    'name',
    'given_name',
    'family_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
  // Not OIDC Core §5.4 scopes: the provider's own, one claim each, named after the scope (as
  // `address` is). `custom_attributes` is one JSON object claim (§5.1 allows structured claims), so a
  // tenant's attribute can never shadow a registered claim such as `sub` or `email`.
  roles: ['roles'],
  groups: ['groups'],
  custom_attributes: ['custom_attributes'],
} as const;

/** Every claim a profile can release, for discovery's `claims_supported`. */
export const PROFILE_CLAIMS: string[] = Object.values(SCOPE_CLAIMS).flat();

/**
 * The claims of a profile that the granted scopes release (OIDC Core §5.4), without `sub`:
 * `updated_at` in epoch seconds, `preferred_username` falling back to the username, the
 * `*_verified` flags false unless set. Absent values are left out, never sent as null.
 */
export function profileClaims(
  profile: Profile | undefined,
  scopes: readonly string[],
): Record<string, unknown> {
  if (!profile) return {};
  const claims: Record<string, unknown> = {};
  const has = (s: keyof typeof SCOPE_CLAIMS) => scopes.includes(s);
  if (has('profile')) {
    for (const name of SCOPE_CLAIMS.profile) {
      if (name === 'updated_at') continue;
      const value = profile[name];
      if (value !== undefined) claims[name] = value;
    }
    if (claims.preferred_username === undefined && profile.username)
      claims.preferred_username = profile.username;
    claims.updated_at = Math.floor(Date.parse(profile.updated_at) / 1000);
  }
  if (has('email') && profile.email) {
    claims.email = profile.email;
    claims.email_verified = profile.email_verified ?? false;
  }
  if (has('phone') && profile.phone_number) {
    claims.phone_number = profile.phone_number;
    claims.phone_number_verified = profile.phone_number_verified ?? false;
  }
  if (has('address') && profile.address && Object.keys(profile.address).length)
    claims.address = profile.address;
  if (has('roles') && profile.roles) claims.roles = profile.roles;
  if (has('groups') && profile.groups) claims.groups = profile.groups;
  if (has('custom_attributes') && profile.custom_attributes && Object.keys(profile.custom_attributes).length)
    claims.custom_attributes = profile.custom_attributes;
  return claims;
}

/**
 * JSON Merge Patch (RFC 7396) of a profile: `null` removes a field (or a key of `address` and
 * `custom_attributes`, which merge key by key); anything else replaces it. The result is validated
 * as a whole by the caller.
 */
export function mergeProfile(current: ProfileInput, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) {
      delete out[name];
    } else if ((name === 'address' || name === 'custom_attributes') && isPlainObject(value)) {
      const merged: Record<string, unknown> = {
        ...((out[name] as Record<string, unknown> | undefined) ?? {}),
      };
      for (const [k, v] of Object.entries(value)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      if (Object.keys(merged).length) out[name] = merged;
      else delete out[name];
    } else {
      out[name] = value;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

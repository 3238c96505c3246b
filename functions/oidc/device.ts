import { randomInt } from 'node:crypto';
import { DEVICE_CODE_GRANT, type Client } from '../clients/client.js';
import { sha256 } from '../crypto/secrets.js';
import { invalidRequest, unauthorizedClient } from '../errors.js';
import { ConditionFailedError, type Item, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import {
  checkScope,
  DECOUPLED_TTL_SECONDS,
  decoupledAcrValues,
  DEFAULT_INTERVAL,
  newPendingGrant,
  readPendingGrant,
  redeemPendingGrant,
  stillPending,
  type PendingGrant,
} from './decoupled-grant.js';
import type { TokenEndpointDeps, TokenRequest } from './token-request.js';
import type { TokenResponse } from './tokens.js';

/**
 * The device authorization grant (RFC 8628). `POST /oidc/device/auth` stores a pending grant and
 * answers a device code (for the device to poll with) and a user code (for the user to type at
 * `<issuer>/device` on another device). The user code indexes the grant; both live 600 s.
 */

/** RFC 8628 §6.1: consonants only (no vowels, so no words), no look-alikes (no 0/O, 1/I, …). */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

interface UserCodeItem extends Item {
  grantPk: string;
  grantSk: string;
}

/** A new user code, `XXXX-XXXX` (20^8 ≈ 2^34.6 codes; guesses are limited, RFC 8628 §5.1). */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * What the user typed, as a code: case-insensitive, punctuation and spaces ignored (RFC 8628 §6.1);
 * `undefined` when it cannot be one of ours.
 */
export function normaliseUserCode(input: string | undefined): string | undefined {
  if (!input || input.length > 40) return undefined;
  const code = input.toUpperCase().replace(/[^A-Z]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const c of code) if (!USER_CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

/** `BCDFGHJK` → `BCDF-GHJK`: how the code is shown. */
export const formatUserCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

/** The user code's index item (the hash of the normalised code) points at the pending grant. */
const userCodeKey = (normalised: string): Key => ({
  pk: `device-user-code#${sha256(normalised)}`,
  sk: 'device',
});

/** `POST /oidc/device/auth` for an authenticated (or public) client. */
export async function deviceAuthorization(
  form: Record<string, string>,
  client: Client,
  ctx: { store: TenantStore; issuer: string },
  now = Date.now(),
): Promise<DeviceAuthorizationResponse> {
  if (!client.grant_types.includes(DEVICE_CODE_GRANT)) {
    throw unauthorizedClient('this client may not use the device authorization grant');
  }
  const scope = checkScope(form.scope, client, 'openid');
  const pending = newPendingGrant(
    {
      kind: 'device',
      clientId: client.client_id,
      scope,
      expiresIn: DECOUPLED_TTL_SECONDS,
      acrValues: decoupledAcrValues(form),
    },
    now,
  );
  // A user code is short: should it collide with a live one, another is drawn.
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode();
    const normalised = normaliseUserCode(userCode)!;
    try {
      await ctx.store.transact([
        { put: { key: pending.key, item: { ...pending.item }, ifAbsent: true } },
        {
          put: {
            key: userCodeKey(normalised),
            item: { grantPk: pending.key.pk, grantSk: pending.key.sk, expiresAt: pending.item.deadline },
            ifAbsent: true,
          },
        },
      ]);
    } catch (err) {
      if (err instanceof ConditionFailedError && attempt < 4) continue;
      throw err;
    }
    const verificationUri = `${ctx.issuer}/device`;
    return {
      device_code: pending.secret,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: DECOUPLED_TTL_SECONDS,
      interval: DEFAULT_INTERVAL,
    };
  }
}

/** The pending device grant a user code stands for, while the user can still approve it. */
export async function findByUserCode(
  store: TenantStore,
  input: string | undefined,
): Promise<{ key: Key; grant: PendingGrant; userCode: string } | undefined> {
  const normalised = normaliseUserCode(input);
  if (!normalised) return undefined;
  const index = await store.get<UserCodeItem>(userCodeKey(normalised));
  if (!index) return undefined;
  const key = { pk: index.grantPk, sk: index.grantSk };
  const grant = await readPendingGrant(store, key, 'device');
  if (!stillPending(grant)) return undefined;
  return { key, grant, userCode: formatUserCode(normalised) };
}

/**
 * The token endpoint's `urn:ietf:params:oauth:grant-type:device_code` grant (RFC 8628 §3.4), for a
 * client the token endpoint has already allowed the grant.
 */
export async function deviceCodeGrant(
  { form, resources }: TokenRequest,
  client: Client,
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  const deviceCode = form.device_code;
  if (!deviceCode) throw invalidRequest('device_code is required');
  return redeemPendingGrant('device', deviceCode, client, resources, deps);
}

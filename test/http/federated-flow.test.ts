/**
 * The Authsignal-style federated challenge flow, as its documentation describes it, request by request, then what the
 * action's outcome does to the tokens, and B2C-style retries of /init-auth.
 */
import { localClient } from '../../local/dynamodb-local.js';
import { DynamoStore } from '../../functions/store/dynamo-store.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_REDIRECT,
  SIGN_IN,
  authorize,
  body,
  docAuth,
  federatedTenant,
  initAuth,
  newUserId,
  postToken,
  redeem,
  redirectParams,
  runFlow,
  setOutcome,
  skipEnrollment,
  verify,
  type TestTenant,
  type TokenResponse,
} from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the Authsignal-style federated flow replayed request by request', () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await federatedTenant(server);
    await setOutcome(t, 'manageAuth', 'ALLOW');
  });

  /** The body of the documented curl, byte for byte in meaning (the page's snippet lost its closing braces). */
  const DOC_BODY = `{
    "userId": "123456",
    "action": "manageAuth",
    "appId": "7aae2f7a-394a-415a-a386-4ea218f6f579",
    "scope": "readonly write changeprofile",
    "custom": {
        "yourCustomBoolean": true,
        "yourCustomString": "NZD",
        "yourCustomNumber": 10.00
    },
    "redirectToSettings": false
}`;

  it('POST /init-auth with Basic base64(secret:) and the documented body returns a token', async () => {
    const res = await http(`${t.origin}/init-auth`, {
      method: 'POST',
      headers: { authorization: docAuth(t), 'content-type': 'application/json' },
      body: DOC_BODY,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = await body<{ token: string; idempotencyKey: string; expiresIn: number }>(res);
    expect(Object.keys(json).sort()).toEqual(['expiresIn', 'idempotencyKey', 'token']);
    expect(json.expiresIn).toBe(600);
    expect(json.idempotencyKey).toMatch(UUID);
    expect(typeof json.token).toBe('string');
    expect(json.token.length).toBeGreaterThan(40);
  });

  it('GET /oidc/auth as in the documented curl (client_id, token, redirect_uri only) redirects with a code', async () => {
    const init = await initAuth(t, JSON.parse(DOC_BODY) as Record<string, unknown>, docAuth(t));
    const res = await http(
      `${t.origin}/oidc/auth?client_id=${t.id}&token=${encodeURIComponent(init.token)}&redirect_uri=${encodeURIComponent(APP_REDIRECT)}`,
    );
    const { target, params } = redirectParams(res);
    expect(target).toBe(APP_REDIRECT);
    expect(params.error).toBeUndefined();
    expect(params.code).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(params.iss).toBe(t.issuer);
    expect(params.state).toBeUndefined();
  });

  it('GET /oidc/auth returns the state parameter when one is sent', async () => {
    const init = await initAuth(t, { userId: '123456', action: 'manageAuth' }, docAuth(t));
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      state: 'xyz 1/2',
    });
    const { params } = redirectParams(res);
    expect(params.code).toBeTruthy();
    expect(params.state).toBe('xyz 1/2');
  });

  it('POST /oidc/token as in the documented curl (client_id and client_secret in the form) returns the documented access token', async () => {
    const init = await initAuth(t, JSON.parse(DOC_BODY) as Record<string, unknown>, docAuth(t));
    const auth = await authorize(t, { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT });
    const { code } = redirectParams(auth).params;
    // Exactly the documented form: grant_type, code, client_id, client_secret (no redirect_uri).
    const res = await postToken(t, {
      grant_type: 'authorization_code',
      code: code!,
      client_id: t.id,
      client_secret: t.secret,
    });
    const tokens = await body<TokenResponse>(res);
    expect(res.status, JSON.stringify(tokens)).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(tokens.token_type).toBe('Bearer');

    const { payload, header } = await verify(t, tokens.access_token);
    expect(header.typ).toBe('at+jwt');
    expect(header.alg).toBe('RS256');
    expect(payload.sub).toBe('123456');
    expect(payload.iss).toBe(t.issuer);
    expect(payload.aud).toBe(t.id);
    expect(payload.action).toBe('manageAuth');
    expect(payload.action_state).toBe('ALLOW');
    expect(payload.idempotency_key).toBe(init.idempotencyKey);
    expect(typeof payload.iat).toBe('number');
    expect(typeof payload.exp).toBe('number');
    expect(payload.exp! - payload.iat!).toBe(tokens.expires_in);
  });

  it('also accepts the same token request with redirect_uri, as OIDC clients send it', async () => {
    const { tokens } = await runFlow(t, { userId: '123456', action: 'manageAuth' });
    const { payload } = await verify(t, tokens.access_token);
    expect(payload.sub).toBe('123456');
  });

  it('refuses a redirect_uri at the token endpoint that differs from the authorization request', async () => {
    const init = await initAuth(t, { userId: '123456', action: 'manageAuth' });
    const { code } = redirectParams(
      await authorize(t, { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT }),
    ).params;
    const res = await redeem(
      t,
      code!,
      'https://contoso.b2clogin.com/contoso.onmicrosoft.com/oauth2/authresp',
    );
    expect(res.status).toBe(400);
    expect((await body(res)).error).toBe('invalid_grant');
  });
});

describe('action outcomes', () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await federatedTenant(server);
  });

  async function claims(action: string, userId = newUserId(), extra: Record<string, unknown> = {}) {
    const { tokens, idempotencyKey } = await runFlow(t, { userId, action, ...extra }, { nonce: 'n-0' });
    const access = (await verify(t, tokens.access_token)).payload;
    const id = (await verify(t, tokens.id_token!)).payload;
    return { access, id, idempotencyKey, userId };
  }

  it('BLOCK gives action_state BLOCK in both tokens', async () => {
    await setOutcome(t, 'blocked-action', 'BLOCK');
    const { access, id } = await claims('blocked-action');
    expect(access.action_state).toBe('BLOCK');
    expect(id.action_state).toBe('BLOCK');
    expect(id.action_code).toBe('blocked-action');
  });

  it('ALLOW gives action_state ALLOW', async () => {
    await setOutcome(t, 'allowed_action', 'ALLOW');
    const { access, id } = await claims('allowed_action');
    expect(access.action_state).toBe('ALLOW');
    expect(id.action_state).toBe('ALLOW');
  });

  /** A flow whose /oidc/auth offers the hosted enrollment, which the user skips: the tokens' claims. */
  async function claimsAfterSkippingEnrollment(action: string) {
    const init = await initAuth(t, { userId: newUserId(), action });
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      state: 'st',
    });
    const { target, params } = redirectParams(await skipEnrollment(t, res));
    expect(target).toBe(APP_REDIRECT);
    expect(params.state).toBe('st');
    const tokenRes = await redeem(t, params.code!, APP_REDIRECT);
    const tokens = await body<TokenResponse>(tokenRes);
    expect(tokenRes.status, JSON.stringify(tokens)).toBe(200);
    return {
      access: (await verify(t, tokens.access_token)).payload,
      id: (await verify(t, tokens.id_token!)).payload,
    };
  }

  it('CHALLENGE for a user with no authenticators is ALLOW with is_enrolled=false when enrollment is off', async () => {
    await setOutcome(t, 'challengeNoEnroll', 'CHALLENGE', { allowEnrollment: false });
    const { access, id } = await claims('challengeNoEnroll');
    expect(access.action_state).toBe('ALLOW');
    expect(id.action_state).toBe('ALLOW');
    expect(access.is_enrolled).toBe(false);
    expect(id.is_enrolled).toBe(false);
  });

  it('CHALLENGE for a user with no authenticators offers enrollment; skipping it is ALLOW with is_enrolled=false', async () => {
    await setOutcome(t, 'challengeAction', 'CHALLENGE');
    const { access, id } = await claimsAfterSkippingEnrollment('challengeAction');
    expect(access.action_state).toBe('ALLOW');
    expect(id.action_state).toBe('ALLOW');
    expect(access.is_enrolled).toBe(false);
    expect(id.is_enrolled).toBe(false);
  });

  it('prompt=none when the action asks for a challenge: interaction_required, and the token still works (OIDC Core §3.1.2.6)', async () => {
    await setOutcome(t, 'silentChallenge', 'CHALLENGE');
    const init = await initAuth(t, { userId: newUserId(), action: 'silentChallenge' });
    const base = { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT, state: 'st' };
    const silent = redirectParams(await authorize(t, { ...base, prompt: 'none' }));
    expect(silent.target).toBe(APP_REDIRECT);
    expect(silent.params).toMatchObject({ error: 'interaction_required', state: 'st' });
    expect(silent.params.code).toBeUndefined();
    // Nothing was written: the same token now shows the page (the enrollment offer) and ends in a code.
    const { params } = redirectParams(await skipEnrollment(t, await authorize(t, base)));
    expect(params.code).toBeTruthy();
  });

  it('prompt=none when the action decides at once: the code comes back as usual', async () => {
    await setOutcome(t, 'silentAllow', 'ALLOW');
    const init = await initAuth(t, { userId: newUserId(), action: 'silentAllow' });
    const res = await authorize(t, {
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      prompt: 'none',
    });
    expect(redirectParams(res).params.code).toBeTruthy();
  });

  it('a never-configured action takes the tenant default, CHALLENGE (a new user may skip enrolling: ALLOW, not enrolled)', async () => {
    const read = await http(`${t.origin}/v1/actions/neverConfigured`, {
      headers: { authorization: docAuth(t) },
    });
    expect(read.status).toBe(200);
    expect((await body(read)).defaultOutcome).toBe('CHALLENGE');
    const { id } = await claimsAfterSkippingEnrollment('neverConfigured');
    expect(id.action_state).toBe('ALLOW');
    expect(id.is_enrolled).toBe(false);
    expect(id.action_code).toBe('neverConfigured');
  });

  it('GET /v1/actions/{action} reads back what PUT set, and a later PUT replaces it', async () => {
    await setOutcome(t, 'readBack', 'BLOCK');
    let res = await http(`${t.origin}/v1/actions/readBack`, { headers: { authorization: docAuth(t) } });
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ action: 'readBack', defaultOutcome: 'BLOCK' });
    await setOutcome(t, 'readBack', 'ALLOW');
    res = await http(`${t.origin}/v1/actions/readBack`, { headers: { authorization: docAuth(t) } });
    expect(await body(res)).toMatchObject({ action: 'readBack', defaultOutcome: 'ALLOW' });
    const { id } = await claims('readBack');
    expect(id.action_state).toBe('ALLOW');
  });

  it('records the outcome under the idempotency key, with its state, time and custom data', async () => {
    await setOutcome(t, 'recorded', 'BLOCK');
    const userId = newUserId();
    const outcomeUrl = (key: string) => `${t.origin}/v1/users/${userId}/actions/recorded/${key}`;
    const custom = { yourCustomBoolean: true, yourCustomString: 'NZD', yourCustomNumber: 10 };
    const init = await initAuth(t, { userId, action: 'recorded', custom, appId: 'app-1' });
    // Nothing is recorded before the user reaches /oidc/auth.
    expect(
      (await http(outcomeUrl(init.idempotencyKey), { headers: { authorization: docAuth(t) } })).status,
    ).toBe(404);

    const res = await authorize(t, { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT });
    const { code } = redirectParams(res).params;
    expect(code).toBeTruthy();
    const read = await http(outcomeUrl(init.idempotencyKey), { headers: { authorization: docAuth(t) } });
    expect(read.status).toBe(200);
    const record = await body<Record<string, unknown>>(read);
    expect(record).toMatchObject({
      userId,
      action: 'recorded',
      idempotencyKey: init.idempotencyKey,
      state: 'BLOCK',
      isEnrolled: false,
      custom,
    });
    expect(new Date(record.createdAt as string).toISOString()).toBe(record.createdAt);
    expect(Math.abs(Date.parse(record.createdAt as string) - Date.now())).toBeLessThan(10 * 60_000);
    // The tokens say what the record says.
    const tokenRes = await redeem(t, code!, APP_REDIRECT);
    const tokens = await body<TokenResponse>(tokenRes);
    const { payload } = await verify(t, tokens.access_token);
    expect(payload.action_state).toBe(record.state);
    expect(payload.idempotency_key).toBe(record.idempotencyKey);
  });

  it('GET /v1/users/{userId} shows a user without authenticators as not enrolled', async () => {
    const { userId } = await claims(SIGN_IN);
    const res = await http(`${t.origin}/v1/users/${userId}`, { headers: { authorization: docAuth(t) } });
    expect(res.status).toBe(200);
    const user = await body<Record<string, unknown>>(res);
    expect(user.userId).toBe(userId);
    expect(user.isEnrolled).toBe(false);
    expect(user.enrolledVerificationMethods).toEqual([]);
  });
});

describe('B2C retries of /init-auth', () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await federatedTenant(server);
  });

  /** Every action outcome record stored for a user, read straight from the region's table. */
  async function outcomeRecords(userId: string): Promise<Record<string, unknown>[]> {
    const client = localClient(server.dynamodbEndpoint);
    try {
      const store = new DynamoStore(server.tableName.replaceAll('{region}', t.region), client);
      return await store.query(`${t.id}#user#${userId}`, 'action#');
    } finally {
      client.destroy();
    }
  }

  it('the same call three times gives one idempotency key; only the last token works; one outcome is recorded', async () => {
    const userId = newUserId();
    const payload = { userId, email: 'ada@example.com', action: SIGN_IN, redirectToSettings: false };
    const first = await initAuth(t, payload);
    const second = await initAuth(t, payload);
    const third = await initAuth(t, payload);
    expect(second.idempotencyKey).toBe(first.idempotencyKey);
    expect(third.idempotencyKey).toBe(first.idempotencyKey);
    expect(new Set([first.token, second.token, third.token]).size).toBe(3);

    const use = (token: string) =>
      authorize(t, { client_id: t.id, token, redirect_uri: APP_REDIRECT, state: 's' });
    for (const stale of [first.token, second.token]) {
      const { params } = redirectParams(await use(stale));
      expect(params.error).toBe('invalid_request');
      expect(params.code).toBeUndefined();
      expect(params.state).toBe('s');
    }
    const { params } = redirectParams(await use(third.token));
    expect(params.error).toBeUndefined();
    expect(params.code).toBeTruthy();
    // Used up: neither the last token nor an earlier one works again.
    for (const token of [third.token, first.token]) {
      expect(redirectParams(await use(token)).params.error).toBe('invalid_request');
    }

    const records = await outcomeRecords(userId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ idempotencyKey: first.idempotencyKey, userId, action: SIGN_IN });
  });

  it('a different call (other custom data) is another flow with its own idempotency key', async () => {
    const userId = newUserId();
    const a = await initAuth(t, { userId, action: SIGN_IN, custom: { n: 1 } });
    const b = await initAuth(t, { userId, action: SIGN_IN, custom: { n: 2 } });
    expect(b.idempotencyKey).not.toBe(a.idempotencyKey);
    // Both flows are live: each token works once.
    for (const init of [a, b]) {
      const { params } = redirectParams(
        await authorize(t, { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT }),
      );
      expect(params.code).toBeTruthy();
    }
    expect(await outcomeRecords(userId)).toHaveLength(2);
  });

  it('the same call after the flow completed starts a new flow', async () => {
    const userId = newUserId();
    const payload = { userId, action: SIGN_IN };
    const { idempotencyKey } = await runFlow(t, payload);
    const again = await initAuth(t, payload);
    expect(again.idempotencyKey).not.toBe(idempotencyKey);
    // The retry window now names the new flow: a retry of the call re-arms it.
    const retried = await initAuth(t, payload);
    expect(retried.idempotencyKey).toBe(again.idempotencyKey);
    const { params } = redirectParams(
      await authorize(t, { client_id: t.id, token: retried.token, redirect_uri: APP_REDIRECT }),
    );
    expect(params.code).toBeTruthy();
  });

  it('identical calls at the same moment share one idempotency key and record one outcome', async () => {
    const userId = newUserId();
    const payload = { userId, action: SIGN_IN, custom: { burst: true } };
    const inits = await Promise.all(Array.from({ length: 8 }, () => initAuth(t, payload)));
    expect(new Set(inits.map((i) => i.idempotencyKey)).size).toBe(1);
    // Each call re-armed the attempt with its own token: exactly one of them still works.
    const answers = [];
    for (const init of inits) {
      answers.push(
        redirectParams(await authorize(t, { client_id: t.id, token: init.token, redirect_uri: APP_REDIRECT }))
          .params,
      );
    }
    expect(answers.filter((p) => p.code).length).toBe(1);
    expect(await outcomeRecords(userId)).toHaveLength(1);
  });
});

/**
 * Fault injection on the real local server and the real DynamoDB Local: the server talks to
 * DynamoDB Local through a fault-injecting HTTP proxy (test/support/fault-proxy.ts) that answers
 * throttling (ProvisionedThroughputExceededException, ThrottlingException), a 500, a dropped
 * connection or a failed condition at every DynamoDB call of each step of the federated flow
 * (POST /init-auth, GET /oidc/auth, POST /oidc/token), of the code redemption and of the refresh
 * rotation, to every retry of that call; KMS errors come from a local KMS endpoint over HTTP
 * (test/support/kms-endpoint.ts) whose Sign really signs with a local key.
 *
 * Every case must answer 503 `temporarily_unavailable` with Retry-After, or the protocol error
 * of the endpoint, never another 5xx; nothing may be half-written (an init-auth token consumed
 * without its code, a code without its outcome record, a code or refresh token consumed without
 * its tokens); and the same request retried afterwards succeeds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { servicesFor, type RegionServices } from '../../functions/services.js';
import { KmsSigner } from '../../functions/signing/kms-signer.js';
import { LocalSigner } from '../../functions/signing/local-signer.js';
import type { Signer } from '../../functions/signing/signer.js';
import {
  APP_REDIRECT,
  JSON_TYPE,
  SIGN_IN,
  authorize,
  body,
  docAuth,
  federatedTenant,
  initAuth,
  newUserId,
  postInitAuth,
  postToken,
  redeem,
  redirectParams,
  type TestTenant,
  type TokenResponse as FlowTokens,
} from '../support/flow.js';
import { AwsFault } from '../support/aws-endpoint.js';
import { startFaultProxy, type DynamoFault, type FaultProxy } from '../support/fault-proxy.js';
import { startKmsEndpoint, type KmsEndpoint } from '../support/kms-endpoint.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

// ---- the DynamoDB fault injector ----------------------------------------------------------------

/** The proxy between the server and DynamoDB Local. */
let proxy: FaultProxy;

/** The DynamoDB operations one step makes, in order. */
async function traced(step: () => Promise<unknown>): Promise<string[]> {
  const trace: string[] = [];
  proxy.trace = trace;
  try {
    await step();
    return trace;
  } finally {
    proxy.trace = undefined;
  }
}

const faultName = (fault: DynamoFault) => (typeof fault === 'string' ? fault : `delay ${fault.delayMs} ms`);

/** Runs `step` with the `nth` DynamoDB call failing with `fault` (each of its retries too). */
async function withFault<T>(nth: number, fault: DynamoFault, step: () => Promise<T>): Promise<T> {
  const plan = proxy.arm(nth, fault);
  try {
    return await step();
  } finally {
    proxy.disarm();
    // The same request makes the same calls: the nth one was reached and failed.
    expect(plan.fired, `call ${nth} was made and failed with ${faultName(fault)}`).toBeTruthy();
  }
}

/**
 * The faults worth injecting at one call: throttling (either code, in turn), a 500 and a dropped
 * connection (what a timeout looks like to the caller) anywhere, failed conditions on conditional
 * writes.
 */
function faultsFor(op: string, i: number): DynamoFault[] {
  const throttle: DynamoFault = i % 2 ? 'ThrottlingException' : 'ProvisionedThroughputExceededException';
  const down: DynamoFault = i % 2 ? 'drop' : 'InternalServerError';
  return op.endsWith('?') ? [throttle, down, 'condition'] : [throttle, down];
}

// ---- KMS that really signs ----------------------------------------------------------------------

const KMS_KEY = 'alias/identity-signing';
let kms: KmsEndpoint;
let kmsFailures = 0;

// ---- the server -------------------------------------------------------------------------------

let server: TestServer;
let services: RegionServices;
let localSigner: Signer;
let originalSigners: RegionServices['signerFor'];
let t: TestTenant;

beforeAll(async () => {
  proxy = await startFaultProxy(inject('dynamodbEndpoint'));
  server = await startTestServer({ dynamodbEndpoint: proxy.url });
  t = await federatedTenant(server);
  services = await servicesFor('us');
  // A signer that makes no DynamoDB call, so each step makes the same calls every time: a tenant
  // keyring re-reads its key list every few seconds (its faults are covered in tenant-keys tests).
  originalSigners = services.signerFor;
  localSigner = await LocalSigner.open(mkdtempSync(join(tmpdir(), 'fault-keys-')), 'us');
  services.signerFor = () => localSigner;
  // The built-in client may also rotate refresh tokens, so the refresh grant is on the same flow.
  const res = await http(`${t.origin}/v1/clients/${t.id}`, {
    method: 'PATCH',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
    }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
});
afterAll(async () => {
  services.signerFor = originalSigners;
  await server.stop();
  await proxy.close();
});

type TokenResponse = FlowTokens & { refresh_token?: string };

// ---- the steps ----------------------------------------------------------------------------------

const input = () => ({ userId: newUserId(), action: SIGN_IN });

const authParams = (token: string, scope = 'openid offline_access') => ({
  client_id: t.id,
  token,
  redirect_uri: APP_REDIRECT,
  response_type: 'code',
  scope,
  state: 'st',
});

/** A failed step's answer: 503 temporarily_unavailable with Retry-After, or a protocol error. */
async function expectCleanFailure(res: Response, label: string): Promise<void> {
  const text = await res.text();
  expect(res.status, `${label}: ${text}`).not.toBe(500);
  expect(res.status, `${label}: ${text}`).toBeLessThan(504);
  // The authorization endpoint answers what it cannot redirect with a page; the others with JSON.
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json');
  if (res.status === 503) {
    expect(res.headers.get('retry-after'), label).toMatch(/^\d+$/);
    if (json) expect(JSON.parse(text), label).toMatchObject({ error: 'temporarily_unavailable' });
  } else if (res.status >= 400) {
    if (json) expect(JSON.parse(text), label).toHaveProperty('error');
    else expect(text, label).toMatch(/^<!doctype html>/i);
  }
}

/** The authorization response of /oidc/auth, success or error (RFC 6749 §4.1.2.1). */
async function authAnswer(res: Response, label: string): Promise<Record<string, string> | undefined> {
  if (res.status !== 302) {
    await expectCleanFailure(res, label);
    return undefined;
  }
  const { params } = redirectParams(res);
  return params;
}

async function outcomeOf(
  userId: string,
  idempotencyKey: string,
): Promise<{ status: number; state?: string }> {
  const res = await http(`${t.origin}/v1/users/${userId}/actions/${SIGN_IN}/${idempotencyKey}`, {
    headers: { authorization: docAuth(t) },
  });
  const json = (await res.json()) as { state?: string };
  return { status: res.status, ...(json.state ? { state: json.state } : {}) };
}

async function tokens(res: Response, label: string): Promise<TokenResponse> {
  const json = await body<TokenResponse>(res);
  expect(res.status, `${label}: ${JSON.stringify(json)}`).toBe(200);
  return json;
}

const refresh = (token: string) =>
  postToken(t, {
    grant_type: 'refresh_token',
    refresh_token: token,
    client_id: t.id,
    client_secret: t.secret,
  });

/** A code for a new flow, and what its outcome record is found by. */
async function freshCode(): Promise<{ code: string; userId: string; idempotencyKey: string }> {
  const i = input();
  const init = await initAuth(t, i);
  const params = await authAnswer(await authorize(t, authParams(init.token)), 'setup');
  expect(params?.code).toBeTruthy();
  return { code: params!.code!, userId: i.userId, idempotencyKey: init.idempotencyKey };
}

// ---- the cases ----------------------------------------------------------------------------------

describe('DynamoDB faults at every call of every step', () => {
  it('POST /init-auth: 503 or a protocol error, and the retry starts a flow that completes', async () => {
    const ops = await traced(() => initAuth(t, input()));
    expect(ops.length).toBeGreaterThan(0);
    for (const [i, op] of ops.entries()) {
      for (const fault of faultsFor(op, i)) {
        const label = `init-auth, call ${i + 1} (${op}): ${faultName(fault)}`;
        const payload = input();
        await expectCleanFailure(await withFault(i + 1, fault, () => postInitAuth(t, payload)), label);
        // The same call again (as B2C retries) succeeds, and its token completes the flow.
        const init = await initAuth(t, payload);
        const params = await authAnswer(await authorize(t, authParams(init.token)), label);
        expect(params?.code, `${label}: ${JSON.stringify(params)}`).toBeTruthy();
        await tokens(await redeem(t, params!.code!, APP_REDIRECT), label);
      }
    }
  });

  it('POST /init-auth retried inside the window: a fault at any call leaves one flow, and the retry after it keeps the key', async () => {
    const probe = input();
    await initAuth(t, probe);
    // A retry: the window's conditional put fails for real (handing back the window), then the
    // attempt is re-armed.
    const ops = await traced(() => initAuth(t, probe));
    expect(ops).toContain('TransactWriteItems?');
    expect(ops).toContain('UpdateItem?');
    for (const [i, op] of ops.entries()) {
      for (const fault of faultsFor(op, i)) {
        const label = `init-auth retry, call ${i + 1} (${op}): ${faultName(fault)}`;
        const payload = input();
        const first = await initAuth(t, payload);
        await expectCleanFailure(await withFault(i + 1, fault, () => postInitAuth(t, payload)), label);
        const retried = await initAuth(t, payload);
        // An injected "condition failed" on the re-arm claims the attempt was used (DynamoDB never
        // says so of an unused one), so only then may a new flow start; otherwise the key stays.
        if (!(fault === 'condition' && op === 'UpdateItem?'))
          expect(retried.idempotencyKey, label).toBe(first.idempotencyKey);
        const params = await authAnswer(await authorize(t, authParams(retried.token)), label);
        expect(params?.code, `${label}: ${JSON.stringify(params)}`).toBeTruthy();
        await tokens(await redeem(t, params!.code!, APP_REDIRECT), label);
      }
    }
  });

  it('GET /oidc/auth: no init-auth token consumed without its code and outcome; the retry gets the code', async () => {
    const probe = await initAuth(t, input());
    const ops = await traced(() => authorize(t, authParams(probe.token)));
    expect(ops).toContain('TransactWriteItems?');
    for (const [i, op] of ops.entries()) {
      for (const fault of faultsFor(op, i)) {
        const label = `oidc/auth, call ${i + 1} (${op}): ${faultName(fault)}`;
        const payload = input();
        const init = await initAuth(t, payload);
        const failed = await authAnswer(
          await withFault(i + 1, fault, () => authorize(t, authParams(init.token))),
          label,
        );
        if (failed) expect(failed.error, `${label}: ${JSON.stringify(failed)}`).toBeTruthy();
        // Nothing half-written: no outcome was recorded for the failed arrival...
        expect((await outcomeOf(payload.userId, init.idempotencyKey)).state, label).not.toBe('ALLOW');
        // ...and the same token still works, once.
        const params = await authAnswer(await authorize(t, authParams(init.token)), label);
        expect(params?.code, `${label}: ${JSON.stringify(params)}`).toBeTruthy();
        expect((await outcomeOf(payload.userId, init.idempotencyKey)).state, label).toBe('ALLOW');
        await tokens(await redeem(t, params!.code!, APP_REDIRECT), label);
      }
    }
  });

  it('POST /oidc/token (code redemption): no code consumed without its tokens; the retry redeems it', async () => {
    const probe = await freshCode();
    const ops = await traced(() => redeem(t, probe.code, APP_REDIRECT));
    // The code is used up and its refresh token written by the last call, one transaction.
    expect(ops.at(-1)).toBe('TransactWriteItems?');
    for (const [i, op] of ops.entries()) {
      for (const fault of faultsFor(op, i)) {
        const label = `token (code), call ${i + 1} (${op}): ${faultName(fault)}`;
        const { code } = await freshCode();
        await expectCleanFailure(await withFault(i + 1, fault, () => redeem(t, code, APP_REDIRECT)), label);
        const issued = await tokens(await redeem(t, code, APP_REDIRECT), label);
        expect(issued.refresh_token, label).toBeTruthy();
        // The refresh token the retry issued is live: the failed attempt revoked nothing.
        await tokens(await refresh(issued.refresh_token!), label);
      }
    }
  });

  it('POST /oidc/token (refresh rotation): no refresh token consumed without its successor; the retry rotates', async () => {
    const probe = await tokens(await redeem(t, (await freshCode()).code, APP_REDIRECT), 'setup');
    const ops = await traced(() => refresh(probe.refresh_token!));
    expect(ops).toContain('TransactWriteItems?');
    for (const [i, op] of ops.entries()) {
      for (const fault of faultsFor(op, i)) {
        const label = `token (refresh), call ${i + 1} (${op}): ${faultName(fault)}`;
        const issued = await tokens(await redeem(t, (await freshCode()).code, APP_REDIRECT), label);
        await expectCleanFailure(await withFault(i + 1, fault, () => refresh(issued.refresh_token!)), label);
        const rotated = await tokens(await refresh(issued.refresh_token!), label);
        // The successor works too: the family was not revoked by the failed attempt.
        await tokens(await refresh(rotated.refresh_token!), label);
      }
    }
  });
});

describe('KMS faults when signing', () => {
  beforeAll(async () => {
    kms = await startKmsEndpoint();
    kms.addSigningKey('arn:aws:kms:us-west-2:111122223333:key/test', [KMS_KEY]);
    // KMS throttles every request (each retry too) while `kmsFailures` lasts.
    kms.answer = (operation, _input, real) => {
      if (operation === 'Sign' && kmsFailures > 0) {
        kmsFailures -= 1;
        throw new AwsFault('ThrottlingException');
      }
      return real();
    };
    const kmsSigner = new KmsSigner(kms.client(), KMS_KEY, []);
    services.signerFor = () => kmsSigner;
  });
  afterAll(async () => {
    services.signerFor = () => localSigner;
    await kms.close();
  });

  it('code redemption: 503 while KMS fails, and the same code is redeemed afterwards', async () => {
    const { code } = await freshCode();
    kmsFailures = 10;
    const res = await redeem(t, code, APP_REDIRECT);
    expect(res.status, await res.clone().text()).toBe(503);
    await expectCleanFailure(res, 'kms code');
    kmsFailures = 0;
    // Signing comes before the code is used up, so the same code redeems once KMS is back.
    const retried = await redeem(t, code, APP_REDIRECT);
    const issued = await tokens(retried, 'kms code retry');
    expect(kms.inputsOf('Sign').length).toBeGreaterThan(0);
    await tokens(await refresh(issued.refresh_token!), 'kms code refresh');
  });

  it('refresh rotation: 503 while KMS fails, and the same refresh token rotates afterwards', async () => {
    const issued = await tokens(await redeem(t, (await freshCode()).code, APP_REDIRECT), 'kms setup');
    kmsFailures = 10;
    const res = await refresh(issued.refresh_token!);
    expect(res.status, await res.clone().text()).toBe(503);
    await expectCleanFailure(res, 'kms refresh');
    kmsFailures = 0;
    const rotated = await tokens(await refresh(issued.refresh_token!), 'kms refresh retry');
    await tokens(await refresh(rotated.refresh_token!), 'kms successor');
  });
});

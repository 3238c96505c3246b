import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../functions/authenticators/totp.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

type Tenant = Awaited<ReturnType<TestServer['tenant']>>;

let server: TestServer;
let t: Tenant;

beforeAll(async () => {
  // Read lazily by the services: nothing of this run lands in the repository's .data/.
  process.env.LOCAL_OUTBOX_DIR = mkdtempSync(join(tmpdir(), 'outbox-'));
  server = await startTestServer();
  t = await server.tenant();
});
afterAll(async () => {
  await server.stop();
});

const auth = () => basic(t.secret);
const JSON_TYPE = { 'content-type': 'application/json' };

function enroll(
  userId: string,
  body: unknown,
  headers: Record<string, string> = { ...JSON_TYPE, authorization: auth() },
) {
  return http(`${t.origin}/v1/users/${encodeURIComponent(userId)}/authenticators`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function remove(userId: string, id: string, authorization = auth()) {
  return http(`${t.origin}/v1/users/${encodeURIComponent(userId)}/authenticators/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    headers: { authorization },
  });
}

async function getUser(userId: string) {
  const res = await http(`${t.origin}/v1/users/${encodeURIComponent(userId)}`, {
    headers: { authorization: auth() },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    userId: string;
    isEnrolled: boolean;
    enrolledVerificationMethods: string[];
    authenticators: { id: string; type: string; name?: string; createdAt: string }[];
  };
}

interface View {
  id: string;
  type: string;
  name: string;
  createdAt: string;
}

describe('POST /v1/users/{userId}/authenticators', () => {
  it('enrolls a pre-verified email and an authenticator app; the user view shows both', async () => {
    const userId = randomUUID();
    expect(await getUser(userId)).toMatchObject({ isEnrolled: false, authenticators: [] });

    const emailRes = await enroll(userId, { type: 'EMAIL_OTP', email: 'jane@example.com' });
    expect(emailRes.status).toBe(201);
    const { authenticator: email } = (await emailRes.json()) as { authenticator: View };
    expect(email).toMatchObject({ type: 'EMAIL_OTP', name: 'j•••@example.com' });
    expect(JSON.stringify(email)).not.toContain('jane@');

    const appRes = await enroll(userId, { type: 'AUTHENTICATOR_APP', name: 'Work phone' });
    expect(appRes.status).toBe(201);
    expect(appRes.headers.get('cache-control')).toBe('no-store');
    const app = (await appRes.json()) as { authenticator: View; secret: string; uri: string };
    expect(app.authenticator).toMatchObject({ type: 'AUTHENTICATOR_APP', name: 'Work phone' });
    expect(app.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(app.uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(app.secret);
    expect(totpCode(app.secret, Date.now())).toMatch(/^\d{6}$/);

    const view = await getUser(userId);
    expect(view.isEnrolled).toBe(true);
    expect([...view.enrolledVerificationMethods].sort()).toEqual(['AUTHENTICATOR_APP', 'EMAIL_OTP']);
    expect(view.authenticators.map((a) => a.id).sort()).toEqual([email.id, app.authenticator.id].sort());
    // Nothing secret in the user view.
    expect(JSON.stringify(view)).not.toContain(app.secret);
    expect(JSON.stringify(view)).not.toContain('jane@');
  });

  it('names an authenticator app by default, and enrolling the same email twice keeps one', async () => {
    const userId = randomUUID();
    const app = (await (await enroll(userId, { type: 'AUTHENTICATOR_APP' })).json()) as {
      authenticator: View;
    };
    expect(app.authenticator.name).toBe('Authenticator app');
    const a = (await (await enroll(userId, { type: 'EMAIL_OTP', email: 'x@example.com' })).json()) as {
      authenticator: View;
    };
    const b = (await (await enroll(userId, { type: 'EMAIL_OTP', email: 'x@EXAMPLE.com' })).json()) as {
      authenticator: View;
    };
    expect(b.authenticator.id).toBe(a.authenticator.id);
    expect((await getUser(userId)).authenticators).toHaveLength(2);
  });

  it.each([
    ['an unknown type', { type: 'SMS', phone: '+15555550100' }],
    ['no type', { email: 'jane@example.com' }],
    ['an invalid email', { type: 'EMAIL_OTP', email: 'not-an-email' }],
    ['a missing email', { type: 'EMAIL_OTP' }],
    ['an unknown field', { type: 'AUTHENTICATOR_APP', secret: 'JBSWY3DPEHPK3PXP' }],
    ['an empty name', { type: 'AUTHENTICATOR_APP', name: '  ' }],
    ['a JSON array', []],
    ['malformed JSON', '{"type":'],
  ])('answers 400 for %s', async (_what, body) => {
    const userId = randomUUID();
    const res = await enroll(userId, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    expect((await getUser(userId)).isEnrolled).toBe(false);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await enroll(randomUUID(), 'type=EMAIL_OTP', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: auth(),
    });
    expect(res.status).toBe(415);
  });

  it('answers 401 without the tenant secret, or with another tenant’s', async () => {
    const userId = randomUUID();
    const none = await enroll(userId, { type: 'AUTHENTICATOR_APP' }, JSON_TYPE);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    const other = await server.tenant();
    const wrong = await enroll(
      userId,
      { type: 'AUTHENTICATOR_APP' },
      { ...JSON_TYPE, authorization: basic(other.secret) },
    );
    expect(wrong.status).toBe(401);
    expect((await getUser(userId)).isEnrolled).toBe(false);
  });
});

describe('DELETE /v1/users/{userId}/authenticators/{authenticatorId}', () => {
  it('removes one authenticator (204), then 404', async () => {
    const userId = randomUUID();
    const email = (await (await enroll(userId, { type: 'EMAIL_OTP', email: 'a@example.com' })).json()) as {
      authenticator: View;
    };
    const app = (await (await enroll(userId, { type: 'AUTHENTICATOR_APP' })).json()) as {
      authenticator: View;
    };

    const res = await remove(userId, email.authenticator.id);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const view = await getUser(userId);
    expect(view.authenticators.map((a) => a.id)).toEqual([app.authenticator.id]);
    expect(view.enrolledVerificationMethods).toEqual(['AUTHENTICATOR_APP']);

    expect((await remove(userId, email.authenticator.id)).status).toBe(404);
    expect((await remove(userId, app.authenticator.id)).status).toBe(204);
    expect(await getUser(userId)).toMatchObject({ isEnrolled: false, enrolledVerificationMethods: [] });
  });

  it('answers 404 for an unknown id, or another user’s authenticator', async () => {
    const owner = randomUUID();
    const app = (await (await enroll(owner, { type: 'AUTHENTICATOR_APP' })).json()) as {
      authenticator: View;
    };
    expect((await remove(randomUUID(), app.authenticator.id)).status).toBe(404);
    expect((await remove(owner, randomUUID())).status).toBe(404);
    expect((await getUser(owner)).isEnrolled).toBe(true);
  });

  it('answers 401 without the tenant secret and leaves the authenticator', async () => {
    const userId = randomUUID();
    const app = (await (await enroll(userId, { type: 'AUTHENTICATOR_APP' })).json()) as {
      authenticator: View;
    };
    const res = await http(`${t.origin}/v1/users/${userId}/authenticators/${app.authenticator.id}`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(401);
    expect((await remove(userId, app.authenticator.id, basic('wrong'))).status).toBe(401);
    expect((await getUser(userId)).isEnrolled).toBe(true);
  });

  it('is scoped to the tenant: another tenant cannot see or remove it', async () => {
    const userId = randomUUID();
    const app = (await (await enroll(userId, { type: 'AUTHENTICATOR_APP' })).json()) as {
      authenticator: View;
    };
    const other = await server.tenant();
    const res = await http(`${other.origin}/v1/users/${userId}/authenticators/${app.authenticator.id}`, {
      method: 'DELETE',
      headers: { authorization: basic(other.secret) },
    });
    expect(res.status).toBe(404);
    expect((await getUser(userId)).isEnrolled).toBe(true);
  });
});

describe('routing', () => {
  it('answers 405 for other methods', async () => {
    const get = await http(`${t.origin}/v1/users/u1/authenticators`, { headers: { authorization: auth() } });
    expect(get.status).toBe(405);
    const post = await http(`${t.origin}/v1/users/u1/authenticators/a1`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: auth() },
      body: '{}',
    });
    expect(post.status).toBe(405);
  });
});

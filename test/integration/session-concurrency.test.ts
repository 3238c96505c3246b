/**
 * The browser session record under concurrent writers (DynamoDB Local): every read-modify-write is
 * conditioned on the revision it read, so two tabs signing in at once, or tokens for 30 clients
 * issued at once, lose no account and no client (a lost client would never get a logout token).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  addClient,
  endSession,
  loadAccounts,
  loadSession,
  newSession,
  SESSION_COOKIE,
  signIn,
} from '../../functions/sessions/session.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { freshStore } from '../support/dynamo.js';

let table: DynamoStore;
beforeAll(async () => {
  table = await freshStore('sessions');
});

const fields = (userId: string) => ({ userId, amr: ['otp'], acr: 'mfa', clients: ['app'] });

async function browser() {
  const store = new TenantStore(table, randomUUID());
  const { cookieValue, writes } = newSession(fields('first'));
  await store.transact(writes);
  return { store, cookies: { [SESSION_COOKIE]: cookieValue } };
}

describe('session record under concurrent writes', () => {
  it('30 clients getting tokens at once are all remembered', async () => {
    const { store, cookies } = await browser();
    const session = (await loadSession(store, cookies))!;
    const clients = Array.from({ length: 30 }, (_, i) => `client-${i}`);
    await Promise.all(clients.map((c) => addClient(store, cookies, session, c)));
    const after = (await loadSession(store, cookies))!;
    expect(after.clients.sort()).toEqual(['app', ...clients].sort());
  });

  it('four accounts signing in on one browser at once are all kept', async () => {
    const { store, cookies } = await browser();
    const users = ['u1', 'u2', 'u3', 'u4'];
    const results = await Promise.all(users.map((u) => signIn(store, cookies, fields(u))));
    expect(results.every((r) => r.cookieValue === cookies[SESSION_COOKIE])).toBe(true);
    const accounts = await loadAccounts(store, cookies);
    expect(accounts.map((a) => a.userId).sort()).toEqual(['first', ...users].sort());
  });

  it('a sign-in racing the logout of another account keeps the new account and ends the old one', async () => {
    const { store, cookies } = await browser();
    const first = (await loadSession(store, cookies))!;
    const [, signedIn] = await Promise.all([
      endSession(store, cookies, first.sid),
      signIn(store, cookies, fields('second')),
    ]);
    // Logout first emptied the record, so the sign-in began a new one (a new cookie); or the
    // sign-in came first and the logout removed only the account it named. Either way:
    const accounts = await loadAccounts(store, { [SESSION_COOKIE]: signedIn.cookieValue });
    expect(accounts.map((a) => a.userId)).toEqual(['second']);
  });
});

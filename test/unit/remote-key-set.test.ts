import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allowLoopbackOutbound } from '../../functions/outbound/guarded-fetch.js';
import { KeySetUnavailableError, remoteKeySet } from '../../functions/outbound/remote-key-set.js';

/** A key server on loopback: what it answers is up to each test; it counts its requests. */
let answer: (res: ServerResponse) => void;
let requests = 0;
const server = createServer((_req, res) => {
  requests++;
  answer(res);
});
let uri: string;

interface TestKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}
function testKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
}
const serve = (...keys: TestKey[]) => {
  answer = (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  };
};
const token = (key: TestKey) =>
  new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(key.privateKey);

let clock = 1_000_000;
const keySet = () =>
  remoteKeySet(uri, {
    timeoutMs: 1_000,
    cooldownMs: 5_000,
    maxAgeMs: 60_000,
    what: 'a test JWKS',
    now: () => clock,
  });

beforeAll(async () => {
  allowLoopbackOutbound(true);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterAll(async () => {
  allowLoopbackOutbound(false);
  await new Promise((done) => server.close(done));
});
beforeEach(() => {
  requests = 0;
  clock = 1_000_000;
});

describe('remoteKeySet', () => {
  it('fetches the set once and verifies tokens with it; thirty cold verifications share one fetch', async () => {
    const a = testKey('a');
    serve(a);
    const keys = keySet();
    const jwt = await token(a);
    const results = await Promise.all(Array.from({ length: 30 }, () => jwtVerify(jwt, keys)));
    expect(results.every((r) => r.payload.sub === 'alice')).toBe(true);
    await jwtVerify(jwt, keys);
    expect(requests).toBe(1);
  });

  it('fetches again for an unknown kid (a rotation), but at most once per cool-down', async () => {
    const a = testKey('a');
    const b = testKey('b');
    const forged = testKey('made-up');
    serve(a);
    const keys = keySet();
    await jwtVerify(await token(a), keys);
    clock += 6_000;
    serve(a, b);
    // b is new: one refetch finds it.
    await expect(jwtVerify(await token(b), keys)).resolves.toBeTruthy();
    expect(requests).toBe(2);
    // Made-up kids inside the cool-down cost no request.
    for (let i = 0; i < 10; i++)
      await expect(jwtVerify(await token(forged), keys)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(requests).toBe(2);
    clock += 6_000;
    await expect(jwtVerify(await token(forged), keys)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(requests).toBe(3);
  });

  it('fetches the set again before use once it is older than its lifetime, and drops removed keys', async () => {
    const a = testKey('a');
    const b = testKey('b');
    serve(a);
    const keys = keySet();
    await jwtVerify(await token(a), keys);
    serve(b);
    clock += 59_000;
    await expect(jwtVerify(await token(a), keys)).resolves.toBeTruthy();
    expect(requests).toBe(1);
    clock += 2_000;
    // Refetched: a is gone from the set and from this copy.
    await expect(jwtVerify(await token(a), keys)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(requests).toBe(2);
  });

  it('an error answer or something that is not a JWK Set is KeySetUnavailableError, and is not kept', async () => {
    const a = testKey('a');
    const keys = keySet();
    const jwt = await token(a);
    answer = (res) => {
      res.writeHead(500);
      res.end('down');
    };
    await expect(jwtVerify(jwt, keys)).rejects.toBeInstanceOf(KeySetUnavailableError);
    answer = (res) => res.end('{"not":"a jwks"}');
    await expect(jwtVerify(jwt, keys)).rejects.toBeInstanceOf(KeySetUnavailableError);
    answer = (res) => res.end('<html>');
    await expect(jwtVerify(jwt, keys)).rejects.toBeInstanceOf(KeySetUnavailableError);
    serve(a);
    await expect(jwtVerify(jwt, keys)).resolves.toBeTruthy();
    expect(requests).toBe(4);
  });

  it('goes through the guarded client: a private address is refused without a request', async () => {
    const keys = remoteKeySet('https://10.0.0.1/jwks', {
      timeoutMs: 500,
      cooldownMs: 0,
      maxAgeMs: 1,
      what: 'a test JWKS',
    });
    const err = await jwtVerify(await token(testKey('a')), keys).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeySetUnavailableError);
    expect(((err as Error).cause as { code?: string }).code).toBe('EFORBIDDEN');
  });
});

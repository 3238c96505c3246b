import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSigner, VERIFICATION_WINDOW_MS } from '../../functions/signing/local-signer.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-signer-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function verify(signer: LocalSigner, jwt: string) {
  return jwtVerify(jwt, createLocalJWKSet({ keys: await signer.publicKeys() }), { algorithms: ['RS256'] });
}

describe('LocalSigner key file', () => {
  it('creates a key file marked not for production, readable only by its owner', async () => {
    const signer = await LocalSigner.open(join(dir, 'nested', 'keys'), 'us');
    const file = join(dir, 'nested', 'keys', 'us.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as { warning: string; keys: { kid: string }[] };
    expect(data.warning).toMatch(/NOT FOR PRODUCTION/);
    expect(data.keys).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [jwk] = await signer.publicKeys();
    expect(data.keys[0]!.kid).toBe(jwk!.kid);
  });

  it('reopens the same key instead of generating a new one', async () => {
    const first = await LocalSigner.open(dir, 'eu');
    const jwt = await first.signJwt({ sub: 'x' });
    const second = await LocalSigner.open(dir, 'eu');
    expect(await second.publicKeys()).toEqual(await first.publicKeys());
    await expect(verify(second, jwt)).resolves.toBeTruthy();
    expect(decodeProtectedHeader(await second.signJwt({ sub: 'y' })).kid).toBe(
      decodeProtectedHeader(jwt).kid,
    );
  });

  it('keeps one key file per name', async () => {
    const us = await LocalSigner.open(dir, 'us');
    const au = await LocalSigner.open(dir, 'au');
    const [usKey] = await us.publicKeys();
    const [auKey] = await au.publicKeys();
    expect(usKey!.kid).not.toBe(auKey!.kid);
    await expect(verify(au, await us.signJwt({ sub: 'x' }))).rejects.toThrow();
  });
});

describe('LocalSigner tokens', () => {
  it('signs an RS256 JWT that jose verifies against the published keys', async () => {
    const signer = await LocalSigner.open(dir, 'us');
    const now = Math.floor(Date.now() / 1000);
    const jwt = await signer.signJwt({
      sub: 'user-1',
      iss: 'http://acme.us.localhost/oidc',
      iat: now,
      exp: now + 60,
    });
    const { payload, protectedHeader } = await verify(signer, jwt);
    expect(payload).toMatchObject({ sub: 'user-1', iss: 'http://acme.us.localhost/oidc' });
    const [jwk] = await signer.publicKeys();
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: jwk!.kid });
    expect(await signer.algorithms()).toEqual(['RS256']);
  });

  it('passes typ through', async () => {
    const signer = await LocalSigner.open(dir, 'us');
    const jwt = await signer.signJwt({ sub: 'user-1' }, { typ: 'at+jwt' });
    const { protectedHeader } = await jwtVerify(jwt, createLocalJWKSet({ keys: await signer.publicKeys() }), {
      typ: 'at+jwt',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
  });

  it('produces signatures that fail when the payload is tampered with', async () => {
    const signer = await LocalSigner.open(dir, 'us');
    const [h, , s] = (await signer.signJwt({ sub: 'user-1' })).split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${s}`;
    await expect(verify(signer, forged)).rejects.toThrow();
  });

  it('publishes only public members, with kid, kty, alg and use', async () => {
    const signer = await LocalSigner.open(dir, 'us');
    const keys = await signer.publicKeys();
    expect(keys).toHaveLength(1);
    for (const k of keys) {
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
      expect(k.n).toEqual(expect.any(String));
      expect(k.e).toBe('AQAB');
      for (const m of PRIVATE_MEMBERS) expect(k).not.toHaveProperty(m);
      // 2048-bit modulus
      expect(Buffer.from(k.n!, 'base64url').length).toBe(256);
    }
  });
});

describe('LocalSigner rotation', () => {
  it('signs with a new key, keeps the old one published for its window, then drops it', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const now = () => clock;
    const signer = await LocalSigner.open(dir, 'us', now);
    const oldJwt = await signer.signJwt({ sub: 'before' });
    const oldKid = decodeProtectedHeader(oldJwt).kid;

    const newKid = await signer.rotate();
    expect(newKid).not.toBe(oldKid);
    const newJwt = await signer.signJwt({ sub: 'after' });
    expect(decodeProtectedHeader(newJwt).kid).toBe(newKid);

    // Current key first, then the retired one; both verify.
    expect((await signer.publicKeys()).map((k) => k.kid)).toEqual([newKid, oldKid]);
    await expect(verify(signer, oldJwt)).resolves.toBeTruthy();
    await expect(verify(signer, newJwt)).resolves.toBeTruthy();

    // Still published just inside the window.
    clock += VERIFICATION_WINDOW_MS - 1000;
    expect((await signer.publicKeys()).map((k) => k.kid)).toEqual([newKid, oldKid]);

    // Gone once the window has passed: old tokens no longer verify, new ones still do.
    clock += 2000;
    expect((await signer.publicKeys()).map((k) => k.kid)).toEqual([newKid]);
    await expect(verify(signer, oldJwt)).rejects.toThrow();
    await expect(verify(signer, newJwt)).resolves.toBeTruthy();
  });

  it('persists the rotation: a reopened signer uses the new key and still publishes the old one', async () => {
    const signer = await LocalSigner.open(dir, 'au');
    const oldKid = (await signer.publicKeys())[0]!.kid;
    const newKid = await signer.rotate();
    const file = join(dir, 'au.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/NOT FOR PRODUCTION/);

    const reopened = await LocalSigner.open(dir, 'au');
    expect((await reopened.publicKeys()).map((k) => k.kid)).toEqual([newKid, oldKid]);
    expect(decodeProtectedHeader(await reopened.signJwt({})).kid).toBe(newKid);
  });

  it('prunes keys retired longer ago than the window from the file on the next rotation', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const signer = await LocalSigner.open(dir, 'eu', () => clock);
    const first = (await signer.publicKeys())[0]!.kid;
    const second = await signer.rotate();
    clock += VERIFICATION_WINDOW_MS + 1000;
    const third = await signer.rotate();
    const kids = (
      JSON.parse(readFileSync(join(dir, 'eu.json'), 'utf8')) as { keys: { kid: string }[] }
    ).keys.map((k) => k.kid);
    expect(kids).toEqual([third, second]);
    expect(kids).not.toContain(first);
    expect((await signer.publicKeys()).map((k) => k.kid)).toEqual([third, second]);
  });
});

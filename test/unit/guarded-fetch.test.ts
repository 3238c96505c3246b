/**
 * The one outbound client (functions/outbound/guarded-fetch.ts): what it refuses before
 * connecting and after DNS resolution, its timeout and its size cap, against real local servers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  allowLoopbackOutbound,
  guardedLookup,
  guardedRequest,
  outboundUrlProblem,
} from '../../functions/outbound/guarded-fetch.js';

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    if (req.url === '/big') return res.end('x'.repeat(2_000_000));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
afterEach(() => allowLoopbackOutbound(false));

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string; name?: string }) => err.code ?? err.name ?? 'error',
  );

describe('guarded outbound requests', () => {
  it('refuses loopback, private and link-local targets on AWS (literal and after DNS), and http', async () => {
    allowLoopbackOutbound(false);
    expect(await code(guardedRequest(`http://127.0.0.1:${port}/`, { timeoutMs: 1000 }))).toBe('EFORBIDDEN');
    expect(await code(guardedRequest('https://169.254.169.254/latest/meta-data', { timeoutMs: 1000 }))).toBe(
      'EFORBIDDEN',
    );
    expect(await code(guardedRequest('https://10.0.0.1/', { timeoutMs: 1000 }))).toBe('EFORBIDDEN');
    expect(await code(guardedRequest('https://[::ffff:127.0.0.1]/', { timeoutMs: 1000 }))).toBe('EFORBIDDEN');
    // A name that resolves to loopback: refused inside the lookup the socket connects with.
    const looked = await new Promise<string>((resolve) =>
      guardedLookup('localhost', {}, (err) => resolve((err as { code?: string } | null)?.code ?? 'ok')),
    );
    expect(looked).toBe('EFORBIDDEN');
    expect(outboundUrlProblem('http://login.example.com', 'an issuer')).toContain('https');
    expect(outboundUrlProblem('https://u:p@login.example.com', 'an issuer')).toContain('user info');
  });

  it('locally reaches http loopback, with a timeout and a size cap', async () => {
    allowLoopbackOutbound(true);
    const res = await guardedRequest(`http://127.0.0.1:${port}/`, { timeoutMs: 2000 });
    expect(res).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(await code(guardedRequest(`http://127.0.0.1:${port}/slow`, { timeoutMs: 200 }))).toBe(
      'TimeoutError',
    );
    expect(
      await code(guardedRequest(`http://127.0.0.1:${port}/big`, { timeoutMs: 2000, maxBytes: 1000 })),
    ).toBe('ETOOLARGE');
    // Loopback only: private addresses stay refused locally too.
    expect(await code(guardedRequest('http://10.0.0.1/', { timeoutMs: 1000 }))).toBe('EFORBIDDEN');
  });
});

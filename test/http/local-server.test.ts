/**
 * The local server's own promises: it says how to install Java when Java is missing, and its
 * request log has one structured line per request with nothing secret in it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../functions/log.js';
import { APP_REDIRECT, federatedTenant, runFlow, type TestTenant } from '../support/flow.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('npm start without Java', () => {
  it('prints how to install Java 17 and exits non-zero', async () => {
    // A PATH with node and nothing else: `java` cannot be found.
    const bin = mkdtempSync(join(tmpdir(), 'idp-nojava-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(join(bin, 'node'), ['--import', 'tsx', 'bin/server.ts'], {
        env: { PATH: bin, PORT: '0', DATA_DIR: mkdtempSync(join(tmpdir(), 'idp-data-')), HOME: tmpdir() },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs Java 17');
    expect(result.stderr).toContain('apt-get install -y openjdk-17-jre-headless');
  });
});

describe('request log', () => {
  let server: TestServer;
  let t: TestTenant;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    t = await federatedTenant(server);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server.stop();
  });

  it('has one JSON line per request with method, host, path, status and ms, and no secrets', async () => {
    logger.setLogLevel('INFO');
    const write = process.stdout.write.bind(process.stdout);
    let raw = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      raw += String(chunk);
      return write(chunk as string, ...(rest as []));
    });
    const { tokens } = await runFlow(
      t,
      { userId: 'log-user', action: 'signIn' },
      { redirectUri: APP_REDIRECT, state: 'secret-state' },
    );
    vi.restoreAllMocks();
    logger.setLogLevel('WARN');
    for (const line of raw.split('\n').filter((l) => l.includes('"message":"request"')))
      lines.push(JSON.parse(line));
    const paths = lines.map((l) => `${l.method} ${l.path} ${l.status}`);
    expect(paths).toEqual(
      expect.arrayContaining(['POST /init-auth 200', 'GET /oidc/auth 302', 'POST /oidc/token 200']),
    );
    for (const l of lines) {
      expect(l.host).toBe(new URL(t.origin).host);
      expect(typeof l.ms).toBe('number');
    }
    // Nothing that authenticates anyone ends up in the log.
    for (const secret of [t.secret, tokens.access_token, tokens.id_token!, 'secret-state', 'code=']) {
      expect(raw).not.toContain(secret);
    }
  });
});

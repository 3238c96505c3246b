/**
 * The operator CLI run as a child process against a test server, the way `npm run admin` runs it:
 * the data folder holds the `server.json` that `npm start` writes, naming this process's server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from './server.js';

export type AdminResult = { code: number | null; stdout: string; stderr: string };

export function adminFor(server: TestServer): (...args: string[]) => Promise<AdminResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-cli-'));
  writeFileSync(
    join(dataDir, 'server.json'),
    JSON.stringify({
      pid: process.pid,
      port: server.port,
      dynamodbEndpoint: server.dynamodbEndpoint,
      tableName: server.tableName,
      baseDomain: 'localhost',
      keysDir: server.keysDir,
    }),
  );
  return (...args) => runAdmin({}, ...args, '--data-dir', dataDir);
}

/** `npm run admin -- …` as an operator runs it (`tsx bin/admin.ts …`), with extra environment. */
export function runAdmin(env: Record<string, string | undefined>, ...args: string[]): Promise<AdminResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/admin.ts', ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

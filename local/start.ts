import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { ensureTable, localClient, startDynamoLocal, type DynamoLocal } from './dynamodb-local.js';
import { createGateway, listen } from './server.js';
// The local signer, secret box and outbox: the local server's adapters, in no Lambda bundle.
import '../functions/adapters/local.js';
import { ENV } from '../functions/env-names.js';
import { REGION_CODES, type RegionCode } from '../functions/regions.js';

export interface LocalOptions {
  /** 0 picks a free port. */
  port: number;
  /** Where DynamoDB Local, the signing keys and the server state live. */
  dataDir: string;
  /** Keep DynamoDB Local's data in memory only (nothing written but the signing keys). */
  inMemory?: boolean;
  /** Use an already running DynamoDB Local instead of starting one (tests share one per run). */
  dynamodbEndpoint?: string;
  /** Table name pattern, `{region}` replaced by the region code. */
  tableName?: string;
  host?: string;
  /** Seconds to cache tenant lookups (0 in tests that rotate secrets). */
  tenantCacheSeconds?: number;
}

export interface LocalServer {
  port: number;
  origin: (slug: string, region: RegionCode) => string;
  dynamodbEndpoint: string;
  tableName: string;
  /** Where the local secret box key (and the development signing keys) live. */
  keysDir: string;
  stop(): Promise<void>;
}

/** What `npm run admin` reads to find the running server's database. */
export interface ServerState {
  pid: number;
  port: number;
  dynamodbEndpoint: string;
  tableName: string;
  baseDomain: string;
  /** The local secret box's folder: the CLI seals new tenant keys with the same key. */
  keysDir?: string;
}

export const stateFile = (dataDir: string) => join(resolve(dataDir), 'server.json');

export function readServerState(dataDir: string): ServerState | undefined {
  const file = stateFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as ServerState;
    process.kill(state.pid, 0); // throws if that process is gone
    return state;
  } catch {
    return undefined;
  }
}

/**
 * Starts the local product: DynamoDB Local (unless one is given), one table per region, and the
 * gateway serving every region on one port. Handlers are configured through the same environment
 * variables the CDK stack sets on AWS, so they must be set before any handler module loads.
 */
export async function startLocal(opts: LocalOptions): Promise<LocalServer> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  let dynamo: DynamoLocal | undefined;
  const endpoint =
    opts.dynamodbEndpoint ??
    (dynamo = await startDynamoLocal({ path: opts.inMemory ? undefined : join(dataDir, 'dynamodb') }))
      .endpoint;
  const tableName = opts.tableName ?? 'identity-{region}';

  const client = localClient(endpoint);
  for (const region of REGION_CODES) await ensureTable(client, tableName.replaceAll('{region}', region));
  client.destroy();

  const keysDir = join(dataDir, 'signing-keys');
  const server: Server = createGateway();
  const port = await listen(server, opts.port, opts.host ?? '127.0.0.1');
  Object.assign(process.env, {
    [ENV.baseDomain]: process.env[ENV.baseDomain] ?? 'localhost',
    [ENV.regions]: REGION_CODES.join(','),
    [ENV.tableName]: tableName,
    [ENV.dynamodbEndpoint]: endpoint,
    // SIGNER, SECRET_BOX, KMS_KEY_ID and SECRETS_KEY_ID are taken from the environment when set, so
    // the AWS adapters run locally against any KMS-compatible endpoint (AWS_ENDPOINT_URL_KMS).
    [ENV.signer]: process.env[ENV.signer] || 'tenant',
    [ENV.localKeysDir]: keysDir,
    [ENV.publicScheme]: 'http',
    [ENV.publicPort]: String(port),
    [ENV.tenantCacheSeconds]: String(opts.tenantCacheSeconds ?? 2),
  });
  const baseDomain = process.env[ENV.baseDomain]!;
  const state: ServerState = {
    pid: process.pid,
    port,
    dynamodbEndpoint: endpoint,
    tableName,
    baseDomain,
    keysDir,
  };
  if (!opts.dynamodbEndpoint) writeFileSync(stateFile(dataDir), JSON.stringify(state, null, 2));

  return {
    port,
    dynamodbEndpoint: endpoint,
    tableName,
    keysDir,
    origin: (slug, region) => `http://${slug}.${region}.${baseDomain}:${port}`,
    stop: async () => {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      if (!opts.dynamodbEndpoint) rmSync(stateFile(dataDir), { force: true });
      await dynamo?.stop();
    },
  };
}

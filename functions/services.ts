import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { config, tableNameFor, type Config } from './config.js';
import { KmsSecretBox } from './crypto/kms-secret-box.js';
import { LocalSecretBox } from './crypto/local-secret-box.js';
import type { SecretBox } from './crypto/secret-box.js';
import { sharedOutbox } from './mail/local-outbox.js';
import type { Mailer } from './mail/mailer.js';
import { count } from './metrics.js';
import { REGIONS, type RegionCode } from './regions.js';
import { KmsSigner } from './signing/kms-signer.js';
import { LocalSigner } from './signing/local-signer.js';
import type { PublicJwk, Signer } from './signing/signer.js';
import { TenantKeyrings } from './signing/tenant-keyring.js';
import { initialKeys, KEY_LIST_CACHE_MS, SIGNING_KEYS_KEY } from './signing/tenant-keys.js';
import { DynamoStore } from './store/dynamo-store.js';
import type { TenantStore } from './store/tenant-store.js';
import { logger } from './log.js';
import { TenantRepository } from './tenants/tenant-repository.js';

/**
 * The composition root: the adapters for one region, built once per container (or once per region
 * in the local server) and reused by every request. The only module, with the adapters themselves,
 * that knows about the AWS SDK. The region's whole table is not among the services: only the tenant
 * registry holds it, and everything else gets one tenant's slice (`tenants.scoped`).
 */
export interface RegionServices {
  region: RegionCode;
  config: Config;
  /**
   * The signer of one tenant's tokens: the tenant's own keys (`SIGNER=tenant`), or the region's
   * one key (`kms`, `local`).
   */
  signerFor(store: TenantStore): Signer;
  /** Seals the secrets that must be kept for reuse (TOTP secrets): KMS on AWS. */
  secretBox: SecretBox;
  tenants: TenantRepository;
  mailer: Mailer;
}

const services = new Map<RegionCode, Promise<RegionServices>>();

export function dynamoClient(cfg: Config, region: RegionCode): DynamoDBClient {
  const client = new DynamoDBClient({
    region: cfg.dynamodbEndpoint ? 'local' : REGIONS[region].awsRegion,
    ...(cfg.dynamodbEndpoint
      ? {
          endpoint: cfg.dynamodbEndpoint,
          // DynamoDB Local runs with -sharedDb, so any fixed credentials see the same tables.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    maxAttempts: 3,
    // A hung connection fails fast (and answers 503) instead of holding the Lambda to its timeout.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
  });
  // Counts each DynamoDB call once by command name, before retries (functions/metrics.ts; `npm run bench`).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      count(`dynamodb:${(context.commandName ?? 'unknown').replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return client;
}

async function build(cfg: Config, region: RegionCode): Promise<RegionServices> {
  let kmsClient: KMSClient | undefined;
  const kms = () => (kmsClient ??= new KMSClient({ region: REGIONS[region].awsRegion, maxAttempts: 3 }));
  const secretBox = countedSecretBox(buildSecretBox(cfg, region, kms));
  const tenants = new TenantRepository(
    new DynamoStore(tableNameFor(cfg, region), dynamoClient(cfg, region)),
    region,
    cfg.tenantCacheSeconds * 1000,
    // Every new tenant gets its own signing keys, written with it (functions/signing/tenant-keys.ts).
    async (tenantId) => ({ key: SIGNING_KEYS_KEY, item: { ...(await initialKeys(secretBox, tenantId)) } }),
  );
  return {
    region,
    config: cfg,
    signerFor: await buildSigners(cfg, region, kms, secretBox),
    secretBox,
    tenants,
    mailer: await buildMailer(cfg, region),
  };
}

/** `SIGNER=tenant`: each tenant's keyring; `kms`/`local`: the region's one key for every tenant. */
async function buildSigners(
  cfg: Config,
  region: RegionCode,
  kms: () => KMSClient,
  secretBox: SecretBox,
): Promise<(store: TenantStore) => Signer> {
  const kmsIds = [cfg.kmsKeyId, ...cfg.kmsPreviousKeyIds]
    .filter((id): id is string => Boolean(id))
    .map((id) => id.replaceAll('{region}', region));
  if (cfg.signer === 'tenant') {
    // Migration from SIGNER=kms: the region keys still configured stay in every JWKS
    // (verification only) until the tokens they signed have expired and they are unset.
    const regionKeys = kmsIds.length ? new KmsSigner(kms(), kmsIds[0]!, kmsIds.slice(1)) : undefined;
    const extraKeys = async (): Promise<PublicJwk[]> =>
      regionKeys
        ? regionKeys.publicKeys().catch((err: unknown) => {
            logger.warn('the region KMS key is unavailable for the JWKS', { reason: String(err) });
            return [];
          })
        : [];
    const keyrings = new TenantKeyrings(secretBox, {
      extraKeys,
      listCacheMs: Math.min(cfg.tenantCacheSeconds * 1000, KEY_LIST_CACHE_MS),
    });
    return (store) => keyrings.for(store);
  }
  let signer: Signer;
  if (cfg.signer === 'kms') {
    if (!cfg.kmsKeyId) throw new Error('SIGNER=kms needs KMS_KEY_ID');
    signer = new KmsSigner(kms(), kmsIds[0]!, kmsIds.slice(1));
  } else {
    signer = await LocalSigner.open(cfg.localKeysDir, region);
  }
  // Counts signatures (the keyrings count their own); the signer object itself is kept (the local one can rotate).
  const signJwt = signer.signJwt.bind(signer);
  signer.signJwt = (payload, header) => {
    count('signer:signJwt');
    return signJwt(payload, header);
  };
  return () => signer;
}

function buildSecretBox(cfg: Config, region: RegionCode, kms: () => KMSClient): SecretBox {
  if (cfg.secretBox === 'local') return LocalSecretBox.open(cfg.localKeysDir, region);
  if (!cfg.secretsKeyId) throw new Error('SECRET_BOX=kms needs SECRETS_KEY_ID');
  return new KmsSecretBox(kms(), cfg.secretsKeyId.replaceAll('{region}', region));
}

/** Counts seals and opens (each one a KMS call on AWS) for the benchmark, like signatures. */
function countedSecretBox(box: SecretBox): SecretBox {
  return {
    seal: (plaintext, context) => {
      count('secretBox:seal');
      return box.seal(plaintext, context);
    },
    open: (sealed, context) => {
      count('secretBox:open');
      return box.open(sealed, context);
    },
  };
}

async function buildMailer(cfg: Config, region: RegionCode): Promise<Mailer> {
  if (cfg.mailer === 'local') return sharedOutbox(cfg.localOutboxDir);
  const from = cfg.mailFrom;
  if (!from) throw new Error('MAILER=ses needs MAIL_FROM');
  // The SES client is loaded on the first mail, so the many functions that never send one (and
  // every cold start) do not pay for it.
  let ses: Promise<Mailer> | undefined;
  const load = async (): Promise<Mailer> => {
    const [{ SESv2Client }, { SesMailer }] = await Promise.all([
      import('@aws-sdk/client-sesv2'),
      import('./mail/ses-mailer.js'),
    ]);
    return new SesMailer(new SESv2Client({ region: REGIONS[region].awsRegion, maxAttempts: 3 }), from);
  };
  return {
    send: async (mail) => {
      ses ??= load();
      ses.catch(() => (ses = undefined));
      return (await ses).send(mail);
    },
  };
}

export function servicesFor(region: RegionCode, cfg: Config = config()): Promise<RegionServices> {
  let s = services.get(region);
  if (!s) {
    s = build(cfg, region);
    services.set(region, s);
    s.catch(() => services.delete(region));
  }
  return s;
}

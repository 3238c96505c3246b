import { AwsApi, staticCredentials } from './aws/json-api.js';
import { config, tableNameFor, type Config } from './config.js';
import { KmsSecretBox } from './crypto/kms-secret-box.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { Mailer } from './mail/mailer.js';
import { count } from './metrics.js';
import { REGIONS, type RegionCode } from './regions.js';
import { KmsSigner } from './signing/kms-signer.js';
import type { PublicJwk, Signer } from './signing/signer.js';
import { TenantKeyrings } from './signing/tenant-keyring.js';
import { initialKeys, KEY_LIST_CACHE_MS, SIGNING_KEYS_KEY } from './signing/tenant-keys.js';
import { DynamoStore } from './store/dynamo-store.js';
import type { TenantStore } from './store/tenant-store.js';
import type { Texter } from './texting/texter.js';
import { logger } from './log.js';
import { sqsLogoutDelivery } from './adapters/sqs-logout.js';
import { inProcessDelivery, type LogoutDelivery } from './oidc/logout-delivery.js';
import { TenantRepository } from './tenants/tenant-repository.js';

/**
 * The composition root: the adapters for one region, built once per container (or once per region
 * in the local server) and reused by every request. The only module, with the adapters themselves,
 * that knows about AWS (through `aws/json-api.ts`, not the AWS SDK: docs/architecture.md). The region's whole table is not among the services: only the tenant
 * registry holds it, and everything else gets one tenant's slice (`tenants.scoped`).
 *
 * The adapters every route of a tenant needs (DynamoDB, KMS) are built here. The others are
 * registered by the entry point that needs them (`registerAdapters`), so a Lambda bundle carries
 * only what its route uses: the handlers of the routes that send mail import
 * `adapters/ses.ts`; the local server imports `adapters/local.ts` (local signer, secret box and
 * outbox), which no Lambda bundle contains.
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
  /** SMS: End User Messaging SMS on AWS (`TEXTER=sms-voice`), the mail outbox locally; none with `TEXTER=none`. */
  texter: Texter | undefined;
  /** Back-channel logout tokens: to the SQS queue when `LOGOUT_QUEUE_URL` is set, else in-process. */
  logoutDelivery: LogoutDelivery;
}

/** Builders of the adapters an entry point registers (see above). */
export interface AdapterFactories {
  /** `MAILER=ses`: SES in the region (`adapters/ses.ts`). */
  sesMailer?: (cfg: Config, region: RegionCode) => Mailer;
  /** `MAILER=local`: the outbox folder (`adapters/local.ts`). */
  localMailer?: (cfg: Config) => Mailer;
  /** `TEXTER=sms-voice`: End User Messaging SMS in the region (`adapters/sms-voice.ts`). */
  smsTexter?: (cfg: Config, region: RegionCode) => Texter;
  /** `TEXTER=local`: the outbox folder, the same as mail's (`adapters/local.ts`). */
  localTexter?: (cfg: Config) => Texter;
  /** `SIGNER=local`: the development keys on disk (`adapters/local.ts`). */
  localSigner?: (cfg: Config, region: RegionCode) => Promise<Signer>;
  /** `SECRET_BOX=local`: AES-256-GCM with a key on disk (`adapters/local.ts`). */
  localSecretBox?: (cfg: Config, region: RegionCode) => SecretBox;
}

const factories: AdapterFactories = {};

/** Called by an entry point before its first request, at module load. */
export function registerAdapters(more: AdapterFactories): void {
  Object.assign(factories, more);
}

/** A configuration that needs an adapter this bundle was built without is a deployment error. */
function missing(what: string, module: string): Error {
  return new Error(`${what} is not available in this function: its entry point does not import ${module}`);
}

const services = new Map<RegionCode, Promise<RegionServices>>();

/** The region's DynamoDB client (`aws/json-api.ts`); DynamoDB Local when `DYNAMODB_ENDPOINT` is set. */
export function dynamoClient(cfg: Config, region: RegionCode): AwsApi {
  const client = new AwsApi({
    service: 'dynamodb',
    region: cfg.dynamodbEndpoint ? 'local' : REGIONS[region].awsRegion,
    ...(cfg.dynamodbEndpoint
      ? {
          endpoint: cfg.dynamodbEndpoint,
          // DynamoDB Local runs with -sharedDb, so any fixed credentials see the same tables.
          credentials: staticCredentials({ accessKeyId: 'local', secretAccessKey: 'local' }),
        }
      : {}),
    maxAttempts: 3,
    // A hung connection fails fast (and answers 503) instead of holding the Lambda to its timeout.
    timeoutMs: 3_000,
  });
  // Counts each DynamoDB call once by operation, retries not counted (functions/metrics.ts; `npm run bench`).
  client.observe((call) => count(`dynamodb:${call.operation}`));
  return client;
}

async function build(cfg: Config, region: RegionCode): Promise<RegionServices> {
  let kmsClient: AwsApi | undefined;
  // KMS in the region, or AWS_ENDPOINT_URL_KMS (any KMS-compatible endpoint), as the SDK would.
  const kms = () =>
    (kmsClient ??= new AwsApi({ service: 'kms', region: REGIONS[region].awsRegion, timeoutMs: 3_000 }));
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
    mailer: buildMailer(cfg, region),
    texter: buildTexter(cfg, region),
    logoutDelivery: cfg.logoutQueueUrl
      ? sqsLogoutDelivery(
          new AwsApi({ service: 'sqs', region: REGIONS[region].awsRegion, timeoutMs: 2_000 }),
          cfg.logoutQueueUrl,
        )
      : inProcessDelivery(),
  };
}

/** `SIGNER=tenant`: each tenant's keyring; `kms`/`local`: the region's one key for every tenant. */
async function buildSigners(
  cfg: Config,
  region: RegionCode,
  kms: () => AwsApi,
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
    if (!factories.localSigner) throw missing('SIGNER=local', 'functions/adapters/local.ts');
    signer = await factories.localSigner(cfg, region);
  }
  // Counts signatures (the keyrings count their own); the signer object itself is kept (the local one can rotate).
  const signJwt = signer.signJwt.bind(signer);
  signer.signJwt = (payload, header) => {
    count('signer:signJwt');
    return signJwt(payload, header);
  };
  return () => signer;
}

function buildSecretBox(cfg: Config, region: RegionCode, kms: () => AwsApi): SecretBox {
  if (cfg.secretBox === 'local') {
    if (!factories.localSecretBox) throw missing('SECRET_BOX=local', 'functions/adapters/local.ts');
    return factories.localSecretBox(cfg, region);
  }
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

/**
 * A port of the kind the entry point registered: the adapter itself when it is registered already
 * (the outbox itself locally: tests read it), else a stand-in that looks it up on first use (the
 * local server loads handler modules, and their registrations, as requests arrive). A route that
 * never uses the port is built without one: it refuses to send, and the route table gives such a
 * route no permission to either.
 */
function registered<P extends object>(
  create: () => P | undefined,
  unavailable: () => Error,
  standIn: (port: () => P) => P,
): P {
  const now = create();
  if (now) return now;
  let later: P | undefined;
  return standIn(() => {
    later ??= create();
    if (!later) throw unavailable();
    return later;
  });
}

function buildMailer(cfg: Config, region: RegionCode): Mailer {
  const local = cfg.mailer === 'local';
  return registered<Mailer>(
    () => (local ? factories.localMailer?.(cfg) : factories.sesMailer?.(cfg, region)),
    () => missing(`MAILER=${cfg.mailer}`, `functions/adapters/${local ? 'local.ts' : 'ses.ts'}`),
    (mailer) => ({ send: async (mail) => mailer().send(mail) }),
  );
}

function buildTexter(cfg: Config, region: RegionCode): Texter | undefined {
  if (cfg.texter === 'none') return undefined;
  const local = cfg.texter === 'local';
  return registered<Texter>(
    () => (local ? factories.localTexter?.(cfg) : factories.smsTexter?.(cfg, region)),
    () => missing(`TEXTER=${cfg.texter}`, `functions/adapters/${local ? 'local.ts' : 'sms-voice.ts'}`),
    (texter) => ({ sendText: async (text) => texter().sendText(text) }),
  );
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

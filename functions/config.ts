import { isRegionCode, REGION_CODES, type RegionCode } from './regions.js';

/**
 * Runtime configuration, read once from the environment. On AWS the CDK stack sets these for every
 * function; locally `bin/server.ts` sets them before it loads any handler. Every variable is
 * documented in the README.
 */
export interface Config {
  /** `<tenant>.<region>.<baseDomain>` is every tenant's host. */
  baseDomain: string;
  /** Region codes this deployment serves; a request for another region gets 421. */
  servedRegions: RegionCode[];
  /** DynamoDB table name; `{region}` is replaced by the region code. */
  tableName: string;
  /** Set locally to the embedded DynamoDB Local endpoint. */
  dynamodbEndpoint: string | undefined;
  /** `kms` on AWS, `local` for development. */
  signer: 'kms' | 'local';
  /** KMS key id/ARN/alias used to sign now (`{region}` replaced by the region code). */
  kmsKeyId: string | undefined;
  /** KMS keys retired but still inside their verification window: still published in the JWKS. */
  kmsPreviousKeyIds: string[];
  /** Where the local signer keeps its development keys (and the local secret box its key). */
  localKeysDir: string;
  /** What seals secrets kept for reuse (TOTP secrets): `kms` on AWS, `local` for development; defaults to `signer`. */
  secretBox: 'kms' | 'local';
  /** Symmetric KMS key id/ARN/alias of the secret box (`{region}` replaced by the region code). */
  secretsKeyId: string | undefined;
  /** `https` on AWS; `http` locally. */
  publicScheme: 'http' | 'https';
  /** Port in public URLs (locally the server's port); empty on AWS. */
  publicPort: string | undefined;
  /** Seconds a tenant record stays cached in a warm container. */
  tenantCacheSeconds: number;
  /** `ses` on AWS (Amazon SES v2); `local` for development (an outbox on stderr and in localOutboxDir). */
  mailer: 'ses' | 'local';
  /** The From address of every mail: an SES-verified identity (required with `MAILER=ses`). */
  mailFrom: string | undefined;
  /** Where the local outbox saves each mail as a JSON file. */
  localOutboxDir: string;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const served = list(env.REGIONS ?? REGION_CODES.join(','));
  const bad = served.filter((r) => !isRegionCode(r));
  if (bad.length > 0) throw new Error(`REGIONS names unknown region code(s): ${bad.join(', ')}`);
  const signer = env.SIGNER ?? 'local';
  if (signer !== 'kms' && signer !== 'local') throw new Error(`SIGNER must be kms or local, not ${signer}`);
  const secretBox = env.SECRET_BOX ?? signer;
  if (secretBox !== 'kms' && secretBox !== 'local') {
    throw new Error(`SECRET_BOX must be kms or local, not ${secretBox}`);
  }
  const mailer = env.MAILER ?? 'local';
  if (mailer !== 'ses' && mailer !== 'local') throw new Error(`MAILER must be ses or local, not ${mailer}`);
  const scheme = env.PUBLIC_SCHEME ?? 'https';
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`PUBLIC_SCHEME must be http or https`);
  return {
    baseDomain: (env.BASE_DOMAIN ?? 'localhost').toLowerCase(),
    servedRegions: served as RegionCode[],
    tableName: env.TABLE_NAME ?? 'identity-{region}',
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    signer,
    kmsKeyId: env.KMS_KEY_ID || undefined,
    kmsPreviousKeyIds: list(env.KMS_PREVIOUS_KEY_IDS),
    localKeysDir: env.LOCAL_KEYS_DIR ?? '.data/signing-keys',
    secretBox,
    secretsKeyId: env.SECRETS_KEY_ID || undefined,
    publicScheme: scheme,
    publicPort: env.PUBLIC_PORT || undefined,
    tenantCacheSeconds: Number(env.TENANT_CACHE_SECONDS ?? 10),
    mailer,
    mailFrom: env.MAIL_FROM || undefined,
    localOutboxDir: env.LOCAL_OUTBOX_DIR ?? '.data/outbox',
  };
}

let cached: Config | undefined;
/** The process-wide configuration (read lazily so the local server can set the environment first). */
export function config(): Config {
  cached ??= readConfig();
  return cached;
}

export function tableNameFor(cfg: Config, region: RegionCode): string {
  return cfg.tableName.replaceAll('{region}', region);
}

/** `https://acme.eu.id.example.com` (or `http://acme.eu.localhost:3000` locally). */
export function tenantOrigin(cfg: Config, slug: string, region: RegionCode): string {
  const port = cfg.publicPort ? `:${cfg.publicPort}` : '';
  return `${cfg.publicScheme}://${slug}.${region}.${cfg.baseDomain}${port}`;
}

/** The issuer of a tenant: its origin plus `/oidc`. */
export function issuerFor(cfg: Config, slug: string, region: RegionCode): string {
  return `${tenantOrigin(cfg, slug, region)}/oidc`;
}

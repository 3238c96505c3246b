import { ENV } from './env-names.js';
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
  /**
   * `tenant` (default): each tenant's own keys, sealed by the secret box and opened once per
   * container; `kms`: the region's KMS key signs every token (one KMS Sign each); `local`: one
   * development key file per region (kept for old data folders).
   */
  signer: 'tenant' | 'kms' | 'local';
  /** KMS key id/ARN/alias used to sign now (`{region}` replaced by the region code). */
  kmsKeyId: string | undefined;
  /**
   * KMS keys retired but still inside their verification window: still published in the JWKS. With
   * `SIGNER=tenant`, `KMS_KEY_ID` and these are published (never used to sign) while tokens they
   * signed before the switch may still be alive.
   */
  kmsPreviousKeyIds: string[];
  /** Where the local signer keeps its development keys (and the local secret box its key). */
  localKeysDir: string;
  /** What seals secrets kept for reuse (TOTP secrets, tenant signing keys): `kms` on AWS, `local` for development; defaults to `kms` with `SIGNER=kms`, else `local`. */
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
  /** Where the local outbox saves each mail and each SMS as a JSON file. */
  localOutboxDir: string;
  /**
   * `sms-voice` on AWS (AWS End User Messaging SMS); `local` for development (the outbox, like
   * mail); `none` where no origination identity is deployed (every SMS is refused as `unavailable`).
   */
  texter: 'sms-voice' | 'local' | 'none';
  /** What SMS is sent from with `TEXTER=sms-voice`: a phone number, sender id or pool (id or ARN). */
  smsOriginationIdentity: string | undefined;
  /** The configuration set each SMS names (event destinations, spend limit); optional. */
  smsConfigurationSet: string | undefined;
  /**
   * The Microsoft Entra ID authority whose `id_token_hint`s the Entra integration accepts:
   * `https://login.microsoftonline.com` by default, another for a sovereign cloud. https only, except
   * a loopback `http` authority when the server is local (`PUBLIC_SCHEME=http`), to play Entra in tests.
   */
  entraAuthority: string;
  /**
   * The SQS queue URL back-channel logout tokens are sent to (`jobs/deliver-logout.ts` delivers
   * them); unset, they are delivered in-process before the logout answers.
   */
  logoutQueueUrl: string | undefined;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const named = list(env[ENV.regions] ?? REGION_CODES.join(','));
  const served = named.filter(isRegionCode);
  const bad = named.filter((r) => !isRegionCode(r));
  if (bad.length > 0) throw new Error(`${ENV.regions} names unknown region code(s): ${bad.join(', ')}`);
  const signer = env[ENV.signer] || 'tenant';
  if (signer !== 'tenant' && signer !== 'kms' && signer !== 'local')
    throw new Error(`${ENV.signer} must be tenant, kms or local, not ${signer}`);
  const secretBox = env[ENV.secretBox] || (signer === 'kms' ? 'kms' : 'local');
  if (secretBox !== 'kms' && secretBox !== 'local') {
    throw new Error(`${ENV.secretBox} must be kms or local, not ${secretBox}`);
  }
  const mailer = env[ENV.mailer] ?? 'local';
  if (mailer !== 'ses' && mailer !== 'local')
    throw new Error(`${ENV.mailer} must be ses or local, not ${mailer}`);
  const texter = env[ENV.texter] ?? 'local';
  if (texter !== 'sms-voice' && texter !== 'local' && texter !== 'none')
    throw new Error(`${ENV.texter} must be sms-voice, local or none, not ${texter}`);
  const scheme = env[ENV.publicScheme] ?? 'https';
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`${ENV.publicScheme} must be http or https`);
  return {
    baseDomain: (env[ENV.baseDomain] ?? 'localhost').toLowerCase(),
    servedRegions: served,
    tableName: env[ENV.tableName] ?? 'identity-{region}',
    dynamodbEndpoint: env[ENV.dynamodbEndpoint] || undefined,
    signer,
    kmsKeyId: env[ENV.kmsKeyId] || undefined,
    kmsPreviousKeyIds: list(env[ENV.kmsPreviousKeyIds]),
    localKeysDir: env[ENV.localKeysDir] ?? '.data/signing-keys',
    secretBox,
    secretsKeyId: env[ENV.secretsKeyId] || undefined,
    publicScheme: scheme,
    publicPort: env[ENV.publicPort] || undefined,
    tenantCacheSeconds: Number(env[ENV.tenantCacheSeconds] ?? 10),
    mailer,
    mailFrom: env[ENV.mailFrom] || undefined,
    localOutboxDir: env[ENV.localOutboxDir] ?? '.data/outbox',
    texter,
    smsOriginationIdentity: env[ENV.smsOriginationIdentity] || undefined,
    smsConfigurationSet: env[ENV.smsConfigurationSet] || undefined,
    entraAuthority: entraAuthority(env[ENV.entraAuthority], scheme),
    logoutQueueUrl: env[ENV.logoutQueueUrl] || undefined,
  };
}

function entraAuthority(value: string | undefined, scheme: string): string {
  const raw = value || 'https://login.microsoftonline.com';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${ENV.entraAuthority} must be a URL, not ${raw}`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && loopback && scheme === 'http');
  if (!ok || url.search || url.hash)
    throw new Error(
      `${ENV.entraAuthority} must be an https URL (http only for a loopback address on the local server)`,
    );
  return raw.replace(/\/+$/, '');
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

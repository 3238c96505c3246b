/**
 * Operator CLI: `npm run admin -- <verb> [options]`. Every verb prints exactly one JSON object on
 * stdout (and nothing else there), so it can be piped into `jq`; notes go to stderr.
 *
 *   create-tenant --slug acme --region us [--name "Acme"] [--color "#0f766e"]
 *   update-tenant --slug acme --region us [--name "Acme"] [--color "#0f766e"] [--default-outcome CHALLENGE]
 *   list-tenants  [--region us]
 *   rotate-secret --slug acme --region us
 *   rotate-keys   --slug acme --region us
 *   revoke-key    --slug acme --region us --kid <kid>
 *   delete-tenant --slug acme --region us --yes
 *   audit-events  --slug acme --region us [--type client.created] [--user u1] [--since <ISO time>] [--follow]
 *
 * Target: the local server's DynamoDB Local when one runs (or its data folder exists); else the
 * deployed table of the region when AWS credentials are configured (AWS_PROFILE, AWS_ACCESS_KEY_ID,
 * web identity); else a local database in the data folder. `--target local|aws` forces it.
 */
// The SDK's Node 20 notice would only clutter an operator's terminal; the README states Node 22 is the target.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// The SDK's credential chain (profiles, SSO, web identity...) for an operator; the functions read theirs from the environment.
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { AwsApi, type CredentialProvider } from '../functions/aws/json-api.js';
import { KmsSecretBox } from '../functions/crypto/kms-secret-box.js';
import { LocalSecretBox } from '../functions/crypto/local-secret-box.js';
import type { SecretBox } from '../functions/crypto/secret-box.js';
import {
  initialKeys,
  revokeKey,
  rotateKeys,
  SIGNING_KEYS_KEY,
  UnknownKeyError,
} from '../functions/signing/tenant-keys.js';
import { REGIONS, REGION_CODES, isRegionCode, type RegionCode } from '../functions/regions.js';
import { DynamoStore } from '../functions/store/dynamo-store.js';
import {
  InvalidSlugError,
  SlugTakenError,
  TenantRepository,
  UnknownTenantError,
} from '../functions/tenants/tenant-repository.js';
import { brandColorSchema, type Outcome, type Tenant } from '../functions/tenants/tenant.js';
import {
  ensureTable,
  JavaMissingError,
  localClient,
  startDynamoLocal,
  type DynamoLocal,
} from '../local/dynamodb-local.js';
import { readServerState } from '../local/start.js';
import { recordAudit } from '../functions/audit/record.js';
import type { AuditQuery } from '../functions/audit/query.js';
import { auditEvents, auditFilters, followAuditEvents } from './admin-audit.js';
import {
  patchSettingsSchema,
  settingsFields,
  type SettingsPatch,
} from '../functions/tenants/settings-schema.js';
import { settingsOf } from '../functions/tenants/settings.js';

/** The operator CLI acts as the operator in audit events; it has no address or user agent. */
const OPERATOR = { actor: { kind: 'operator' as const } };

class UsageError extends Error {}
/** `--help`: the usage goes to stdout and the exit code is 0. */
class HelpRequested extends Error {}

const USAGE = `usage: npm run admin -- <verb> [options]
  create-tenant --slug <slug> --region <us|au|eu> [--name <display name>] [--color <#rrggbb>]
  update-tenant --slug <slug> --region <us|au|eu> [--name <display name>] [--color <#rrggbb>] [--default-outcome ALLOW|CHALLENGE|BLOCK]
                [--sign-up off|email] [--sign-up-authenticator required|optional] [--sms-countries <US,NZ,…|none>]
  list-tenants  [--region <us|au|eu>]
  rotate-secret --slug <slug> --region <us|au|eu>
  rotate-keys   --slug <slug> --region <us|au|eu>
  revoke-key    --slug <slug> --region <us|au|eu> --kid <kid>
  delete-tenant --slug <slug> --region <us|au|eu> --yes
  audit-events  --slug <slug> --region <us|au|eu> [--type <event type>] [--user <userId>] [--since <ISO time>] [--follow]
options: --target local|aws   --data-dir .data   --base-domain <domain> (AWS; default $BASE_DOMAIN)`;

interface Target {
  kind: 'local' | 'aws';
  repo(region: RegionCode): TenantRepository;
  /** What seals tenant signing keys: the region's KMS secrets key on AWS, the local server's key locally. */
  box(region: RegionCode): SecretBox;
  issuer(slug: string, region: RegionCode): string;
  close(): Promise<void>;
}

async function openTarget(opts: { target?: string; dataDir: string; baseDomain?: string }): Promise<Target> {
  const state = readServerState(opts.dataDir);
  const hasLocalData = existsSync(join(opts.dataDir, 'dynamodb'));
  // Without a local server or local data, AWS only when credentials are configured: a newcomer who
  // runs the CLI before `npm start` gets a local database, not an AWS error.
  const awsConfigured = Boolean(
    process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE || process.env.AWS_WEB_IDENTITY_TOKEN_FILE,
  );
  const wantAws =
    opts.target === 'aws' || (opts.target === undefined && !state && !hasLocalData && awsConfigured);
  if (opts.target && opts.target !== 'aws' && opts.target !== 'local')
    throw new UsageError('--target is local or aws');

  if (wantAws) {
    await requireAwsCredentials();
    const base = opts.baseDomain ?? process.env.BASE_DOMAIN;
    if (!base)
      throw new UsageError('against AWS, give --base-domain (or set BASE_DOMAIN) so issuers can be printed');
    const credentials: CredentialProvider = defaultProvider();
    const api = (service: 'dynamodb' | 'kms', region: RegionCode) =>
      new AwsApi({ service, region: REGIONS[region].awsRegion, credentials, timeoutMs: 10_000 });
    const box = (region: RegionCode): SecretBox =>
      new KmsSecretBox(
        api('kms', region),
        (process.env.SECRETS_KEY_ID ?? `alias/identity-secrets-{region}`).replaceAll('{region}', region),
      );
    return {
      kind: 'aws',
      box,
      repo: (region) => {
        return new TenantRepository(
          new DynamoStore(`identity-${region}`, api('dynamodb', region)),
          region,
          0,
          starter(box(region)),
        );
      },
      issuer: (slug, region) => `https://${slug}.${region}.${base}/oidc`,
      close: async () => undefined,
    };
  }

  // Local: the running server's DynamoDB Local, or our own on the same data folder while it is down.
  let dynamo: DynamoLocal | undefined;
  const endpoint =
    state?.dynamodbEndpoint ??
    (dynamo = await startDynamoLocal({ path: join(opts.dataDir, 'dynamodb') })).endpoint;
  const tableName = state?.tableName ?? 'identity-{region}';
  const port = state?.port ?? Number(process.env.PORT ?? 3000);
  const base = state?.baseDomain ?? process.env.BASE_DOMAIN ?? 'localhost';
  const client = localClient(endpoint);
  if (!state) for (const r of REGION_CODES) await ensureTable(client, tableName.replaceAll('{region}', r));
  const keysDir = state?.keysDir ?? join(opts.dataDir, 'signing-keys');
  const box = (region: RegionCode): SecretBox => LocalSecretBox.open(keysDir, region);
  return {
    kind: 'local',
    box,
    repo: (region) =>
      new TenantRepository(
        new DynamoStore(tableName.replaceAll('{region}', region), client),
        region,
        0,
        starter(box(region)),
      ),
    issuer: (slug, region) => `http://${slug}.${region}.${base}:${port}/oidc`,
    close: async () => {
      client.destroy();
      await dynamo?.stop();
    },
  };
}

/** AWS's default credential chain (environment, profiles, SSO, roles) must yield credentials. */
async function requireAwsCredentials(): Promise<void> {
  try {
    await defaultProvider()();
  } catch {
    throw new Error(
      '--target aws needs AWS credentials and none were found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws configure` or `aws sso login` first.',
    );
  }
}

/** A new tenant's signing keys, written with it (as the functions do). */
const starter = (box: SecretBox) => async (tenantId: string) => ({
  key: SIGNING_KEYS_KEY,
  item: { ...(await initialKeys(box, tenantId)) },
});

function region(value: string | undefined, required = true): RegionCode | undefined {
  if (value === undefined) {
    if (required) throw new UsageError('--region is required (us, au or eu)');
    return undefined;
  }
  if (!isRegionCode(value))
    throw new UsageError(`unknown region "${value}": use one of ${REGION_CODES.join(', ')}`);
  return value;
}

function slug(value: string | undefined): string {
  if (!value) throw new UsageError('--slug is required');
  return value;
}

function describe(t: Tenant, issuer: string) {
  return { tenantId: t.id, slug: t.slug, region: t.region, name: t.name, issuer, createdAt: t.createdAt };
}

const VERBS = [
  'create-tenant',
  'update-tenant',
  'list-tenants',
  'rotate-secret',
  'rotate-keys',
  'revoke-key',
  'delete-tenant',
  'audit-events',
];

interface Command {
  verb: string;
  region: RegionCode | undefined;
  slug: string | undefined;
  outcome: string | undefined;
  /** The settings update-tenant changes (functions/tenants/settings.ts), validated. */
  settings?: SettingsPatch;
  values: {
    name?: string;
    color?: string;
    kid?: string;
    target?: string;
    'data-dir'?: string;
    'base-domain'?: string;
    type?: string;
    user?: string;
    since?: string;
    follow?: boolean;
  };
  audit?: AuditQuery;
}

/** The command line, validated entirely before any database is touched. */
function parseCommand(argv: string[]): Command {
  const { positionals, values } = parseOptions(argv);
  const verb = positionals[0];
  if (values.help) throw new HelpRequested(USAGE);
  if (!verb) throw new UsageError(USAGE);
  if (!VERBS.includes(verb)) throw new UsageError(`unknown verb "${verb}"\n${USAGE}`);
  const r = region(values.region, verb !== 'list-tenants');
  const s = verb === 'list-tenants' ? undefined : slug(values.slug);
  if (values.color !== undefined && !brandColorSchema.safeParse(values.color).success) {
    throw new UsageError('--color is a hex colour like #0f766e');
  }
  const outcome = values['default-outcome'];
  if (outcome !== undefined && !['ALLOW', 'CHALLENGE', 'BLOCK'].includes(outcome)) {
    throw new UsageError('--default-outcome is ALLOW, CHALLENGE or BLOCK');
  }
  const settings = settingsOptions(values);
  if (verb === 'update-tenant' && !values.name && !values.color && !outcome && !settings) {
    throw new UsageError(
      'update-tenant needs --name, --color, --default-outcome, --sign-up, --sign-up-authenticator or --sms-countries',
    );
  }
  if (verb === 'revoke-key' && !values.kid) throw new UsageError('revoke-key needs --kid (from the JWKS)');
  if (verb === 'delete-tenant' && !values.yes)
    throw new UsageError("delete-tenant deletes all of the tenant's data: add --yes");
  const audit = verb === 'audit-events' ? auditFilters(values) : undefined;
  if (typeof audit === 'string') throw new UsageError(audit);
  return {
    verb,
    region: r,
    slug: s,
    outcome,
    values,
    ...(audit ? { audit } : {}),
    ...(settings ? { settings } : {}),
  };
}

/** `--sign-up`, `--sign-up-authenticator` and `--sms-countries` as a settings patch, or undefined. */
function settingsOptions(values: Record<string, string | boolean | undefined>): SettingsPatch | undefined {
  const countries = values['sms-countries'];
  const raw = {
    ...(values['sign-up'] !== undefined ? { signUp: values['sign-up'] } : {}),
    ...(values['sign-up-authenticator'] !== undefined
      ? { signUpAuthenticator: values['sign-up-authenticator'] }
      : {}),
    ...(typeof countries === 'string'
      ? {
          sms: {
            allowedCountries:
              countries === 'none' ? [] : countries.split(',').map((c) => c.trim().toUpperCase()),
          },
        }
      : {}),
  };
  if (Object.keys(raw).length === 0) return undefined;
  const parsed = patchSettingsSchema.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(
      parsed.error.issues.map((i) => `--${cliName(String(i.path[0]))}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

const cliName = (key: string) =>
  ({ signUp: 'sign-up', signUpAuthenticator: 'sign-up-authenticator', sms: 'sms-countries' })[key] ?? key;

/**
 * A key id is an RFC 7638 thumbprint (base64url), so it may begin with "-", which node:util's
 * parser takes for an option: `--kid -Xy…` is passed on as `--kid=-Xy…`.
 */
function kidValueJoined(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--kid' && next?.startsWith('-') && next !== '--') {
      out.push(`--kid=${next}`);
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

/** node:util's parser, its errors (an unknown option, a missing value) turned into usage errors. */
function parseOptions(argv: string[]) {
  try {
    return parseArgs({
      args: kidValueJoined(argv),
      allowPositionals: true,
      options: {
        slug: { type: 'string' },
        region: { type: 'string' },
        name: { type: 'string' },
        color: { type: 'string' },
        'sign-up': { type: 'string' },
        'sign-up-authenticator': { type: 'string' },
        'sms-countries': { type: 'string' },
        kid: { type: 'string' },
        'default-outcome': { type: 'string' },
        target: { type: 'string' },
        'data-dir': { type: 'string' },
        'base-domain': { type: 'string' },
        yes: { type: 'boolean' },
        type: { type: 'string' },
        user: { type: 'string' },
        since: { type: 'string' },
        follow: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // "Unknown option '--slgu'. To specify a positional argument starting with a '-', ..." → the first sentence.
    const first = (err as Error).message.split(/\.\s/)[0]!.replace(/\.$/, '');
    throw new UsageError(`${first}\n${USAGE}`);
  }
}

async function run(target: Target, command: Command): Promise<unknown> {
  const { verb, region: r, slug: s, outcome, values } = command;
  switch (verb) {
    case 'create-tenant': {
      const { tenant, secret } = await target
        .repo(r!)
        .create({ slug: s!, name: values.name, ...(values.color ? { brandColor: values.color } : {}) });
      await recordAudit(
        target.repo(r!).scoped(tenant.id),
        { type: 'tenant.created', detail: { slug: tenant.slug, region: r! } },
        OPERATOR,
      );
      return {
        tenantId: tenant.id,
        slug: tenant.slug,
        region: tenant.region,
        secret,
        issuer: target.issuer(tenant.slug, r!),
      };
    }
    case 'update-tenant': {
      const repo = target.repo(r!);
      const current = await repo.require(s!);
      const tenant = await repo.updateSettings(current.id, {
        ...(values.name ? { name: values.name } : {}),
        ...(values.color ? { brandColor: values.color.toLowerCase() } : {}),
        ...(outcome ? { defaultOutcome: outcome as Outcome } : {}),
        ...settingsFields(command.settings ?? {}),
      });
      const fields = [
        values.name && 'name',
        values.color && 'brandColor',
        outcome && 'defaultOutcome',
        ...Object.keys(settingsFields(command.settings ?? {})),
      ];
      await recordAudit(
        repo.scoped(tenant.id),
        { type: 'tenant.updated', detail: { fields: fields.filter((f): f is string => !!f) } },
        OPERATOR,
      );
      return {
        ...describe(tenant, target.issuer(tenant.slug, r!)),
        defaultOutcome: tenant.defaultOutcome,
        brandColor: tenant.brandColor ?? null,
        settings: settingsOf(tenant),
      };
    }
    case 'rotate-secret': {
      const { tenant, secret } = await target.repo(r!).rotateSecret(s!);
      await recordAudit(
        target.repo(r!).scoped(tenant.id),
        { type: 'tenant.secret_rotated', detail: {} },
        OPERATOR,
      );
      return {
        tenantId: tenant.id,
        slug: tenant.slug,
        region: tenant.region,
        secret,
        issuer: target.issuer(tenant.slug, r!),
      };
    }
    case 'rotate-keys':
    case 'revoke-key':
      return keys(target, verb, r!, s!, values.kid);
    case 'audit-events':
      if (!values.follow) return auditEvents(target.repo(r!), s!, command.audit!);
      await followAuditEvents(target.repo(r!), s!, command.audit!);
      return undefined;
    case 'delete-tenant': {
      const { tenant, itemsDeleted } = await target.repo(r!).delete(s!);
      return { deleted: true, tenantId: tenant.id, slug: tenant.slug, region: tenant.region, itemsDeleted };
    }
    default: {
      const regions = r ? [r] : REGION_CODES;
      const tenants = [];
      for (const code of regions) {
        for (const t of await target.repo(code).list())
          tenants.push(describe(t, target.issuer(t.slug, code)));
      }
      return { tenants };
    }
  }
}

/** Key rotation and revocation (functions/signing/tenant-keys.ts); times as ISO strings. */
async function keys(target: Target, verb: string, r: RegionCode, s: string, kid?: string): Promise<unknown> {
  const repo = target.repo(r);
  const tenant = await repo.require(s);
  const store = repo.scoped(tenant.id);
  const iso = (ms: number) => new Date(ms).toISOString();
  if (verb === 'revoke-key') {
    const out = await revokeKey(store, target.box(r), kid!);
    return { tenantId: tenant.id, slug: tenant.slug, region: r, ...out };
  }
  const { added, retiring } = await rotateKeys(store, target.box(r));
  await recordAudit(
    store,
    { type: 'keys.rotated', detail: { kids: added.map((k) => k.kid), trigger: 'cli' } },
    OPERATOR,
  );
  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    region: r,
    published: added.map((k) => ({ kid: k.kid, alg: k.alg, signsFrom: iso(k.activeFrom) })),
    retiring: retiring.map((k) => ({ kid: k.kid, alg: k.alg, publishedUntil: iso(k.publishedUntil) })),
  };
}

async function main(argv: string[]): Promise<unknown> {
  const command = parseCommand(argv);
  const target = await openTarget({
    target: command.values.target,
    dataDir: command.values['data-dir'] ?? process.env.DATA_DIR ?? '.data',
    baseDomain: command.values['base-domain'],
  });
  try {
    return await run(target, command);
  } finally {
    await target.close();
  }
}

try {
  const out = await main(process.argv.slice(2));
  // Exit once written: fetch's idle keep-alive connections to DynamoDB or KMS would otherwise hold
  // the process open until they time out.
  if (out !== undefined) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`, () => process.exit(0));
  else process.exit(0);
} catch (err) {
  if (err instanceof HelpRequested) {
    process.stdout.write(`${err.message}\n`);
    process.exit(0);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (
    err instanceof SlugTakenError ||
    err instanceof InvalidSlugError ||
    err instanceof UnknownTenantError ||
    err instanceof UnknownKeyError ||
    err instanceof JavaMissingError
  ) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

/**
 * One-command deploys: `npm run deploy -- --region eu` (or `--all`, or `--region us --region au`).
 * Before `cdk deploy` runs, it checks what a first deploy usually trips on and says what is missing
 * in one sentence: AWS credentials (STS GetCallerIdentity), the CDK bootstrap of each target region
 * (the `/cdk-bootstrap/hnb659fds/version` SSM parameter the CDKToolkit stack writes), and a
 * domain with a hosted zone (without one no tenant is reachable). `--dry-run` prints the command
 * without calling AWS. `-c key=value` is passed on to cdk.
 *
 * No SDK client is added for this operator tool: credentials come from the AWS SDK's default chain
 * (through the DynamoDB client already installed), and the two calls are signed with aws4fetch.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { REGION_CODES, REGIONS, isRegionCode, type RegionCode } from '../functions/regions.js';
import { stackName } from '../lib/app.js';

export class UsageError extends Error {}

export const USAGE = `usage: npm run deploy -- (--region <us|au|eu> ... | --all) [--dry-run] [-c key=value ...]
  --region <code>  deploy this region's stack (repeatable)
  --all            deploy every region (${REGION_CODES.join(', ')})
  --dry-run        print the cdk command, call nothing
  -c key=value     CDK context for this deploy (e.g. -c hostedZoneId=Z123 -c hostedZoneName=id.example.com)`;

export interface DeployPlan {
  regions: RegionCode[];
  dryRun: boolean;
  /** `key=value` pairs given with -c / --context. */
  context: string[];
}

/** The command line, validated before anything is called. `help` is asked for, not an error. */
export function parseDeployArgs(argv: string[]): DeployPlan | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        region: { type: 'string', multiple: true },
        all: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        context: { type: 'string', short: 'c', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const asked = values.region ?? [];
  if (values.all && asked.length) throw new UsageError('give --region or --all, not both');
  if (!values.all && !asked.length) throw new UsageError(`say which region to deploy\n${USAGE}`);
  for (const r of asked) {
    if (!isRegionCode(r))
      throw new UsageError(`unknown region "${r}": use one of ${REGION_CODES.join(', ')}`);
  }
  const context = values.context ?? [];
  for (const c of context) {
    if (!/^[A-Za-z][\w:@/-]*=/.test(c)) throw new UsageError(`-c takes key=value, not "${c}"`);
  }
  const regions = values.all ? [...REGION_CODES] : [...new Set(asked as RegionCode[])];
  return { regions, dryRun: values['dry-run'] ?? false, context };
}

/** `npx cdk deploy Identity-eu ... -c key=value ...` as an argument list. */
export function cdkCommand(plan: DeployPlan): string[] {
  return [
    'npx',
    'cdk',
    'deploy',
    ...plan.regions.map(stackName),
    ...plan.context.flatMap((c) => ['--context', c]),
  ];
}

/** What the pre-flight checks ask AWS; injected, so the tests need no AWS. */
export interface AwsChecks {
  /** The account the credentials belong to; throws when there are none or they do not work. */
  account(): Promise<string>;
  /** The CDK bootstrap version in an AWS region, `undefined` when the region is not bootstrapped. */
  bootstrapVersion(awsRegion: string): Promise<number | undefined>;
}

/** The oldest bootstrap stack that aws-cdk-lib 2.x deploys with (its assets need version 6+). */
export const MIN_BOOTSTRAP_VERSION = 6;

/**
 * Context from cdk.json merged with `-c`, as cdk would see it; the checks only read the domain
 * and hosted-zone keys.
 */
export function effectiveContext(
  plan: DeployPlan,
  cdkJson: Record<string, unknown>,
): Record<string, unknown> {
  const ctx: Record<string, unknown> = { ...cdkJson };
  for (const c of plan.context) {
    const i = c.indexOf('=');
    ctx[c.slice(0, i)] = c.slice(i + 1);
  }
  return ctx;
}

/** Without a hosted zone for a region, its tenants would have no reachable host: refuse. */
export function domainProblem(plan: DeployPlan, ctx: Record<string, unknown>): string | undefined {
  if (ctx.domain === 'none') return undefined; // deliberately without a domain (a test deploy)
  const base = typeof ctx.baseDomain === 'string' ? ctx.baseDomain : '';
  if (!base || /(^|\.)example\.(com|org|net)$/.test(base)) {
    return `The base domain is "${base || 'unset'}": give yours with -c baseDomain=id.yourcompany.com (tenants live on <tenant>.<region>.<baseDomain>).`;
  }
  let perRegion: Record<string, unknown> = {};
  try {
    const raw =
      typeof ctx.hostedZones === 'string' ? (JSON.parse(ctx.hostedZones) as unknown) : ctx.hostedZones;
    if (raw && typeof raw === 'object') perRegion = raw as Record<string, unknown>;
  } catch {
    return 'The context hostedZones is not valid JSON.';
  }
  const missing = plan.regions.filter((r) => !perRegion[r] && !(ctx.hostedZoneId && ctx.hostedZoneName));
  if (missing.length) {
    return `No Route 53 hosted zone for ${missing.join(', ')}, so no tenant there would be reachable: give -c hostedZoneId=<id> -c hostedZoneName=<zone> (see docs/deploy.md), or -c domain=none to deploy without one on purpose.`;
  }
  return undefined;
}

/** Runs every check and returns the first problem as one plain sentence, or the account. */
export async function preflight(
  plan: DeployPlan,
  checks: AwsChecks,
  ctx: Record<string, unknown>,
): Promise<{ ok: true; account: string } | { ok: false; message: string }> {
  const domain = domainProblem(plan, ctx);
  if (domain) return { ok: false, message: domain };
  let account: string;
  try {
    account = await checks.account();
  } catch (err) {
    return {
      ok: false,
      message: `No working AWS credentials (${(err as Error).message}): run \`aws configure\` or \`aws sso login\`, or set AWS_PROFILE, then try again.`,
    };
  }
  const missing: string[] = [];
  const old: string[] = [];
  for (const code of plan.regions) {
    const awsRegion = REGIONS[code].awsRegion;
    const version = await checks.bootstrapVersion(awsRegion);
    if (version === undefined) missing.push(awsRegion);
    else if (version < MIN_BOOTSTRAP_VERSION) old.push(awsRegion);
  }
  if (missing.length) {
    return {
      ok: false,
      message: `Account ${account} is not CDK-bootstrapped in ${missing.join(', ')}: run ${missing.map((r) => `\`npx cdk bootstrap aws://${account}/${r}\``).join(' and ')} once, then deploy again.`,
    };
  }
  if (old.length) {
    return {
      ok: false,
      message: `The CDK bootstrap stack in ${old.join(', ')} is older than version ${MIN_BOOTSTRAP_VERSION}: run \`npx cdk bootstrap\` there again to update it.`,
    };
  }
  return { ok: true, account };
}

/** The real checks: the SDK's default credential chain, STS and SSM over SigV4 (aws4fetch). */
async function awsChecks(): Promise<AwsChecks> {
  const [{ AwsClient }, { defaultProvider }] = await Promise.all([
    import('aws4fetch'),
    import('@aws-sdk/credential-provider-node'),
  ]);
  let creds: Awaited<ReturnType<ReturnType<typeof defaultProvider>>> | undefined;
  const aws = async (region: string, service: string) => {
    creds ??= await defaultProvider()();
    return new AwsClient({ ...creds, region, service });
  };
  return {
    async account() {
      const sts = await aws('us-east-1', 'sts');
      const res = await sts.fetch('https://sts.amazonaws.com/', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: 'Action=GetCallerIdentity&Version=2011-06-15',
      });
      if (!res.ok) throw new Error(`STS answered ${res.status}`);
      const body = (await res.json()) as {
        GetCallerIdentityResponse: { GetCallerIdentityResult: { Account: string } };
      };
      return body.GetCallerIdentityResponse.GetCallerIdentityResult.Account;
    },
    async bootstrapVersion(awsRegion) {
      const ssm = await aws(awsRegion, 'ssm');
      const res = await ssm.fetch(`https://ssm.${awsRegion}.amazonaws.com/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
        body: JSON.stringify({ Name: '/cdk-bootstrap/hnb659fds/version' }),
      });
      const body = (await res.json()) as { __type?: string; Parameter?: { Value: string } };
      if (res.ok) return Number(body.Parameter?.Value);
      if (body.__type?.includes('ParameterNotFound')) return undefined;
      throw new Error(`SSM in ${awsRegion} answered ${res.status} ${body.__type ?? ''}`.trim());
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const plan = parseDeployArgs(argv);
  if (plan === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const command = cdkCommand(plan);
  if (plan.dryRun) {
    process.stdout.write(`${command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}\n`);
    return 0;
  }
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const result = await preflight(plan, await awsChecks(), effectiveContext(plan, cdkJson.context ?? {}));
  if (!result.ok) {
    process.stderr.write(`${result.message}\n`);
    return 1;
  }
  process.stderr.write(`Deploying ${plan.regions.map(stackName).join(', ')} to account ${result.account}\n`);
  const run = spawnSync(command[0]!, command.slice(1), { stdio: 'inherit' });
  return run.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`deploy failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

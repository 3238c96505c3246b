/**
 * `npm run deploy`: argument parsing, the cdk command it runs, and the one-sentence messages of its
 * pre-flight checks, with the AWS checks injected (no AWS needed). The script itself is run once
 * with --help and --dry-run to prove what an operator sees.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  cdkCommand,
  domainProblem,
  effectiveContext,
  parseDeployArgs,
  preflight,
  UsageError,
  type AwsChecks,
  type DeployPlan,
} from '../../scripts/deploy.js';

const plan = (argv: string[]): DeployPlan => {
  const p = parseDeployArgs(argv);
  if (p === 'help') throw new Error('unexpected help');
  return p;
};
const ZONED = { baseDomain: 'id.acme.io', hostedZoneId: 'Z123', hostedZoneName: 'id.acme.io' };

function checks(opts: { account?: string; versions?: Record<string, number | undefined> } = {}): AwsChecks & {
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    account: async () => {
      if (!opts.account) throw new Error('Could not load credentials from any providers');
      return opts.account;
    },
    bootstrapVersion: async (region) => {
      asked.push(region);
      return opts.versions ? opts.versions[region] : 27;
    },
  };
}

describe('arguments', () => {
  it('--region picks stacks, repeatable and deduplicated; --all picks every region', () => {
    expect(plan(['--region', 'eu'])).toEqual({ regions: ['eu'], dryRun: false, context: [] });
    expect(plan(['--region', 'us', '--region', 'au', '--region', 'us']).regions).toEqual(['us', 'au']);
    expect(plan(['--all', '--dry-run']).regions).toEqual(['us', 'au', 'eu']);
    expect(plan(['--all', '--dry-run']).dryRun).toBe(true);
    expect(parseDeployArgs(['--help'])).toBe('help');
  });

  it('refuses what it cannot deploy, with a clear usage error', () => {
    const refuse = (argv: string[], message: RegExp) => {
      expect(() => parseDeployArgs(argv)).toThrow(UsageError);
      expect(() => parseDeployArgs(argv)).toThrow(message);
    };
    refuse([], /say which region/);
    refuse(['--region', 'mars'], /unknown region "mars": use one of us, au, eu/);
    refuse(['--region', 'eu', '--all'], /--region or --all, not both/);
    refuse(['--regoin', 'eu'], /Unknown option '--regoin'/);
    refuse(['--region', 'eu', 'extra'], /positional/i);
    refuse(['--region', 'eu', '-c', 'novalue'], /-c takes key=value/);
  });

  it('runs cdk deploy on the chosen stacks with the context given', () => {
    expect(
      cdkCommand(plan(['--region', 'eu', '-c', 'hostedZoneId=Z1', '--context', 'alarmEmail=a@b.io'])),
    ).toEqual([
      'npx',
      'cdk',
      'deploy',
      'Identity-eu',
      '--context',
      'hostedZoneId=Z1',
      '--context',
      'alarmEmail=a@b.io',
    ]);
    expect(cdkCommand(plan(['--all']))).toEqual([
      'npx',
      'cdk',
      'deploy',
      'Identity-us',
      'Identity-au',
      'Identity-eu',
    ]);
  });
});

describe('pre-flight checks', () => {
  it('passes with credentials, bootstrapped regions and a hosted zone, asking only the target regions', async () => {
    const c = checks({ account: '123456789012' });
    expect(await preflight(plan(['--region', 'eu']), c, ZONED)).toEqual({
      ok: true,
      account: '123456789012',
    });
    expect(c.asked).toEqual(['eu-west-1']);
  });

  it('says in one sentence that credentials are missing', async () => {
    const r = await preflight(plan(['--region', 'eu']), checks(), ZONED);
    expect(r).toEqual({
      ok: false,
      message:
        'No working AWS credentials (Could not load credentials from any providers): run `aws configure` or `aws sso login`, or set AWS_PROFILE, then try again.',
    });
  });

  it('names every region that is not bootstrapped, with the command that fixes it', async () => {
    const c = checks({
      account: '123456789012',
      versions: { 'us-west-2': 27, 'eu-west-1': undefined, 'ap-southeast-2': undefined },
    });
    const r = await preflight(plan(['--all']), c, ZONED);
    expect(r).toEqual({
      ok: false,
      message:
        'Account 123456789012 is not CDK-bootstrapped in ap-southeast-2, eu-west-1: run `npx cdk bootstrap aws://123456789012/ap-southeast-2` and `npx cdk bootstrap aws://123456789012/eu-west-1` once, then deploy again.',
    });
    const old = await preflight(
      plan(['--region', 'us']),
      checks({ account: '1', versions: { 'us-west-2': 4 } }),
      ZONED,
    );
    expect(old).toMatchObject({
      ok: false,
      message: expect.stringMatching(/older than version 6/) as unknown,
    });
  });

  it('refuses to deploy tenants nobody can reach: an example domain, or no hosted zone for a region', () => {
    const eu = plan(['--region', 'eu']);
    expect(
      domainProblem(eu, {
        baseDomain: 'id.example.com',
        hostedZoneId: 'Z1',
        hostedZoneName: 'id.example.com',
      }),
    ).toMatch(/^The base domain is "id.example.com": give yours with -c baseDomain=/);
    expect(domainProblem(eu, { baseDomain: 'id.acme.io' })).toMatch(
      /^No Route 53 hosted zone for eu, so no tenant there would be reachable/,
    );
    expect(
      domainProblem(plan(['--all']), {
        baseDomain: 'id.acme.io',
        hostedZones: '{"eu":{"id":"Z1","name":"eu.id.acme.io"}}',
      }),
    ).toMatch(/^No Route 53 hosted zone for us, au,/);
    expect(
      domainProblem(eu, {
        baseDomain: 'id.acme.io',
        hostedZones: '{"eu":{"id":"Z1","name":"eu.id.acme.io"}}',
      }),
    ).toBeUndefined();
    expect(domainProblem(eu, { domain: 'none' })).toBeUndefined();
  });

  it('reads the domain from cdk.json overridden by -c, before calling AWS', async () => {
    const p = plan([
      '--region',
      'eu',
      '-c',
      'baseDomain=id.acme.io',
      '-c',
      'hostedZoneId=Z9',
      '-c',
      'hostedZoneName=id.acme.io',
    ]);
    const ctx = effectiveContext(p, { baseDomain: 'id.example.com', mailFrom: 'x' });
    expect(ctx).toMatchObject({ baseDomain: 'id.acme.io', hostedZoneId: 'Z9', mailFrom: 'x' });
    const c = checks({ account: '123456789012' });
    expect((await preflight(plan(['--region', 'eu']), c, { baseDomain: 'id.example.com' })).ok).toBe(false);
    expect(c.asked).toEqual([]);
  });
});

describe('the script', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/deploy.ts', ...args], { encoding: 'utf8' });

  it('--help prints the usage on stdout and exits 0; a usage error exits 2 on stderr', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run deploy -- /);
    const bad = run('--region', 'mars');
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('unknown region "mars"');
  });

  it('--dry-run prints the cdk command and calls nothing', () => {
    const dry = run(
      '--region',
      'eu',
      '--dry-run',
      '-c',
      'hostedZones={"eu":{"id":"Z1","name":"eu.id.acme.io"}}',
    );
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      `npx cdk deploy Identity-eu --context 'hostedZones={"eu":{"id":"Z1","name":"eu.id.acme.io"}}'\n`,
    );
  });
});

import { Tags, type App } from 'aws-cdk-lib';
import { REGION_CODES, REGIONS, type RegionCode } from '../functions/regions.js';
import { regionSettings } from './context.js';
import { IdentityStack } from './identity-stack.js';

export const stackName = (code: RegionCode): string => `Identity-${code}`;

/**
 * One stack per region, each pinned to its AWS region. The account comes from the CLI's
 * environment (`CDK_DEFAULT_ACCOUNT`); without it the stacks are still synthesizable.
 */
export function addRegionStacks(app: App, account = process.env.CDK_DEFAULT_ACCOUNT): IdentityStack[] {
  return REGION_CODES.map((code) => {
    const stack = new IdentityStack(app, stackName(code), {
      stackName: stackName(code),
      env: { account, region: REGIONS[code].awsRegion },
      description: `Identity provider, region ${code} (${REGIONS[code].place})`,
      settings: regionSettings(app.node, code),
    });
    Tags.of(stack).add('service', 'identity');
    Tags.of(stack).add('region-code', code);
    return stack;
  });
}

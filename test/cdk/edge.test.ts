import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { routes } from '../../functions/routes.js';
import { STAGE_NAME, STRICT_ROUTES } from '../../lib/api.js';
import { addRegionStacks } from '../../lib/app.js';
import { LATENCY_ROUTES } from '../../lib/monitoring.js';
import { ContextError, regionSettings } from '../../lib/context.js';
import { IdentityStack } from '../../lib/identity-stack.js';
import {
  CODE_STEPS,
  COMMON_RULES_COUNTED,
  EDGE_LIMITS,
  RATE_LIMITED_BODY,
  RULES,
  STRICT_PATHS,
} from '../../lib/waf.js';

// Synthesizing the regional stacks (a REST API with every route's methods) takes tens of seconds
// when the machine is busy; a test that synthesizes waits for it rather than failing on the clock.
vi.setConfig({ testTimeout: 180_000 });

const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const ZONE = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'id.example.com' };

function app(context: Record<string, unknown>): App {
  return new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], ...context } });
}

type Rule = {
  Name: string;
  Priority: number;
  Action?: Record<string, unknown>;
  OverrideAction?: Record<string, unknown>;
  Statement: Record<string, Record<string, unknown>>;
  VisibilityConfig: {
    CloudWatchMetricsEnabled: boolean;
    SampledRequestsEnabled: boolean;
    MetricName: string;
  };
};
type RateStatement = {
  Limit: number;
  EvaluationWindowSec: number;
  AggregateKeyType: string;
  CustomKeys?: unknown[];
  ScopeDownStatement?: unknown;
};

const HOST_KEY = { Header: { Name: 'host', TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }] } };
const BLOCK_429 = {
  Block: {
    CustomResponse: {
      ResponseCode: 429,
      CustomResponseBodyKey: 'tooManyRequests',
      ResponseHeaders: [{ Name: 'retry-after', Value: String(EDGE_LIMITS.retryAfterSeconds) }],
    },
  },
};

describe('edge protection: the web ACL', () => {
  let stack: IdentityStack;
  let t: Template;
  let rules: Map<string, Rule>;
  beforeAll(() => {
    stack = addRegionStacks(app(ZONE), '123456789012').find((s) => s.code === 'eu')!;
    t = Template.fromStack(stack);
    const acl = Object.values(t.findResources('AWS::WAFv2::WebACL'))[0] as {
      Properties: { Rules: Rule[] };
    };
    rules = new Map(acl.Properties.Rules.map((r) => [r.Name, r]));
  });

  const rate = (name: string) => rules.get(name)!.Statement.RateBasedStatement as unknown as RateStatement;

  it('is one REGIONAL web ACL, associated with the REST API stage, allowing by default', () => {
    t.resourceCountIs('AWS::WAFv2::WebACL', 1);
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      Name: stack.firewall.webAclName,
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      VisibilityConfig: {
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: true,
        MetricName: 'identity-eu',
      },
    });
    const aclId = stack.getLogicalId(stack.firewall.webAcl);
    const apiId = stack.getLogicalId(stack.api.restApi.node.defaultChild as CfnElement);
    const stageId = stack.getLogicalId(stack.api.stage.node.defaultChild as CfnElement);
    const association = Object.values(t.findResources('AWS::WAFv2::WebACLAssociation')) as {
      Properties: { ResourceArn: unknown; WebACLArn: unknown };
      DependsOn?: string[];
    }[];
    expect(association).toHaveLength(1);
    expect(association[0]!.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    const arn = JSON.stringify(association[0]!.Properties.ResourceArn);
    expect(arn).toContain(`{"Ref":"${apiId}"}`);
    // The stage's Ref is its name (`STAGE_NAME`): the ARN names this stage of this API.
    expect(arn).toContain(`"/stages/",{"Ref":"${stageId}"}`);
    t.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: STAGE_NAME });
    expect(association[0]!.DependsOn).toContain(stageId);
  });

  it('runs the three AWS managed rule groups, the common one with only the listed rules counting', () => {
    const groups = [...rules.values()]
      .filter((r) => r.Statement.ManagedRuleGroupStatement)
      .map((r) => r.Statement.ManagedRuleGroupStatement as { VendorName: string; Name: string });
    expect(groups.map((g) => `${g.VendorName}/${g.Name}`).sort()).toEqual([
      'AWS/AWSManagedRulesAmazonIpReputationList',
      'AWS/AWSManagedRulesCommonRuleSet',
      'AWS/AWSManagedRulesKnownBadInputsRuleSet',
    ]);
    for (const name of [RULES.ipReputation, RULES.knownBadInputs, RULES.common]) {
      expect(rules.get(name)!.OverrideAction, name).toEqual({ None: {} });
    }
    const common = rules.get(RULES.common)!.Statement.ManagedRuleGroupStatement as {
      RuleActionOverrides: { Name: string; ActionToUse: unknown }[];
    };
    expect(common.RuleActionOverrides).toEqual(
      COMMON_RULES_COUNTED.map((name) => ({ Name: name, ActionToUse: { Count: {} } })),
    );
    // Request objects and pushed authorization requests exceed the rule set's 8 KB body limit.
    expect(COMMON_RULES_COUNTED).toContain('SizeRestrictions_BODY');
    expect(rules.get(RULES.knownBadInputs)!.Statement.ManagedRuleGroupStatement).not.toHaveProperty(
      'RuleActionOverrides',
    );
  });

  it('limits every source address to EDGE_LIMITS.perIp requests per window', () => {
    expect(rate(RULES.perIp)).toEqual({
      Limit: EDGE_LIMITS.perIp,
      EvaluationWindowSec: EDGE_LIMITS.windowSeconds,
      AggregateKeyType: 'IP',
    });
  });

  it('limits POSTs to the strict routes per source address and tenant', () => {
    const strict = rate(RULES.strictPerIp);
    expect(strict).toMatchObject({
      Limit: EDGE_LIMITS.strictPerIp,
      EvaluationWindowSec: EDGE_LIMITS.windowSeconds,
      AggregateKeyType: 'CUSTOM_KEYS',
      CustomKeys: [{ IP: {} }, HOST_KEY],
    });
    expect(strict.ScopeDownStatement).toEqual({
      AndStatement: {
        Statements: [
          {
            ByteMatchStatement: {
              FieldToMatch: { Method: {} },
              PositionalConstraint: 'EXACTLY',
              SearchString: 'POST',
              TextTransformations: [{ Priority: 0, Type: 'NONE' }],
            },
          },
          {
            RegexMatchStatement: {
              FieldToMatch: { UriPath: {} },
              RegexString: STRICT_PATHS,
              TextTransformations: [{ Priority: 0, Type: 'URL_DECODE' }],
            },
          },
        ],
      },
    });
    expect(EDGE_LIMITS.strictPerIp).toBeLessThan(EDGE_LIMITS.perIp);
  });

  it('scopes the strict rule to /init-auth, /oidc/token, /oidc/device and the hosted code steps only', () => {
    const strict = new RegExp(STRICT_PATHS);
    for (const path of [
      '/init-auth',
      '/oidc/token',
      '/oidc/token/',
      '/oidc/device',
      ...CODE_STEPS.map((step) => `/interaction/ix_123/${step}`),
    ]) {
      expect(strict.test(path), path).toBe(true);
    }
    for (const path of [
      '/oidc/token/revocation',
      '/oidc/token/introspection',
      '/oidc/auth',
      '/interaction/ix_123',
      '/interaction/ix_123/cancel',
      '/interaction/ix_123/passkey/options',
      '/interaction/a/b/totp',
      '/v1/clients',
      '/x/init-auth',
    ]) {
      expect(strict.test(path), path).toBe(false);
    }
    // The strict paths are routes of the table, POST ones, and the code steps are real steps.
    const posts = new Set(routes.filter((r) => r.methods.includes('POST')).map((r) => r.path));
    for (const path of ['/init-auth', '/oidc/token', '/oidc/device', '/interaction/{id}/{step}'])
      expect(posts, path).toContain(path);
    const hosted = ['steps.ts', 'login.ts', 'sign-up.ts']
      .map((f) => readFileSync(new URL(`../../functions/hosted/${f}`, import.meta.url), 'utf8'))
      .join('\n');
    for (const step of CODE_STEPS) expect(hosted, step).toMatch(new RegExp(`\\b'?${step}'?\\(`));
  });

  it('gives each tenant (the Host header) a budget of EDGE_LIMITS.perTenant requests per window', () => {
    expect(rate(RULES.perTenant)).toEqual({
      Limit: EDGE_LIMITS.perTenant,
      EvaluationWindowSec: EDGE_LIMITS.windowSeconds,
      AggregateKeyType: 'CUSTOM_KEYS',
      CustomKeys: [HOST_KEY],
    });
    // A tenant's budget is a share of the region, not all of it.
    expect(EDGE_LIMITS.perTenant / EDGE_LIMITS.windowSeconds).toBeLessThan(EDGE_LIMITS.stage.rateLimit);
  });

  it('answers a rate limit with 429, Retry-After and a JSON body in OAuth and Azure AD B2C form', () => {
    for (const name of [RULES.perIp, RULES.strictPerIp, RULES.perTenant]) {
      expect(rules.get(name)!.Action, name).toEqual(BLOCK_429);
    }
    t.hasResourceProperties('AWS::WAFv2::WebACL', {
      CustomResponseBodies: {
        tooManyRequests: { ContentType: 'APPLICATION_JSON', Content: RATE_LIMITED_BODY },
      },
    });
    expect(JSON.parse(RATE_LIMITED_BODY)).toMatchObject({
      error: 'too_many_requests',
      error_description: expect.any(String),
      version: '1.0.0',
      status: 409,
      userMessage: expect.any(String),
    });
  });

  it('puts metrics and sampled requests on every rule, named as the construct exposes them', () => {
    expect([...rules.keys()].sort()).toEqual(Object.values(RULES).sort());
    for (const [name, rule] of rules) {
      expect(rule.VisibilityConfig, name).toEqual({
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: true,
        MetricName: name,
      });
    }
    expect(stack.firewall.metricNames.perTenant).toBe(RULES.perTenant);
    // Unique priorities, reputation list first.
    const priorities = [...rules.values()].map((r) => r.Priority);
    expect(new Set(priorities).size).toBe(priorities.length);
    expect(rules.get(RULES.ipReputation)!.Priority).toBe(0);
  });

  it('disables the execute-api endpoint of a regional REST API', () => {
    t.hasResourceProperties('AWS::ApiGateway::RestApi', {
      DisableExecuteApiEndpoint: true,
      EndpointConfiguration: { Types: ['REGIONAL'], IpAddressType: 'dualstack' },
    });
  });

  it('throttles the strict routes per method, harder than the stage', () => {
    const stage = Object.values(t.findResources('AWS::ApiGateway::Stage'))[0] as {
      Properties: { MethodSettings: Record<string, unknown>[] };
    };
    const settings = stage.Properties.MethodSettings;
    expect(settings).toContainEqual(
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: EDGE_LIMITS.stage.rateLimit,
        ThrottlingBurstLimit: EDGE_LIMITS.stage.burstLimit,
      }),
    );
    for (const { path, method } of STRICT_ROUTES) {
      expect(settings).toContainEqual(
        expect.objectContaining({
          HttpMethod: method,
          ResourcePath: `/${path.replaceAll('/', '~1')}`,
          ThrottlingRateLimit: EDGE_LIMITS.strictMethods.rateLimit,
          ThrottlingBurstLimit: EDGE_LIMITS.strictMethods.burstLimit,
        }),
      );
    }
    // Detailed metrics only on the methods whose p99 is alarmed (lib/monitoring.ts).
    const alarmed = routes
      .filter((r) => (LATENCY_ROUTES as readonly string[]).includes(r.id))
      .flatMap((r) => r.methods.map((method) => ({ path: r.path, method })));
    expect(alarmed.length).toBeGreaterThanOrEqual(3);
    for (const { path, method } of alarmed) {
      expect(settings).toContainEqual(
        expect.objectContaining({
          HttpMethod: method,
          ResourcePath: `/${path.replaceAll('/', '~1')}`,
          MetricsEnabled: true,
        }),
      );
    }
    const keys = new Set([...STRICT_ROUTES, ...alarmed].map(({ path, method }) => `${path} ${method}`));
    expect(settings).toHaveLength(1 + keys.size);
    expect(settings.filter((m) => m.MetricsEnabled === true)).toHaveLength(alarmed.length);
    // Throttled requests get the WAF's JSON body too, not API Gateway's own.
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseParameters: { 'gatewayresponse.header.retry-after': "'1'" },
      ResponseTemplates: { 'application/json': RATE_LIMITED_BODY },
    });
    expect(EDGE_LIMITS.strictMethods.rateLimit).toBeLessThan(EDGE_LIMITS.stage.rateLimit);
  });

  it('has a method for every method of every route of functions/routes.ts', () => {
    const methods = new Set(stack.api.restApi.methods.map((m) => `${m.httpMethod} ${m.resource.path}`));
    for (const route of routes) {
      for (const method of route.methods) expect(methods, route.id).toContain(`${method} ${route.path}`);
    }
  });

  it('maps the custom domain root to the stage', () => {
    t.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      DomainName: Match.anyValue(),
      Stage: { Ref: stack.getLogicalId(stack.api.stage.node.defaultChild as CfnElement) },
    });
  });
});

describe('edge protection: synthesis without a domain', () => {
  it('fails, naming the region and the context keys, when no hosted zone is configured', () => {
    expect(() => addRegionStacks(app({}), '123456789012')).toThrow(ContextError);
    expect(() => addRegionStacks(app({}), '123456789012')).toThrow(
      /Region \w+ has no hosted zone.*hostedZoneId and hostedZoneName.*--context domain=none/,
    );
    // A zone for one region only still leaves the others unreachable.
    expect(() =>
      addRegionStacks(
        app({ hostedZones: { eu: { id: 'ZEU1', name: 'eu.id.example.com' } } }),
        '123456789012',
      ),
    ).toThrow(/Region (us|au) has no hosted zone/);
    expect(() => addRegionStacks(app({ domain: 'nope' }), '123456789012')).toThrow(
      /domain takes only the value none/,
    );
  });

  // Synthesis is the slow part: in a hook (hook timeout), for one region's stack only.
  let unreachable: { stack: IdentityStack; warnings: string[] };
  beforeAll(() => {
    const a = app({ domain: 'none' });
    const stack = new IdentityStack(a, 'Identity-us', {
      env: { account: '123456789012', region: 'us-west-2' },
      settings: regionSettings(a.node, 'us'),
    });
    const messages = a.synth().getStackArtifact(stack.artifactId).messages;
    unreachable = {
      stack,
      warnings: messages.filter((m) => m.level === 'warning').map((m) => String(m.entry.data)),
    };
  });

  it('with domain=none, synthesizes and warns that tenants are unreachable', () => {
    expect(unreachable.stack.domain).toBeUndefined();
    expect(unreachable.warnings).toEqual([
      expect.stringMatching(/No custom domain \(context domain=none\): no tenant on \*\.us\./),
    ]);
    // The web ACL is there all the same.
    Template.fromStack(unreachable.stack).resourceCountIs('AWS::WAFv2::WebACL', 1);
  });
});

describe('edge protection: the documented limits are the deployed ones', () => {
  const security = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');

  it('docs/security.md states every number of EDGE_LIMITS', () => {
    const minutes = EDGE_LIMITS.windowSeconds / 60;
    expect(security).toContain(`${EDGE_LIMITS.perTenant} requests per ${minutes} minutes per tenant`);
    expect(security).toContain(`${EDGE_LIMITS.perIp} requests per ${minutes} minutes per source address`);
    expect(security).toContain(
      `${EDGE_LIMITS.strictPerIp} per ${minutes} minutes per source address and tenant`,
    );
    expect(security).toContain(
      `${EDGE_LIMITS.stage.rateLimit} requests/s, burst ${EDGE_LIMITS.stage.burstLimit}`,
    );
    expect(security).toContain(
      `${EDGE_LIMITS.strictMethods.rateLimit} requests/s, burst ${EDGE_LIMITS.strictMethods.burstLimit}`,
    );
    expect(security).toContain('`lib/waf.ts` `EDGE_LIMITS`');
  });
});

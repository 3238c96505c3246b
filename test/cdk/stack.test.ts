import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Stage, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { REGION_CODES, REGIONS, type RegionCode } from '../../functions/regions.js';
import { fallbackRoute, routes, type Route } from '../../functions/routes.js';
import { ACCESS_LOG_FIELDS, STAGE_NAME, THROTTLE } from '../../lib/api.js';
import { addRegionStacks } from '../../lib/app.js';
import { BUNDLE } from '../../lib/bundling.js';
import { regionSettings } from '../../lib/context.js';
import { IdentityStack } from '../../lib/identity-stack.js';
import { routeBundling } from '../../lib/route-function.js';
import { TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS } from '../../lib/table.js';
import { SECRET_CONTEXT_KEYS } from '../../lib/secrets-key.js';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import type { SecretBox, SecretContext } from '../../functions/crypto/secret-box.js';
import { LocalOutbox } from '../../functions/mail/local-outbox.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { freshStore } from '../support/dynamo.js';

// Synthesizing the regional stacks (a REST API with every route's methods) takes tens of seconds
// when the machine is busy; a test that synthesizes waits for it rather than failing on the clock.
vi.setConfig({ testTimeout: 180_000 });

const ACCOUNT = '123456789012';
const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const PREVIOUS_US = 'arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555';
const PREVIOUS_EU = 'arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000';
/** The condition on the secrets key for tenant signing keys: a tenant context and a signing-key purpose. */
const SIGNING_KEYS_ONLY = {
  Null: { 'kms:EncryptionContext:tenantId': 'false' },
  'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenantId', 'userId', 'purpose'] },
  StringLike: { 'kms:EncryptionContext:purpose': 'signing-key:*' },
};
/** A statement on the secrets key for upstream identity providers' secrets only. */
const IDP_ONLY = (st: { Condition?: unknown }) =>
  JSON.stringify(st.Condition ?? {}).includes('"kms:EncryptionContext:purpose":"identity-provider:*"');
/** An End User Messaging SMS phone number the operator bought (context smsOriginationIdentity). */
const SMS_NUMBER = `arn:aws:sms-voice:us-west-2:${ACCOUNT}:phone-number/phone-0123456789abcdef0123456789abcdef`;
const ZONE = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'id.example.com' };

/**
 * The real app's context (feature flags, baseDomain) and a hosted zone (what a deployment needs:
 * without one, or `domain=none`, synthesis stops), without bundling: tests stay fast.
 */
function app(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON.context, ...ZONE, 'aws:cdk:bundling-stacks': [], ...context } });
}

function synth(context: Record<string, unknown> = {}): Map<RegionCode, IdentityStack> {
  const stacks = addRegionStacks(app(context), ACCOUNT);
  return new Map(stacks.map((s) => [s.code, s]));
}

/**
 * A route table that uses every permission (the real one does not, yet), each entry on a handler
 * module that exists. Proves the stack follows any table, and gives the IAM tests something to find.
 */
const EVERY_PERMISSION: Route[] = [
  ...routes,
  ...(
    [
      ['CdkTestNothing', ['GET'], '/cdk-test/nothing', []],
      ['CdkTestReader', ['GET'], '/cdk-test/reader', ['table:read']],
      ['CdkTestSigner', ['POST'], '/cdk-test/signer', ['table:read', 'table:write', 'kms:sign']],
      ['CdkTestPublisher', ['GET'], '/cdk-test/publisher', ['kms:publicKey']],
      ['CdkTestMailer', ['POST'], '/cdk-test/mailer', ['table:read', 'ses:send']],
      ['CdkTestTexter', ['POST'], '/cdk-test/texter', ['table:read', 'sms:send']],
      ['CdkTestSecrets', ['POST'], '/cdk-test/secrets', ['table:read', 'kms:secrets']],
      ['CdkTestOpener', ['GET'], '/cdk-test/opener', ['table:read', 'kms:secrets:open']],
      ['CdkTestMany', ['GET', 'PATCH', 'DELETE'], '/cdk-test/items/{itemId}', ['table:read', 'table:write']],
    ] as const
  ).map(([id, methods, path, permissions]) => ({
    id,
    methods: [...methods],
    path,
    handler: 'health',
    tenant: true,
    permissions: [...permissions],
    purpose: 'test entry',
  })),
];

function stackWithRoutes(table: Route[], context: Record<string, unknown> = {}): IdentityStack {
  const a = app(context);
  return new IdentityStack(a, 'Identity-us', {
    env: { account: ACCOUNT, region: 'us-west-2' },
    settings: regionSettings(a.node, 'us'),
    routes: table,
  });
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };
type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Synthesizing is the slow part: once per stack. */
const templateCache = new WeakMap<Stack, Template>();
function templateOf(stack: Stack): Template {
  let t = templateCache.get(stack);
  if (!t) {
    t = Template.fromStack(stack);
    templateCache.set(stack, t);
  }
  return t;
}

/** Logical id of the CloudFormation resource behind a route's function, role or log group. */
function idOf(stack: IdentityStack, routeId: string, part: 'fn' | 'role' | 'logGroup'): string {
  const rf = stack.api.functions.get(routeId);
  expect(rf, `a function for route ${routeId}`).toBeDefined();
  return stack.getLogicalId(rf![part].node.defaultChild as CfnElement);
}

/**
 * Active tracing's statement (X-Ray has no resource-level permissions, so it names `*`): checked
 * to be exactly this in test/cdk/operations.test.ts, left out of the least-privilege checks here.
 */
const isXRay = (s: Statement): boolean =>
  JSON.stringify(asList(s.Action).sort()) ===
    JSON.stringify(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']) && s.Resource === '*';

/** Every statement of every policy attached to the role of a route's function (X-Ray aside). */
function statementsOf(stack: IdentityStack, routeId: string): Statement[] {
  const template = templateOf(stack);
  const roleId = idOf(stack, routeId, 'role');
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  const mine = policies.filter((p) =>
    (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
  );
  const inline = ((template.toJSON().Resources[roleId] as Resource).Properties.Policies ?? []) as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return [
    ...mine.map((p) => p.Properties.PolicyDocument as { Statement: Statement[] }),
    ...inline.map((p) => p.PolicyDocument),
  ]
    .flatMap((d) => d.Statement)
    .filter((s) => !isXRay(s));
}

const actionsOf = (statements: Statement[]): Set<string> =>
  new Set(statements.flatMap((s) => asList(s.Action)));

/** Logical id of the region's one signing key (RSA_2048) or one secrets key (SYMMETRIC_DEFAULT). */
function kmsKeyId(t: Template, spec: 'RSA_2048' | 'SYMMETRIC_DEFAULT'): string {
  const keys = Object.entries(t.findResources('AWS::KMS::Key')) as [string, Resource][];
  const found = keys.filter(([, r]) => (r.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT') === spec);
  expect(
    found.map(([id]) => id),
    spec,
  ).toHaveLength(1);
  return found[0]![0];
}

function resourcesFor(statements: Statement[], action: string): unknown[] {
  return statements.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));
}

/** Findings cdk-nag's AWS Solutions pack reports for a stack (acknowledged ones excluded). */
function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`),
  );
}

/** The app synthesized once for every test of the app below (synthesis is the slow part). */
let synthesized: { stacks: Map<RegionCode, IdentityStack>; templates: Map<RegionCode, Template> } | undefined;
function theApp() {
  if (!synthesized) {
    const stacks = synth();
    synthesized = { stacks, templates: new Map([...stacks].map(([code, s]) => [code, templateOf(s)])) };
  }
  return synthesized;
}

describe('the app: stacks, table and keys', () => {
  let stacks: Map<RegionCode, IdentityStack>;
  let templates: Map<RegionCode, Template>;
  beforeAll(() => ({ stacks, templates } = theApp()));

  it('has one stack per region, named Identity-<code>, in that AWS region', () => {
    expect([...stacks.keys()].sort()).toEqual([...REGION_CODES].sort());
    expect(REGION_CODES).toHaveLength(3);
    for (const [code, stack] of stacks) {
      expect(stack.stackName).toBe(`Identity-${code}`);
      expect(stack.region).toBe(REGIONS[code].awsRegion);
      expect(stack.account).toBe(ACCOUNT);
    }
    expect(stacks.get('us')!.region).toBe('us-west-2');
    expect(stacks.get('au')!.region).toBe('ap-southeast-2');
    expect(stacks.get('eu')!.region).toBe('eu-west-1');
  });

  it('has one retained, deletion-protected, on-demand table per region, keyed as TABLE_SCHEMA says', () => {
    for (const [code, t] of templates) {
      t.resourceCountIs('AWS::DynamoDB::Table', 1);
      t.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          TableName: `identity-${code}`,
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: Match.arrayEquals([
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ]),
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          BillingMode: 'PAY_PER_REQUEST',
        },
      });
    }
  });

  it('has one retained RSA_2048 SIGN_VERIFY key per region, aliased alias/identity-signing-<code>', () => {
    for (const [code, t] of templates) {
      t.resourceCountIs('AWS::KMS::Key', 2);
      t.hasResource('AWS::KMS::Key', {
        DeletionPolicy: 'Retain',
        Properties: { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' },
      });
      const keyId = kmsKeyId(t, 'RSA_2048');
      t.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: `alias/identity-signing-${code}`,
        TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
    }
  });

  it('has one retained symmetric secrets key per region, rotated, aliased alias/identity-secrets-<code>', () => {
    for (const [code, t] of templates) {
      const keyId = kmsKeyId(t, 'SYMMETRIC_DEFAULT');
      const key = t.toJSON().Resources[keyId] as Resource & { DeletionPolicy?: string };
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
      expect(key.Properties.KeyUsage ?? 'ENCRYPT_DECRYPT').toBe('ENCRYPT_DECRYPT');
      t.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: `alias/identity-secrets-${code}`,
        TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
      expect((t.toJSON().Outputs as Record<string, { Value: unknown }>).SecretsKeyArn!.Value).toEqual({
        'Fn::GetAtt': [keyId, 'Arn'],
      });
    }
  });
});

describe('the app: functions', () => {
  let stacks: Map<RegionCode, IdentityStack>;
  let templates: Map<RegionCode, Template>;
  beforeAll(() => ({ stacks, templates } = theApp()));

  it('lets only the functions that seal or open TOTP secrets use the secrets key', () => {
    const sealing = routes.filter((r) => r.permissions.includes('kms:secrets')).map((r) => r.id);
    expect(sealing.sort()).toEqual(['InteractionStep', 'UserAuthenticators']);
    const opening = routes.filter((r) => r.permissions.includes('kms:secrets:open')).map((r) => r.id);
    expect(opening).toEqual(['Interaction']);
    for (const [code, t] of templates) {
      const secretsArn = { 'Fn::GetAtt': [kmsKeyId(t, 'SYMMETRIC_DEFAULT'), 'Arn'] };
      for (const route of [...routes, fallbackRoute]) {
        // Upstream providers' secrets: their own statements, bound to their purpose (checked below).
        const statements = statementsOf(stacks.get(code)!, route.id).filter((st) => !IDP_ONLY(st));
        const actions = actionsOf(statements);
        if (sealing.includes(route.id)) {
          // One statement for TOTP secrets and, with kms:sign, one for signing keys: both on the secrets key.
          const statementsOnIt = route.permissions.includes('kms:sign') ? 2 : 1;
          expect(resourcesFor(statements, 'kms:Encrypt'), route.id).toEqual(
            Array(statementsOnIt).fill(secretsArn),
          );
          expect(resourcesFor(statements, 'kms:Decrypt'), route.id).toEqual(
            Array(statementsOnIt).fill(secretsArn),
          );
        } else if (opening.includes(route.id)) {
          expect(actions, route.id).not.toContain('kms:Encrypt');
          expect(resourcesFor(statements, 'kms:Decrypt'), route.id).toEqual([secretsArn]);
        } else if (route.permissions.includes('kms:sign')) {
          // SIGNER=tenant: the token function opens (and first seals) tenant signing keys, nothing else.
          const keyStatements = statements.filter((st) => asList(st.Action).includes('kms:Decrypt'));
          expect(
            keyStatements.map((st) => st.Condition),
            route.id,
          ).toEqual([SIGNING_KEYS_ONLY]);
          expect(resourcesFor(statements, 'kms:Decrypt'), route.id).toEqual([secretsArn]);
          expect(actions, route.id).not.toContain('kms:Sign');
        } else {
          expect(actions, route.id).not.toContain('kms:Encrypt');
          expect(actions, route.id).not.toContain('kms:Decrypt');
        }
        expect(JSON.stringify(statements), route.id).not.toMatch(/"\*"|kms:\*/);
        const idp = statementsOf(stacks.get(code)!, route.id).filter(IDP_ONLY);
        const idpActions = route.permissions.flatMap((p) =>
          p === 'kms:idp-secrets' ? ['kms:Encrypt'] : p === 'kms:idp-secrets:open' ? ['kms:Decrypt'] : [],
        );
        expect(
          idp.flatMap((st) => asList(st.Action)),
          route.id,
        ).toEqual(idpActions);
        for (const st of idp) expect(st.Resource, route.id).toEqual(secretsArn);
      }
    }
  });

  it('has exactly one arm64 nodejs22.x function per route-table entry, with the shared environment', () => {
    for (const [code, t] of templates) {
      // One per entry, plus the `$default` fallback (JSON 404/405, as the local server answers) and
      // the scheduled key rotation and the back-channel logout queue's consumer.
      t.resourceCountIs('AWS::Lambda::Function', routes.length + 3);
      const proxy = Object.entries(t.findResources('AWS::ApiGateway::Resource')).find(
        ([, r]) => (r as Resource).Properties.PathPart === '{proxy+}',
      )!;
      t.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'ANY',
        ResourceId: { Ref: proxy[0] },
        Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
      });
      const tableId = Object.keys(t.findResources('AWS::DynamoDB::Table'))[0]!;
      const keyId = kmsKeyId(t, 'RSA_2048');
      const secretsKeyId = kmsKeyId(t, 'SYMMETRIC_DEFAULT');
      for (const route of routes) {
        const fnId = idOf(stacks.get(code)!, route.id, 'fn');
        const fn = t.toJSON().Resources[fnId] as Resource;
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          MemorySize: 512,
          Timeout: 10,
          Environment: {
            Variables: {
              BASE_DOMAIN: 'id.example.com',
              REGIONS: code,
              TABLE_NAME: { Ref: tableId },
              SIGNER: 'tenant',
              KMS_KEY_ID: { 'Fn::GetAtt': [keyId, 'Arn'] },
              KMS_PREVIOUS_KEY_IDS: '',
              SECRET_BOX: 'kms',
              SECRETS_KEY_ID: { 'Fn::GetAtt': [secretsKeyId, 'Arn'] },
              PUBLIC_SCHEME: 'https',
              LOG_LEVEL: 'INFO',
              POWERTOOLS_SERVICE_NAME: 'identity',
              MAILER: 'ses',
              MAIL_FROM: CDK_JSON.context.mailFrom,
            },
          },
        });
      }
    }
  });

  it('gives every function its own log group with a retention', () => {
    for (const [code, t] of templates) {
      for (const route of routes) {
        const fn = t.toJSON().Resources[idOf(stacks.get(code)!, route.id, 'fn')] as Resource;
        const logsId = idOf(stacks.get(code)!, route.id, 'logGroup');
        expect(fn.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logsId } });
        expect((t.toJSON().Resources[logsId] as Resource).Properties.RetentionInDays).toBeGreaterThan(0);
      }
    }
  });

  it('runs no function with source maps unless context sourceMaps is true', () => {
    const nodeOptions = (stack: IdentityStack) =>
      new Set(
        routes.map((route) => {
          const fn = templateOf(stack).toJSON().Resources[idOf(stack, route.id, 'fn')] as Resource;
          return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.NODE_OPTIONS;
        }),
      );
    for (const stack of stacks.values()) expect(nodeOptions(stack)).toEqual(new Set([undefined]));
    const withMaps = synth({ sourceMaps: 'true' });
    expect(nodeOptions(withMaps.get('us')!)).toEqual(new Set(['--enable-source-maps']));
    expect(() => synth({ sourceMaps: 'yes' })).toThrow(/sourceMaps must be true or false/);
  });

  it('bundles every route with lib/bundling.ts settings (what npm run bundle-report measures)', () => {
    const off = routeBundling(false);
    expect(off).toMatchObject({
      format: BUNDLE.format,
      target: BUNDLE.target,
      mainFields: [...BUNDLE.mainFields],
      banner: BUNDLE.banner,
      minify: BUNDLE.minify,
      sourceMap: false,
      bundleAwsSDK: true,
    });
    expect(routeBundling(true)).toMatchObject({ ...off, sourceMap: true, sourcesContent: false });
  });
});

/** `/a/{b}` of the method's resource, from the template's resource tree. */
function pathOf(resources: Record<string, Resource>, restApiId: string, ref: unknown): string {
  const parts: string[] = [];
  let cur = ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  while (cur.Ref) {
    const r = resources[cur.Ref]!;
    parts.unshift(r.Properties.PathPart as string);
    cur = r.Properties.ParentId as typeof cur;
  }
  expect(cur).toEqual({ 'Fn::GetAtt': [restApiId, 'RootResourceId'] });
  return `/${parts.join('/')}`;
}

describe('the app: REST API', () => {
  let stacks: Map<RegionCode, IdentityStack>;
  let templates: Map<RegionCode, Template>;
  beforeAll(() => ({ stacks, templates } = theApp()));

  it('has one method per method of each entry, a Lambda proxy integration of that entry’s function', () => {
    const expected = routes.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)).sort();
    expect(expected).toContain('GET /oidc/jwks');
    for (const [code, t] of templates) {
      t.resourceCountIs('AWS::ApiGateway::RestApi', 1);
      t.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
      const restApiId = Object.keys(t.findResources('AWS::ApiGateway::RestApi'))[0]!;
      const resources = t.toJSON().Resources as Record<string, Resource>;
      const methods = Object.values(t.findResources('AWS::ApiGateway::Method')) as Resource[];
      const keyOf = (m: Resource) =>
        `${m.Properties.HttpMethod as string} ${
          (m.Properties.ResourceId as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt']
            ? '/'
            : pathOf(resources, restApiId, m.Properties.ResourceId)
        }`;
      const routed = methods.filter((m) => m.Properties.HttpMethod !== 'ANY');
      expect(routed.map(keyOf).sort()).toEqual(expected);
      for (const route of routes) {
        const fnId = idOf(stacks.get(code)!, route.id, 'fn');
        for (const method of route.methods) {
          const m = routed.find((x) => keyOf(x) === `${method} ${route.path}`)!;
          expect(m.Properties.AuthorizationType).toBe('NONE');
          const integration = m.Properties.Integration as { Type: string; Uri: unknown };
          expect(integration.Type).toBe('AWS_PROXY');
          expect(JSON.stringify(integration.Uri)).toContain(`"${fnId}","Arn"`);
        }
      }
      // Everything else (other methods of a known path, unknown paths) goes to the fallback function.
      const fallbackId = idOf(stacks.get(code)!, fallbackRoute.id, 'fn');
      const anys = methods.filter((m) => m.Properties.HttpMethod === 'ANY');
      expect(anys.map(keyOf)).toEqual(expect.arrayContaining(['ANY /', 'ANY /{proxy+}', 'ANY /oidc/token']));
      for (const m of anys) {
        expect(JSON.stringify((m.Properties.Integration as { Uri: unknown }).Uri)).toContain(
          `"${fallbackId}","Arn"`,
        );
      }
    }
  });

  it('logs every request as JSON without query strings, traces, and throttles the stage', () => {
    for (const t of templates.values()) {
      const stages = Object.values(t.findResources('AWS::ApiGateway::Stage')) as Resource[];
      expect(stages).toHaveLength(1);
      const stage = stages[0]!.Properties as {
        StageName: string;
        TracingEnabled: boolean;
        AccessLogSetting: { Format: string; DestinationArn: unknown };
        MethodSettings: {
          HttpMethod: string;
          ResourcePath: string;
          ThrottlingBurstLimit: number;
          ThrottlingRateLimit: number;
        }[];
      };
      expect(stage.StageName).toBe(STAGE_NAME);
      expect(stage.TracingEnabled).toBe(true);
      const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
      expect(format).toMatchObject({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        method: '$context.httpMethod',
        path: '$context.path',
        status: '$context.status',
        latency: '$context.responseLatency',
      });
      expect(format).toEqual(ACCESS_LOG_FIELDS);
      expect(stage.AccessLogSetting.Format).not.toMatch(/query|rawPath|requestOverride|\$input|\$request\b/i);
      expect(JSON.stringify(stage.AccessLogSetting.DestinationArn)).toMatch(/"ApiAccessLogs[0-9A-F]+"/);
      const all = stage.MethodSettings.find((m) => m.HttpMethod === '*' && m.ResourcePath === '/*')!;
      expect(all.ThrottlingRateLimit).toBe(THROTTLE.rateLimit);
      expect(all.ThrottlingBurstLimit).toBe(THROTTLE.burstLimit);
    }
  });
});

describe('the app: outputs and checks', () => {
  let stacks: Map<RegionCode, IdentityStack>;
  let templates: Map<RegionCode, Template>;
  beforeAll(() => ({ stacks, templates } = theApp()));

  it('outputs the API URL (with the Host-header note), table name, key ARN and region code', () => {
    for (const [code, t] of templates) {
      const outputs = t.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
      expect(Object.keys(outputs)).toEqual(
        expect.arrayContaining(['ApiUrl', 'TableName', 'SigningKeyArn', 'RegionCode']),
      );
      expect(outputs.RegionCode!.Value).toBe(code);
      expect(outputs.ApiUrl!.Description).toMatch(/Host header/);
      expect(outputs.ApiUrl!.Description).toContain(`https://<tenant>.${code}.id.example.com`);
      expect(outputs.TableName!.Value).toEqual({
        Ref: Object.keys(t.findResources('AWS::DynamoDB::Table'))[0],
      });
      expect(outputs.SigningKeyArn!.Value).toEqual({ 'Fn::GetAtt': [kmsKeyId(t, 'RSA_2048'), 'Arn'] });
    }
  });

  it('creates no custom domain resources with domain=none and no hosted zone', () => {
    const none = synth({ hostedZoneId: undefined, hostedZoneName: undefined, domain: 'none' });
    for (const stack of none.values()) {
      const t = templateOf(stack);
      for (const type of [
        'AWS::CertificateManager::Certificate',
        'AWS::ApiGateway::DomainName',
        'AWS::ApiGateway::BasePathMapping',
        'AWS::Route53::RecordSet',
      ]) {
        t.resourceCountIs(type, 0);
      }
    }
  });

  it('passes the AWS Solutions checks with no unacknowledged error or warning', () => {
    for (const stack of stacks.values()) {
      expect(nagFindings(stack)).toEqual([]);
      // Errors and warnings any construct attached (Annotations.fromStack reads the same messages,
      // but forces a new synthesis of the whole app on every call).
      const messages = Stage.of(stack)!.synth().getStackArtifact(stack.artifactId).messages;
      expect(messages.filter((m) => m.level === 'error' || m.level === 'warning')).toEqual([]);
    }
  });
});

/** A stack whose route table uses every permission, with a previous signing key in us; built once. */
const iamFixture = (() => {
  let fixture: ReturnType<typeof buildIamFixture> | undefined;
  return () => (fixture ??= buildIamFixture());
})();

function buildIamFixture() {
  // SIGNER=kms, where kms:sign is the region key's Sign (SIGNER=tenant is tested on the app).
  const stack = stackWithRoutes(EVERY_PERMISSION, {
    previousSigningKeyArns: { us: [PREVIOUS_US] },
    signer: 'kms',
    smsOriginationIdentity: { us: SMS_NUMBER },
  });
  const t = templateOf(stack);
  const keyId = kmsKeyId(t, 'RSA_2048');
  const secretsArn = { 'Fn::GetAtt': [kmsKeyId(t, 'SYMMETRIC_DEFAULT'), 'Arn'] };
  const tableId = Object.keys(t.findResources('AWS::DynamoDB::Table'))[0]!;
  const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
  const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
  return { stack, t, secretsArn, keyArn, tableArn };
}

const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

describe('least-privilege IAM: functions and their actions', () => {
  const { stack, t } = iamFixture();

  it('follows a larger route table: one function per entry, one route per method', () => {
    // Plus the scheduled key rotation, which is not a route.
    // Plus the key rotation and the logout queue's consumer.
    t.resourceCountIs('AWS::Lambda::Function', EVERY_PERMISSION.length + 2);
    // A test's own table has no fallback: exactly one method per method of each entry.
    t.resourceCountIs(
      'AWS::ApiGateway::Method',
      EVERY_PERMISSION.reduce((n, r) => n + r.methods.length, 0),
    );
    const item = Object.entries(t.findResources('AWS::ApiGateway::Resource')).find(
      ([, r]) => (r as Resource).Properties.PathPart === '{itemId}',
    )!;
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      t.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: method,
        ResourceId: { Ref: item[0] },
      });
    }
  });

  it('grants each function exactly the actions its permissions name, plus its own logs', () => {
    const expected: Record<string, string[]> = {
      'table:read': [...TABLE_READ_ACTIONS],
      'table:write': [...TABLE_WRITE_ACTIONS],
      'kms:sign': ['kms:Sign', 'kms:GetPublicKey'],
      'kms:publicKey': ['kms:GetPublicKey'],
      'kms:secrets': ['kms:Encrypt', 'kms:Decrypt'],
      'kms:secrets:open': ['kms:Decrypt'],
      'kms:idp-secrets': ['kms:Encrypt'],
      'kms:idp-secrets:open': ['kms:Decrypt'],
      'ses:send': ['ses:SendEmail'],
      'sms:send': ['sms-voice:SendTextMessage'],
      'queue:logout': ['sqs:SendMessage'],
    };
    for (const route of EVERY_PERMISSION) {
      const want = new Set([...LOGS, ...route.permissions.flatMap((p) => expected[p]!)]);
      expect([...actionsOf(statementsOf(stack, route.id))].sort(), route.id).toEqual([...want].sort());
    }
  });

  it('gives a function without permissions nothing but its log streams', () => {
    const statements = statementsOf(stack, 'CdkTestNothing');
    expect([...actionsOf(statements)].sort()).toEqual(LOGS);
    const logsId = idOf(stack, 'CdkTestNothing', 'logGroup');
    expect(statements.flatMap((s) => asList(s.Resource))).toEqual([{ 'Fn::GetAtt': [logsId, 'Arn'] }]);
  });
});

describe('least-privilege IAM: what each function may touch', () => {
  const { stack, secretsArn, keyArn, tableArn } = iamFixture();

  it('never lets a function without kms:sign sign, nor a read-only function write', () => {
    for (const route of EVERY_PERMISSION) {
      const actions = actionsOf(statementsOf(stack, route.id));
      if (!route.permissions.includes('kms:sign')) expect(actions, route.id).not.toContain('kms:Sign');
      if (!route.permissions.includes('kms:secrets')) {
        if (!route.permissions.includes('kms:idp-secrets'))
          expect(actions, route.id).not.toContain('kms:Encrypt');
        if (!route.permissions.some((p) => p === 'kms:secrets:open' || p === 'kms:idp-secrets:open'))
          expect(actions, route.id).not.toContain('kms:Decrypt');
      }
      if (!route.permissions.includes('table:write')) {
        for (const write of TABLE_WRITE_ACTIONS) expect(actions, route.id).not.toContain(write);
      }
    }
    expect(actionsOf(statementsOf(stack, 'CdkTestReader'))).not.toContain('dynamodb:PutItem');
    expect(actionsOf(statementsOf(stack, 'CdkTestPublisher'))).not.toContain('kms:Sign');
    expect(actionsOf(statementsOf(stack, 'CdkTestSigner'))).toContain('kms:Sign');
    expect(actionsOf(statementsOf(stack, 'CdkTestSigner'))).toContain('dynamodb:PutItem');
  });

  it('scopes table actions to the table, Sign to the current key, GetPublicKey to current and previous keys, Encrypt/Decrypt to the secrets key', () => {
    const token = statementsOf(stack, 'CdkTestSigner');
    for (const action of [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS]) {
      expect(resourcesFor(token, action), action).toEqual([tableArn]);
    }
    expect(resourcesFor(token, 'kms:Sign')).toEqual([keyArn]);
    expect(resourcesFor(token, 'kms:GetPublicKey')).toEqual([keyArn]);
    const publisher = statementsOf(stack, 'CdkTestPublisher');
    const published = resourcesFor(publisher, 'kms:GetPublicKey');
    expect(published).toHaveLength(2);
    expect(published).toEqual(expect.arrayContaining([keyArn, PREVIOUS_US]));
    const secrets = statementsOf(stack, 'CdkTestSecrets');
    expect(resourcesFor(secrets, 'kms:Encrypt')).toEqual([secretsArn]);
    expect(resourcesFor(secrets, 'kms:Decrypt')).toEqual([secretsArn]);
    const opener = statementsOf(stack, 'CdkTestOpener');
    expect(resourcesFor(opener, 'kms:Decrypt')).toEqual([secretsArn]);
    expect(actionsOf(opener)).not.toContain('kms:Encrypt');
    const identities = resourcesFor(statementsOf(stack, 'CdkTestMailer'), 'ses:SendEmail');
    expect(identities).toEqual([
      `arn:aws:ses:us-west-2:${ACCOUNT}:identity/id.example.com`,
      `arn:aws:ses:us-west-2:${ACCOUNT}:identity/no-reply@id.example.com`,
      // The configuration set the identity sends through by default (lib/mail.ts).
      {
        'Fn::Join': [
          '',
          [
            `arn:aws:ses:us-west-2:${ACCOUNT}:configuration-set/`,
            { Ref: expect.stringMatching(/^MailConfigurationSet/) as unknown },
          ],
        ],
      },
    ]);
  });
});

describe('least-privilege IAM: SMS', () => {
  const { stack, t } = iamFixture();

  it("grants SendTextMessage on the origination identity and the stack's configuration set only", () => {
    const configurationSet = Object.keys(t.findResources('AWS::SMSVOICE::ConfigurationSet'));
    expect(configurationSet).toHaveLength(1);
    const resources = resourcesFor(statementsOf(stack, 'CdkTestTexter'), 'sms-voice:SendTextMessage');
    expect(resources).toEqual([SMS_NUMBER, { 'Fn::GetAtt': [configurationSet[0], 'Arn'] }]);
    for (const route of EVERY_PERMISSION.filter((r) => !r.permissions.includes('sms:send')))
      expect(actionsOf(statementsOf(stack, route.id)), route.id).not.toContain('sms-voice:SendTextMessage');
    const fn = t.toJSON().Resources[idOf(stack, 'CdkTestTexter', 'fn')] as Resource;
    expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      TEXTER: 'sms-voice',
      SMS_FROM: SMS_NUMBER,
      SMS_CONFIGURATION_SET: { Ref: configurationSet[0] },
    });
  });

  it('without an origination identity: no configuration set, no SMS grant, TEXTER=none', () => {
    const plain = templateOf(stackWithRoutes(routes));
    plain.resourceCountIs('AWS::SMSVOICE::ConfigurationSet', 0);
    const texts = JSON.stringify(plain.findResources('AWS::IAM::Policy'));
    expect(texts).not.toContain('sms-voice');
    const fns = Object.values(plain.findResources('AWS::Lambda::Function')) as Resource[];
    for (const fn of fns.filter((f) => (f.Properties.Environment as { Variables?: object })?.Variables))
      expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.TEXTER).toBe(
        'none',
      );
  });

  it('refuses an origination identity that is not an SMS ARN of the region', () => {
    expect(() => stackWithRoutes(routes, { smsOriginationIdentity: { us: '+15555550100' } })).toThrow(
      /smsOriginationIdentity for us must be the ARN/,
    );
    expect(() =>
      stackWithRoutes(routes, {
        smsOriginationIdentity: { us: SMS_NUMBER.replace('us-west-2', 'eu-west-1') },
      }),
    ).toThrow(/is in eu-west-1, not us-west-2/);
  });
});

describe('least-privilege IAM: the secrets key needs a tenant encryption context', () => {
  const { stack } = iamFixture();
  const REQUIRED = {
    Null: { 'kms:EncryptionContext:tenantId': 'false' },
    'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenantId', 'userId', 'purpose'] },
  };

  it('puts the tenant-context conditions on every statement that allows Encrypt or Decrypt', () => {
    let checked = 0;
    for (const route of EVERY_PERMISSION) {
      for (const statement of statementsOf(stack, route.id)) {
        const actions = asList(statement.Action);
        if (!actions.includes('kms:Encrypt') && !actions.includes('kms:Decrypt')) continue;
        // Upstream providers' secrets add their purpose to the same conditions.
        const { StringLike, ...rest } = (statement.Condition ?? {}) as Record<string, unknown>;
        if (IDP_ONLY(statement)) {
          expect(rest, route.id).toEqual(REQUIRED);
          expect(StringLike, route.id).toEqual({ 'kms:EncryptionContext:purpose': 'identity-provider:*' });
        } else expect(statement.Condition, route.id).toEqual(REQUIRED);
        checked++;
      }
    }
    // CdkTestSecrets, CdkTestOpener and the real routes that seal or open.
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('names the context keys the authenticator app really seals with', async () => {
    const contexts: SecretContext[] = [];
    const inner = LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'cdk-box-')), 'test');
    const recording: SecretBox = {
      seal: (plaintext, context) => (contexts.push(context), inner.seal(plaintext, context)),
      open: (sealed, context) => (contexts.push(context), inner.open(sealed, context)),
    };
    const store = new TenantStore(await freshStore('cdkctx'), 'tenant-1');
    const auth = createAuthenticatorService(store, {
      mailer: new LocalOutbox({ print: () => {} }),
      secretBox: recording,
      rpId: 'a.us.localhost',
      rpName: 'A',
      origin: 'http://a.us.localhost',
    });
    await auth.newTotpSecret('user-1', 'user@example.com');
    expect(contexts.length).toBeGreaterThan(0);
    for (const context of contexts) {
      expect(Object.keys(context).sort()).toEqual([...SECRET_CONTEXT_KEYS].sort());
      expect(context.tenantId).toBe('tenant-1');
    }
  });
});

describe('least-privilege IAM: policies', () => {
  const { stack, t } = iamFixture();

  it('refuses a mail-sending route without a From address', () => {
    expect(() => stackWithRoutes(EVERY_PERMISSION, { mailFrom: undefined })).toThrow(
      /sends mail: set context mailFrom/,
    );
    expect(() => stackWithRoutes(EVERY_PERMISSION, { mailFrom: 'not an address' })).toThrow(
      /mailFrom must be/,
    );
  });

  it('uses no wildcard action or resource, and no managed policy', () => {
    const policies = Object.values(t.findResources('AWS::IAM::Policy')) as Resource[];
    const roles = Object.values(t.findResources('AWS::IAM::Role')) as Resource[];
    expect(policies.length).toBe(EVERY_PERMISSION.length + 2);
    const statements = [
      ...policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement),
      ...roles.flatMap((r) =>
        ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
          (p) => p.PolicyDocument.Statement,
        ),
      ),
    ];
    for (const s of statements.filter((st) => !isXRay(st))) {
      expect(s.Effect).toBe('Allow');
      for (const a of asList(s.Action)) expect(a).not.toContain('*');
      for (const r of asList(s.Resource)) expect(typeof r === 'string' ? r : '').not.toContain('*');
    }
    for (const r of roles) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('passes the AWS Solutions checks with every permission in use', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('key rotation context', () => {
  it('passes previous keys to the functions and to GetPublicKey only, per region', () => {
    const stacks = synth({ previousSigningKeyArns: { us: [PREVIOUS_US], eu: [PREVIOUS_EU] } });
    const us = templateOf(stacks.get('us')!);
    us.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KMS_PREVIOUS_KEY_IDS: PREVIOUS_US }) },
    });
    expect(resourcesFor(statementsOf(stacks.get('us')!, 'Jwks'), 'kms:GetPublicKey')).toContain(PREVIOUS_US);
    const au = templateOf(stacks.get('au')!);
    au.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KMS_PREVIOUS_KEY_IDS: '' }) },
    });
  });

  it('splits a flat list of ARNs by the region inside each ARN (also given as a -c string)', () => {
    const stacks = synth({ previousSigningKeyArns: `${PREVIOUS_US}, ${PREVIOUS_EU}` });
    const env = (code: RegionCode) =>
      (Object.values(templateOf(stacks.get(code)!).findResources('AWS::Lambda::Function'))[0] as Resource)
        .Properties.Environment as { Variables: Record<string, string> };
    expect(env('us').Variables.KMS_PREVIOUS_KEY_IDS).toBe(PREVIOUS_US);
    expect(env('eu').Variables.KMS_PREVIOUS_KEY_IDS).toBe(PREVIOUS_EU);
    expect(env('au').Variables.KMS_PREVIOUS_KEY_IDS).toBe('');
  });

  // Six stacks synthesized: slow on a loaded machine, hence its own timeout.
  it('a new key generation is a new key, and the alias follows it', { timeout: 120_000 }, () => {
    const before = templateOf(synth().get('eu')!);
    const after = templateOf(synth({ signingKeyGeneration: { eu: 2 } }).get('eu')!);
    const oldKey = kmsKeyId(before, 'RSA_2048');
    const newKey = kmsKeyId(after, 'RSA_2048');
    expect(newKey).not.toBe(oldKey);
    after.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/identity-signing-eu',
      TargetKeyId: { 'Fn::GetAtt': [newKey, 'Arn'] },
    });
    expect(Object.keys(after.findResources('AWS::KMS::Alias'))).toEqual(
      Object.keys(before.findResources('AWS::KMS::Alias')),
    );
  });

  it('rejects a key ARN from another region, or that is not a key ARN', () => {
    expect(() => synth({ previousSigningKeyArns: { us: [PREVIOUS_EU] } })).toThrow(
      /not a KMS key ARN in us-west-2/,
    );
    expect(() => synth({ previousSigningKeyArns: ['alias/old'] })).toThrow(/not a KMS key ARN/);
  });
});

describe('custom domain', () => {
  // Three stacks synthesized with their domains: slow on a loaded machine, hence its own timeout.
  it(
    'with a shared hosted zone: a wildcard certificate, domain, mapping and A/AAAA aliases per region',
    { timeout: 120_000 },
    () => {
      const stacks = synth(ZONE);
      for (const [code, stack] of stacks) {
        const t = templateOf(stack);
        const wildcard = `*.${code}.id.example.com`;
        t.resourceCountIs('AWS::CertificateManager::Certificate', 1);
        t.hasResourceProperties('AWS::CertificateManager::Certificate', {
          DomainName: wildcard,
          ValidationMethod: 'DNS',
          DomainValidationOptions: [{ DomainName: wildcard, HostedZoneId: ZONE.hostedZoneId }],
        });
        t.hasResourceProperties('AWS::ApiGateway::DomainName', {
          DomainName: wildcard,
          EndpointConfiguration: { Types: ['REGIONAL'], IpAddressType: 'dualstack' },
          SecurityPolicy: 'TLS_1_2',
        });
        const apiId = Object.keys(t.findResources('AWS::ApiGateway::RestApi'))[0]!;
        const stageId = Object.keys(t.findResources('AWS::ApiGateway::Stage'))[0]!;
        t.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
          RestApiId: { Ref: apiId },
          Stage: { Ref: stageId },
        });
        for (const type of ['A', 'AAAA']) {
          t.hasResourceProperties('AWS::Route53::RecordSet', {
            Name: `${wildcard}.`,
            Type: type,
            HostedZoneId: ZONE.hostedZoneId,
            AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
          });
        }
        // Two aliases; the mail domain's three DKIM CNAMEs are test/cdk/operations.test.ts's.
        t.resourceCountIs('AWS::Route53::RecordSet', 5);
        expect(t.toJSON().Outputs.TenantDomainName.Value).toBe(wildcard);
        expect(nagFindings(stack)).toEqual([]);
      }
    },
  );

  it('with a zone for one region only, only that region gets a domain', () => {
    const stacks = synth({
      hostedZoneId: undefined,
      hostedZoneName: undefined,
      domain: 'none',
      hostedZones: JSON.stringify({ eu: { id: 'ZEU123', name: 'eu.id.example.com' } }),
    });
    templateOf(stacks.get('eu')!).hasResourceProperties('AWS::Route53::RecordSet', {
      Name: '*.eu.id.example.com.',
      HostedZoneId: 'ZEU123',
    });
    for (const code of ['us', 'au'] as const) {
      templateOf(stacks.get(code)!).resourceCountIs('AWS::ApiGateway::DomainName', 0);
    }
  });

  it('rejects half a zone, or a zone that cannot hold the wildcard', () => {
    expect(() => synth({ hostedZoneName: undefined })).toThrow(/set both or neither/);
    expect(() => synth({ ...ZONE, hostedZoneName: 'other.example.com' })).toThrow(/cannot hold/);
  });
});

describe('AWS Solutions checks can fail', () => {
  it('report an unacknowledged finding', () => {
    const stack = new Stack(app(), 'Probe', { env: { account: ACCOUNT, region: 'us-west-2' } });
    new Key(stack, 'Symmetric'); // no rotation: AwsSolutions-KMS5
    expect(nagFindings(stack)).toEqual([
      expect.stringMatching(/^error AwsSolutions-KMS5 at Probe\/Symmetric/),
    ]);
  });

  it('acknowledge only the rules the stack explains, each with a specific reason', () => {
    const stack = stackWithRoutes(EVERY_PERMISSION, ZONE);
    const acks: { id: string; reason: string }[] = [];
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>))
          acks.push({ id, reason });
      }
    }
    const ids = new Set(acks.map((a) => a.id.replace(/^annotation::/i, '')));
    expect([...ids].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG4',
      'AwsSolutions-APIG6',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-KMS5',
      'AwsSolutions-L1',
      'AwsSolutions-SNS2',
      'AwsSolutions-SQS3',
    ]);
    for (const a of acks) expect(a.reason.length, a.id).toBeGreaterThan(60);
  });
});

describe('signing with per-tenant keys', () => {
  it('runs a key rotation function daily: table read/write and tenant signing keys only, no KMS Sign', () => {
    const { stacks, templates } = theApp();
    for (const [code, t] of templates) {
      const stack = stacks.get(code)!;
      const fnId = stack.getLogicalId(stack.keyRotation.fn.node.defaultChild as CfnElement);
      const roleId = stack.getLogicalId(stack.keyRotation.role.node.defaultChild as CfnElement);
      t.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 day)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })],
      });
      t.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Principal: 'events.amazonaws.com',
      });
      const fn = t.toJSON().Resources[fnId] as Resource;
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Environment: { Variables: { SIGNER: 'tenant' } },
      });
      const policies = (Object.values(t.findResources('AWS::IAM::Policy')) as Resource[]).filter((p) =>
        (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
      );
      const statements = policies.flatMap(
        (p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
      );
      const actions = actionsOf(statements);
      for (const a of [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS, 'kms:Encrypt', 'kms:Decrypt'])
        expect(actions, a).toContain(a);
      expect(actions).not.toContain('kms:Sign');
      const secretsArn = { 'Fn::GetAtt': [kmsKeyId(t, 'SYMMETRIC_DEFAULT'), 'Arn'] };
      const kms = statements.filter((st) => asList(st.Action).some((a) => a.startsWith('kms:')));
      expect(kms.map((st) => [st.Resource, st.Condition])).toEqual([[secretsArn, SIGNING_KEYS_ONLY]]);
    }
  });

  it('SIGNER=kms signs with the region key; publishRegionKey=false drops it from a tenant-signer deployment', () => {
    const kms = stackWithRoutes(routes, { signer: 'kms' });
    const token = statementsOf(kms, 'Token');
    expect(actionsOf(token)).toContain('kms:Sign');
    expect(actionsOf(token)).not.toContain('kms:Decrypt');
    const fn = templateOf(kms).toJSON().Resources[idOf(kms, 'Token', 'fn')] as Resource;
    expect(fn.Properties).toMatchObject({ Environment: { Variables: { SIGNER: 'kms' } } });

    const tenantOnly = stackWithRoutes(routes, { publishRegionKey: false });
    const vars = (templateOf(tenantOnly).toJSON().Resources[idOf(tenantOnly, 'Token', 'fn')] as Resource)
      .Properties.Environment as { Variables: Record<string, unknown> };
    expect(vars.Variables.SIGNER).toBe('tenant');
    expect(vars.Variables).not.toHaveProperty('KMS_KEY_ID');
    expect(() => stackWithRoutes(routes, { signer: 'hsm' })).toThrow(/signer must be tenant or kms/);
  });
});

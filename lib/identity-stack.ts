import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV } from '../functions/env-names.js';
import type { RegionCode } from '../functions/regions.js';
import { fallbackRoute, routes as routeTable, type Route } from '../functions/routes.js';
import { IdentityApi, STAGE_NAME } from './api.js';
import type { RegionSettings } from './context.js';
import { TenantDomain } from './custom-domain.js';
import { MailSender } from './mail.js';
import { SmsSender } from './sms.js';
import { alarmEmailOf, DeadLetterQueue, Monitoring } from './monitoring.js';
import { SecretsKey } from './secrets-key.js';
import { SigningKey } from './signing-key.js';
import { KeyRotation } from './key-rotation.js';
import { LogoutDelivery } from './logout-delivery.js';
import { IdentityTable } from './table.js';
import { EdgeFirewall } from './waf.js';

export interface IdentityStackProps extends StackProps {
  settings: RegionSettings;
  /** The route table; `functions/routes.ts` unless a test passes another. */
  routes?: readonly Route[];
}

/**
 * Everything one region runs: its table, its signing key, its REST API with one function per route
 * behind an AWS WAF web ACL, and the tenants' wildcard domain (unless context `domain=none`).
 * Regions share nothing: a tenant's data and keys stay in its region.
 */
export class IdentityStack extends Stack {
  readonly code: RegionCode;
  readonly table: IdentityTable;
  readonly signingKey: SigningKey;
  readonly secretsKey: SecretsKey;
  readonly api: IdentityApi;
  readonly domain: TenantDomain | undefined;
  readonly firewall: EdgeFirewall;
  readonly keyRotation: KeyRotation;
  readonly deadLetters: DeadLetterQueue;
  readonly logoutDelivery: LogoutDelivery;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.code = settings.code;

    this.table = new IdentityTable(this, 'Data', { code: settings.code });
    this.signingKey = new SigningKey(this, 'Signing', {
      code: settings.code,
      generation: settings.signingKeyGeneration,
      previousKeyArns: settings.previousSigningKeyArns,
    });

    this.secretsKey = new SecretsKey(this, 'Secrets', { code: settings.code });

    const mail = settings.mailFrom
      ? new MailSender(this, settings.mailFrom, { hostedZone: settings.hostedZone })
      : undefined;

    const sms = settings.smsOriginationIdentity
      ? new SmsSender(this, 'Sms', settings.smsOriginationIdentity)
      : undefined;
    const shared = {
      ...functionEnvironment(settings, this.table, this.signingKey, this.secretsKey, mail),
      // Without an origination identity the region sends no SMS: every SMS is refused as `unavailable`.
      ...(sms
        ? {
            [ENV.texter]: 'sms-voice',
            [ENV.smsOriginationIdentity]: sms.originationIdentity,
            [ENV.smsConfigurationSet]: sms.configurationSetName,
          }
        : { [ENV.texter]: 'none' }),
    };
    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters');
    this.logoutDelivery = new LogoutDelivery(this, 'LogoutDelivery', {
      deadLetters: this.deadLetters.queue,
      environment: shared,
    });
    const environment = { ...shared, [ENV.logoutQueueUrl]: this.logoutDelivery.queue.queueUrl };

    this.api = new IdentityApi(this, 'Api', {
      code: settings.code,
      routes: props.routes ?? routeTable,
      // A test's own route table gets no fallback, so its function counts stay exact.
      ...(props.routes ? {} : { fallback: fallbackRoute }),
      table: this.table,
      signingKey: this.signingKey,
      secretsKey: this.secretsKey,
      mail,
      sms,
      environment,
      logoutDelivery: this.logoutDelivery,
    });

    this.firewall = new EdgeFirewall(this, 'Firewall', { code: settings.code, stage: this.api.stage });

    this.keyRotation = new KeyRotation(this, 'KeyRotation', {
      table: this.table,
      secretsKey: this.secretsKey,
      environment,
      deadLetters: this.deadLetters.queue,
    });

    const routeOf = new Map([...(props.routes ?? routeTable), fallbackRoute].map((r) => [r.id, r]));
    this.monitoring = new Monitoring(this, 'Monitoring', {
      code: settings.code,
      api: {
        apiName: `identity-${settings.code}`,
        stageName: STAGE_NAME,
        routes: [...this.api.functions].map(([id, f]) => ({
          id,
          methods: routeOf.get(id)?.methods ?? [],
          path: routeOf.get(id)?.path ?? '',
          fn: f.fn,
        })),
      },
      otherFunctions: [this.keyRotation.fn, this.logoutDelivery.fn],
      table: this.table.table,
      deadLetters: this.deadLetters.queue,
      mail: mail !== undefined,
      alarmEmail: alarmEmailOf(this.node),
    });

    if (settings.hostedZone) {
      this.domain = new TenantDomain(this, 'TenantDomain', {
        code: settings.code,
        baseDomain: settings.baseDomain,
        hostedZone: settings.hostedZone,
        api: this.api.restApi,
        stage: this.api.stage,
      });
    } else {
      Annotations.of(this).addWarningV2(
        'identity:no-domain',
        `No custom domain (context domain=none): no tenant on *.${settings.code}.${settings.baseDomain} ` +
          'can be reached, since the execute-api endpoint is disabled. Set a hosted zone to serve tenants.',
      );
    }

    this.addOutputs(settings);
  }

  /** What an operator needs after a deploy: endpoints, names and key ARNs of the region. */
  private addOutputs(settings: RegionSettings): void {
    const tenantHosts = `https://<tenant>.${settings.code}.${settings.baseDomain}`;
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description:
        `Default execute-api endpoint, disabled (403): tenants are resolved from the Host header, which this ` +
        `endpoint cannot carry. Tenants are served on ${tenantHosts}` +
        (this.domain
          ? ` (custom domain ${this.domain.wildcard}).`
          : ' once a hosted zone is set (this stack was synthesized with domain=none).'),
    });
    if (this.domain) {
      new CfnOutput(this, 'TenantDomainName', {
        value: this.domain.wildcard,
        description: 'Wildcard custom domain serving every tenant of this region',
      });
    }
    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: "The region's DynamoDB table",
    });
    new CfnOutput(this, 'SigningKeyArn', {
      value: this.signingKey.keyArn,
      description: 'Current KMS signing key; on rotation this ARN goes into previousSigningKeyArns',
    });
    new CfnOutput(this, 'SecretsKeyArn', {
      value: this.secretsKey.keyArn,
      description: 'Symmetric KMS key that seals stored secrets (TOTP); retained, rotated yearly by KMS',
    });
    new CfnOutput(this, 'RegionCode', {
      value: settings.code,
      description: 'Region code in tenant hostnames',
    });
  }
}

/** What functions/config.ts reads, for every function of the region. */
function functionEnvironment(
  settings: RegionSettings,
  table: IdentityTable,
  signingKey: SigningKey,
  secretsKey: SecretsKey,
  mail: MailSender | undefined,
): Record<string, string> {
  return {
    [ENV.baseDomain]: settings.baseDomain,
    [ENV.regions]: settings.code,
    [ENV.tableName]: table.tableName,
    [ENV.signer]: settings.signer,
    // With SIGNER=tenant the region keys only stay published (never sign) while publishRegionKey is on.
    ...(settings.signer === 'kms' || settings.publishRegionKey
      ? {
          [ENV.kmsKeyId]: signingKey.keyArn,
          [ENV.kmsPreviousKeyIds]: settings.previousSigningKeyArns.join(','),
        }
      : {}),
    [ENV.secretBox]: 'kms',
    [ENV.secretsKeyId]: secretsKey.keyArn,
    [ENV.publicScheme]: 'https',
    [ENV.logLevel]: 'INFO',
    [ENV.powertoolsServiceName]: 'identity',
    [ENV.metrics]: 'emf',
    ...(mail ? { [ENV.mailer]: 'ses', [ENV.mailFrom]: mail.from } : {}),
  };
}

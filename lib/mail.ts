import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnRecordSet } from 'aws-cdk-lib/aws-route53';
import {
  ConfigurationSet,
  DkimIdentity,
  EasyDkimSigningKeyLength,
  EmailIdentity,
  Identity,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

/** `no-reply@id.example.com` or `Acme Identity <no-reply@id.example.com>` → the bare address. */
export function mailAddress(from: string): string | undefined {
  const m = /^(?:[^<>]*<\s*([^<>\s]+)\s*>|([^<>\s]+))$/.exec(from.trim());
  const address = (m?.[1] ?? m?.[2])?.toLowerCase();
  return address && /^[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,63}$/.test(address) ? address : undefined;
}

/**
 * Sending mail through Amazon SES v2 from one From address (`MAIL_FROM`). The stack creates the
 * SES domain identity of the address's domain with Easy DKIM (2048-bit keys) and a configuration
 * set with reputation metrics that the identity uses by default; with a Route 53 zone in context
 * that can hold the domain, the three DKIM CNAME records too (otherwise the stack outputs them to
 * add by hand). SES authorises `ses:SendEmail` against the sending identity (the domain, or the
 * address if verified on its own) and the configuration set, so exactly those ARNs are granted.
 * https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html
 */
export class MailSender extends Construct {
  readonly from: string;
  readonly domain: string;
  readonly identity: EmailIdentity;
  readonly configurationSet: ConfigurationSet;
  readonly identityArns: string[];

  constructor(
    scope: Construct,
    from: string,
    opts: { hostedZone?: { id: string; name: string } | undefined } = {},
  ) {
    super(scope, 'Mail');
    const address = mailAddress(from);
    if (!address)
      throw new Error(
        `Context mailFrom must be an email address (optionally "Name <address>"), not "${from}"`,
      );
    this.from = from.trim();
    this.domain = address.slice(address.indexOf('@') + 1);
    const stack = Stack.of(scope);

    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      // Addresses that bounced or complained are not mailed again: that is what keeps the rates low.
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.identity = new EmailIdentity(this, 'Identity', {
      identity: Identity.domain(this.domain),
      configurationSet: this.configurationSet,
      dkimSigning: true,
      dkimIdentity: DkimIdentity.easyDkim(EasyDkimSigningKeyLength.RSA_2048_BIT),
    });

    const zone = opts.hostedZone;
    const zoneHolds = zone && (this.domain === zone.name || this.domain.endsWith(`.${zone.name}`));
    this.identity.dkimRecords.forEach((record, i) => {
      if (zoneHolds) {
        new CfnRecordSet(this, `DkimRecord${i + 1}`, {
          hostedZoneId: zone.id,
          name: record.name,
          type: 'CNAME',
          resourceRecords: [record.value],
          ttl: '1800',
        });
      } else {
        new CfnOutput(stack, `MailDkimRecord${i + 1}`, {
          value: Fn.join(' CNAME ', [record.name, record.value]),
          description: `DKIM record ${i + 1} of 3 for ${this.domain}: add it to the domain's DNS (SES verifies the domain with it)`,
        });
      }
    });

    this.identityArns = [
      ...[this.domain, address].map((identity) =>
        stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
      ),
      stack.formatArn({
        service: 'ses',
        resource: 'configuration-set',
        resourceName: this.configurationSet.configurationSetName,
      }),
    ];
  }

  grantSend(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ses:SendEmail'], resources: this.identityArns }),
    );
  }
}

import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnConfigurationSet } from 'aws-cdk-lib/aws-smsvoice';
import { Construct } from 'constructs';

/**
 * What SMS may be sent from: an AWS End User Messaging SMS phone number, pool or sender id, by ARN.
 * Buying a number (and registering it, where the destination country requires it) costs money and
 * takes days, so the operator does it and passes the ARN as context `smsOriginationIdentity`
 * (docs/deploy.md); CloudFormation's `AWS::SMSVOICE::PhoneNumber` would buy one on every deploy.
 */
export const ORIGINATION_ARN =
  /^arn:aws[a-z-]*:sms-voice:([a-z0-9-]+):(\d{12}):(phone-number|pool|sender-id)\/[A-Za-z0-9_/-]+$/;

/**
 * Sending SMS through AWS End User Messaging SMS (`SendTextMessage`) from the operator's
 * origination identity, through a configuration set the stack creates (message feedback and
 * event destinations are added to it, not to the code). The service authorises
 * `sms-voice:SendTextMessage` against the origination identity and the configuration set, so
 * exactly those two ARNs are granted (Service Authorization Reference, "AWS End User Messaging
 * SMS and Voice V2": SendTextMessage, resource types phone-number, pool, sender-id,
 * configuration-set).
 */
export class SmsSender extends Construct {
  readonly originationIdentity: string;
  readonly configurationSet: CfnConfigurationSet;
  readonly configurationSetArn: string;

  constructor(scope: Construct, id: string, originationIdentity: string) {
    super(scope, id);
    this.originationIdentity = originationIdentity;
    this.configurationSet = new CfnConfigurationSet(this, 'ConfigurationSet', {});
    this.configurationSetArn = this.configurationSet.attrArn;
  }

  /** The configuration set's name (its `Ref`), as `SendTextMessage` takes it. */
  get configurationSetName(): string {
    return this.configurationSet.ref;
  }

  grantSend(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['sms-voice:SendTextMessage'],
        resources: [this.originationIdentity, this.configurationSetArn],
      }),
    );
  }
}

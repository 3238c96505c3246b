import { Stack } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** `no-reply@id.example.com` or `Acme Identity <no-reply@id.example.com>` → the bare address. */
export function mailAddress(from: string): string | undefined {
  const m = /^(?:[^<>]*<\s*([^<>\s]+)\s*>|([^<>\s]+))$/.exec(from.trim());
  const address = (m?.[1] ?? m?.[2])?.toLowerCase();
  return address && /^[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,63}$/.test(address) ? address : undefined;
}

/**
 * Sending mail through Amazon SES v2 from one From address (`MAIL_FROM`). SES authorises
 * `ses:SendEmail` against the sending identity, which is the verified address or its verified
 * domain, so exactly those two identity ARNs of this account and region are granted, nothing else.
 * The identity itself is verified outside this stack (domain DKIM records live with the DNS).
 */
export class MailSender {
  readonly from: string;
  readonly identityArns: string[];

  constructor(scope: Construct, from: string) {
    const address = mailAddress(from);
    if (!address)
      throw new Error(
        `Context mailFrom must be an email address (optionally "Name <address>"), not "${from}"`,
      );
    this.from = from.trim();
    const domain = address.slice(address.indexOf('@') + 1);
    const stack = Stack.of(scope);
    this.identityArns = [domain, address].map((identity) =>
      stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
    );
  }

  grantSend(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ses:SendEmail'], resources: this.identityArns }),
    );
  }
}

import { ApiMapping, DomainName, IpAddressType, SecurityPolicy } from 'aws-cdk-lib/aws-apigatewayv2';
import type { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate, CertificateValidation } from 'aws-cdk-lib/aws-certificatemanager';
import { AaaaRecord, ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { RegionCode } from '../functions/regions.js';

export interface TenantDomainProps {
  code: RegionCode;
  baseDomain: string;
  /** An existing Route 53 zone that holds `<code>.<baseDomain>`, imported by id (no lookup). */
  hostedZone: { id: string; name: string };
  api: HttpApi;
  stage: HttpStage;
}

/**
 * Every tenant's host in the region, `*.<code>.<baseDomain>` (e.g. `acme.eu.id.example.com`):
 * a DNS-validated ACM certificate for the wildcard, an API Gateway regional custom domain name
 * (dual-stack, TLS 1.2) mapped to the API's stage, and alias A/AAAA records in the zone.
 */
export class TenantDomain extends Construct {
  readonly domainName: DomainName;
  readonly wildcard: string;

  constructor(scope: Construct, id: string, props: TenantDomainProps) {
    super(scope, id);
    this.wildcard = `*.${props.code}.${props.baseDomain}`;

    const zone = HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZone.id,
      zoneName: props.hostedZone.name,
    });

    const certificate = new Certificate(this, 'Certificate', {
      domainName: this.wildcard,
      validation: CertificateValidation.fromDns(zone),
    });

    this.domainName = new DomainName(this, 'DomainName', {
      domainName: this.wildcard,
      certificate,
      securityPolicy: SecurityPolicy.TLS_1_2,
      ipAddressType: IpAddressType.DUAL_STACK,
    });

    new ApiMapping(this, 'Mapping', { api: props.api, domainName: this.domainName, stage: props.stage });

    const target = RecordTarget.fromAlias(
      new ApiGatewayv2DomainProperties(
        this.domainName.regionalDomainName,
        this.domainName.regionalHostedZoneId,
      ),
    );
    new ARecord(this, 'A', { zone, recordName: this.wildcard, target });
    new AaaaRecord(this, 'Aaaa', { zone, recordName: this.wildcard, target });
  }
}

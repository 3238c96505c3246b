import {
  BasePathMapping,
  CfnDomainName,
  DomainName,
  EndpointType,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigateway';
import type { RestApi, Stage } from 'aws-cdk-lib/aws-apigateway';
import { Certificate, CertificateValidation } from 'aws-cdk-lib/aws-certificatemanager';
import { AaaaRecord, ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { RegionCode } from '../functions/regions.js';

export interface TenantDomainProps {
  code: RegionCode;
  baseDomain: string;
  /** An existing Route 53 zone that holds `<code>.<baseDomain>`, imported by id (no lookup). */
  hostedZone: { id: string; name: string };
  api: RestApi;
  stage: Stage;
}

/**
 * Every tenant's host in the region, `*.<code>.<baseDomain>` (e.g. `acme.eu.id.example.com`):
 * a DNS-validated ACM certificate for the wildcard, an API Gateway regional custom domain name
 * (dual-stack, TLS 1.2) whose root is mapped to the REST API's stage, and alias A/AAAA records in
 * the zone. Requests keep their `Host`, which is how the functions find the tenant.
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
      endpointType: EndpointType.REGIONAL,
      securityPolicy: SecurityPolicy.TLS_1_2,
    });
    // IPv6 as well as IPv4 clients, as the API itself (the L2 construct has no property for it).
    (this.domainName.node.defaultChild as CfnDomainName).addPropertyOverride(
      'EndpointConfiguration.IpAddressType',
      'dualstack',
    );

    new BasePathMapping(this, 'Mapping', {
      domainName: this.domainName,
      restApi: props.api,
      stage: props.stage,
    });

    const target = RecordTarget.fromAlias(new ApiGatewayDomain(this.domainName));
    new ARecord(this, 'A', { zone, recordName: this.wildcard, target });
    new AaaaRecord(this, 'Aaaa', { zone, recordName: this.wildcard, target });
  }
}

import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RegionCode } from '../functions/regions.js';
import { TABLE_SCHEMA } from '../functions/store/table-schema.js';

/** What a `table:read` function may call: single items and one partition's range. */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'] as const;
/**
 * What a `table:write` function may call. `TransactWriteItems` has no IAM action of its own: each
 * operation in a transaction is authorised as the matching item action, hence ConditionCheckItem.
 */
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * The region's single table (`identity-<code>`): every tenant-scoped item, keyed `pk`/`sk` as
 * `functions/store/table-schema.ts` declares in TABLE_SCHEMA, with DynamoDB TTL on `expiresAt`
 * (TTL only tidies up; every read still checks expiry). Tenant data must never vanish with a stack,
 * so the table is retained, deletion-protected and continuously backed up (PITR, 35 days).
 */
export class IdentityTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: { code: RegionCode }) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      tableName: `identity-${props.code}`,
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** GetItem and Query on this table only (no index exists, so none is granted). */
  grantRead(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...TABLE_READ_ACTIONS], resources: [this.table.tableArn] }),
    );
  }

  /** Item writes on this table only, including the parts of a TransactWriteItems call. */
  grantWrite(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...TABLE_WRITE_ACTIONS], resources: [this.table.tableArn] }),
    );
  }
}

/**
 * The table's key schema, shared by the CDK stack, DynamoDB Local and the store so they cannot
 * drift. No imports: `cdk synth` reads it without loading the DynamoDB client.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

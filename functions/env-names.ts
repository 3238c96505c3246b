/**
 * The names of the environment variables the functions read. The CDK stack sets them on every
 * function, the local server sets them before it loads a handler, and `config.ts` reads them: one
 * list for all three, so a name cannot be spelled two ways. No imports, so `lib/` can use it
 * without loading runtime code. What each variable means is documented on `Config` and in the README.
 */
export const ENV = {
  baseDomain: 'BASE_DOMAIN',
  regions: 'REGIONS',
  tableName: 'TABLE_NAME',
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  signer: 'SIGNER',
  kmsKeyId: 'KMS_KEY_ID',
  kmsPreviousKeyIds: 'KMS_PREVIOUS_KEY_IDS',
  localKeysDir: 'LOCAL_KEYS_DIR',
  secretBox: 'SECRET_BOX',
  secretsKeyId: 'SECRETS_KEY_ID',
  publicScheme: 'PUBLIC_SCHEME',
  publicPort: 'PUBLIC_PORT',
  tenantCacheSeconds: 'TENANT_CACHE_SECONDS',
  mailer: 'MAILER',
  mailFrom: 'MAIL_FROM',
  localOutboxDir: 'LOCAL_OUTBOX_DIR',
  /** `sms-voice` on AWS (End User Messaging SMS); `local` for development (the outbox). */
  texter: 'TEXTER',
  /** The phone number, sender id or pool ARN/id SMS is sent from (set by the stack from context). */
  smsOriginationIdentity: 'SMS_FROM',
  /** The End User Messaging SMS configuration set every message names (the stack creates it). */
  smsConfigurationSet: 'SMS_CONFIGURATION_SET',
  entraAuthority: 'ENTRA_AUTHORITY',
  /** The SQS queue back-channel logout tokens leave through (set on AWS); unset: delivered in-process. */
  logoutQueueUrl: 'LOGOUT_QUEUE_URL',
  /** Read by the logger (`log.ts`): INFO on AWS. */
  logLevel: 'LOG_LEVEL',
  /** Read by Powertools itself: the service name on every log line and metric. */
  powertoolsServiceName: 'POWERTOOLS_SERVICE_NAME',
  /** `emf`: metrics are written as CloudWatch EMF lines (set on AWS; locally only when asked). */
  metrics: 'METRICS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

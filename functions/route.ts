/** What one entry of the route table says (functions/routes.ts). */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a function may do, turned into least-privilege IAM by the stack. */
export type Permission =
  | 'table:read'
  | 'table:write'
  | 'kms:sign'
  | 'kms:publicKey'
  /** Seal and open stored secrets (TOTP) with the region's secrets key: kms:Encrypt and kms:Decrypt. */
  | 'kms:secrets'
  /** Open stored secrets only: kms:Decrypt (a page that shows, never seals). */
  | 'kms:secrets:open'
  /** Seal upstream identity providers' client secrets only (purpose `identity-provider:*`): kms:Encrypt. */
  | 'kms:idp-secrets'
  /** Open upstream identity providers' client secrets only (purpose `identity-provider:*`): kms:Decrypt. */
  | 'kms:idp-secrets:open'
  | 'ses:send'
  /** Send SMS through End User Messaging SMS: sms-voice:SendTextMessage on the stack's origination identity and configuration set. */
  | 'sms:send'
  /** Put back-channel logout tokens on the region's logout queue: sqs:SendMessage. */
  | 'queue:logout';

export interface Route {
  /** Unique, PascalCase: names the Lambda function and its log group. */
  id: string;
  methods: Method[];
  /** API Gateway path syntax: `{name}` is one path segment. */
  path: string;
  /** Module under `functions/handlers/` exporting `handler`. */
  handler: string;
  /** False only for routes outside any tenant (health). */
  tenant: boolean;
  permissions: Permission[];
  purpose: string;
}

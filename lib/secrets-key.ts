import { RemovalPolicy } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias, Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { RegionCode } from '../functions/regions.js';

/**
 * The region's secret-box key: a symmetric (SYMMETRIC_DEFAULT) ENCRYPT_DECRYPT KMS key that seals
 * the secrets kept for reuse, such as TOTP secrets and tenant signing keys
 * (functions/crypto/kms-secret-box.ts), each bound to its tenant (and user or key) by the encryption
 * context. KMS rotates its key material yearly; old
 * ciphertexts keep decrypting. Reachable as `alias/identity-secrets-<code>`, retained with the stack:
 * deleting it would make every sealed secret unreadable.
 */
export class SecretsKey extends Construct {
  readonly key: Key;
  readonly alias: Alias;

  constructor(scope: Construct, id: string, props: { code: RegionCode }) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: `Seals the identity provider's stored secrets (TOTP) in region ${props.code}`,
      keySpec: KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: KeyUsage.ENCRYPT_DECRYPT,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.alias = new Alias(this, 'Alias', {
      aliasName: `alias/identity-secrets-${props.code}`,
      targetKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  get keyArn(): string {
    return this.key.keyArn;
  }

  /** kms:Encrypt and kms:Decrypt on this key only (no GenerateDataKey, no ReEncrypt), with a tenant context. */
  grantSealAndOpen(grantee: IGrantable): void {
    this.grant(grantee, ['kms:Encrypt', 'kms:Decrypt']);
  }

  /** kms:Decrypt only, with a tenant context: for functions that show sealed secrets but never seal new ones. */
  grantOpen(grantee: IGrantable): void {
    this.grant(grantee, ['kms:Decrypt']);
  }

  /**
   * kms:Encrypt and kms:Decrypt of tenant signing keys only (purpose `signing-key:<kid>`,
   * functions/signing/tenant-keys.ts): the token function opens them, and seals the first keys of a
   * tenant made before per-tenant keys; it can never open a TOTP secret.
   */
  grantSigningKeys(grantee: IGrantable): void {
    this.grant(grantee, ['kms:Encrypt', 'kms:Decrypt'], {
      StringLike: { 'kms:EncryptionContext:purpose': `${SIGNING_KEY_PURPOSE_PREFIX}*` },
    });
  }

  /**
   * Seal or open upstream identity providers' client secrets only (purpose
   * `identity-provider:<id>`, functions/upstream/provider.ts): never a TOTP secret or a signing key.
   */
  grantIdentityProviderSecrets(grantee: IGrantable, actions: ('kms:Encrypt' | 'kms:Decrypt')[]): void {
    this.grant(grantee, actions, {
      StringLike: { 'kms:EncryptionContext:purpose': `${IDP_SECRET_PURPOSE_PREFIX}*` },
    });
  }

  private grant(grantee: IGrantable, actions: string[], extra: Record<string, unknown> = {}): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions,
        resources: [this.key.keyArn],
        conditions: { ...secretContextConditions(), ...extra },
      }),
    );
  }
}

/** The `purpose` of a sealed tenant signing key: `signing-key:<kid>` (functions/signing/tenant-keys.ts). */
export const SIGNING_KEY_PURPOSE_PREFIX = 'signing-key:';

/** The `purpose` of a sealed upstream provider secret: `identity-provider:<id>` (functions/upstream/provider.ts). */
export const IDP_SECRET_PURPOSE_PREFIX = 'identity-provider:';

/**
 * The encryption context keys the secret box binds every sealed value with (tenant, user,
 * purpose: functions/crypto/kms-secret-box.ts, functions/authenticators/authenticator-app.ts;
 * tenant signing keys use tenant and purpose only).
 */
export const SECRET_CONTEXT_KEYS = ['tenantId', 'userId', 'purpose'] as const;

/**
 * IAM conditions on every use of the secrets key: the request must carry a tenant in its
 * encryption context (`Null` false), and no context keys but the secret box's own. A function
 * (or a bug in one) cannot seal or open a value without naming its tenant, and a ciphertext sealed
 * under a tenant's context opens only under that context (KMS authenticates the context).
 */
export function secretContextConditions(): Record<string, Record<string, unknown>> {
  return {
    Null: { 'kms:EncryptionContext:tenantId': 'false' },
    'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...SECRET_CONTEXT_KEYS] },
  };
}

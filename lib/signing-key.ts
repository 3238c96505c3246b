import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias, Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { RegionCode } from '../functions/regions.js';

export interface SigningKeyProps {
  code: RegionCode;
  /** Context `signingKeyGeneration`: each value is a distinct KMS key. */
  generation: number;
  /** Context `previousSigningKeyArns`: retired keys still inside their verification window. */
  previousKeyArns: string[];
}

/**
 * The region's token-signing key: an asymmetric RSA_2048 SIGN_VERIFY KMS key (RS256; the private
 * half never leaves KMS), reachable as `alias/identity-signing-<code>`, retained with the stack.
 *
 * Rotation. KMS cannot rotate asymmetric keys automatically: a key is rotated by replacement, and
 * verifiers must keep seeing the old public key until everything it signed has expired.
 *
 * 1. Note the current key's ARN (stack output `SigningKeyArn`).
 * 2. Deploy with context `signingKeyGeneration` raised by one for that region
 *    (`{ "eu": 2 }`) and the old ARN added to `previousSigningKeyArns` (`{ "eu": ["arn:..."] }`).
 *    CloudFormation creates the new key, points the alias at it and leaves the old key in place
 *    (RETAIN); functions sign with the new key (`KMS_KEY_ID`) and keep publishing the old one in the
 *    JWKS (`KMS_PREVIOUS_KEY_IDS`), on which they may only call `kms:GetPublicKey`.
 * 3. After the verification window (the longest lifetime of anything the old key signed, e.g.
 *    refresh tokens, plus the JWKS cache time), remove the ARN from `previousSigningKeyArns`,
 *    deploy, and schedule the old key's deletion (`aws kms schedule-key-deletion`).
 */
export class SigningKey extends Construct {
  readonly key: Key;
  readonly alias: Alias;
  readonly previousKeyArns: string[];

  constructor(scope: Construct, id: string, props: SigningKeyProps) {
    super(scope, id);
    this.previousKeyArns = props.previousKeyArns;
    // Generation 1 keeps the plain id; each later generation is a new logical id, hence a new key.
    this.key = new Key(this, props.generation === 1 ? 'Key' : `Key${props.generation}`, {
      description: `Signs the identity provider's tokens in region ${props.code} (RS256), generation ${props.generation}`,
      keySpec: KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The alias has a stable id of its own, so a new key generation re-targets it in place rather
    // than creating a second alias of the same name.
    this.alias = new Alias(this, 'Alias', {
      aliasName: `alias/identity-signing-${props.code}`,
      targetKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.key).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason:
        'Asymmetric (RSA_2048 SIGN_VERIFY) KMS keys do not support automatic rotation; the key is rotated by ' +
        'replacement (context signingKeyGeneration), the old key staying in the JWKS via previousSigningKeyArns.',
    });
  }

  get keyArn(): string {
    return this.key.keyArn;
  }

  /**
   * kms:Sign on the current key. The signer also reads that key's public half, once per container,
   * because a token's `kid` is the key's RFC 7638 thumbprint: GetPublicKey on the same key comes with it.
   */
  grantSign(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['kms:Sign', 'kms:GetPublicKey'], resources: [this.key.keyArn] }),
    );
  }

  /** kms:GetPublicKey on the current key and on the previous keys still in their window. */
  grantPublicKey(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:GetPublicKey'],
        resources: [this.key.keyArn, ...this.previousKeyArns],
      }),
    );
  }
}

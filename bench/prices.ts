/**
 * Every price the bench's cost model uses, in one place: AWS list prices for US West (Oregon),
 * us-west-2, on-demand, without free tier, volume tiers or savings plans, in US dollars.
 *
 * They are NOT fetched by the bench (it never leaves loopback): they are public list prices, last
 * compared on 2026-11-29 with the pricing pages below as quoted by third-party summaries of them (this
 * machine cannot reach aws.amazon.com). An operator checks and updates them here, from:
 *   https://aws.amazon.com/lambda/pricing/
 *   https://aws.amazon.com/api-gateway/pricing/          (REST APIs: the regions' edge)
 *   https://aws.amazon.com/waf/pricing/
 *   https://aws.amazon.com/dynamodb/pricing/on-demand/
 *   https://aws.amazon.com/kms/pricing/
 * or with `aws pricing get-products --region us-east-1 --service-code AWSLambda ...`.
 */
export const PRICES = {
  /** When these list prices were taken (the on-demand DynamoDB cut of 1 November 2024 is included). */
  asOf: '2026-11 (list prices; not fetched at run time)',
  region: 'us-west-2',
  lambda: {
    /** Arm (Graviton) duration, first 7.5 billion GB-seconds a month. */
    perGbSecondArm64: 0.0000133334,
    perMillionRequests: 0.2,
    /** Duration is billed in 1 ms steps. */
    billingStepMs: 1,
  },
  restApi: {
    /** REST API, first 333 million requests a month (HTTP APIs, which cannot take WAF: $1.00). */
    perMillionRequests: 3.5,
  },
  waf: {
    /** Requests inspected by a web ACL (plus $5 per web ACL and $1 per rule a month, not per request). */
    perMillionRequests: 0.6,
  },
  dynamodb: {
    /** On-demand, Standard table class. */
    perMillionWriteRequestUnits: 0.625,
    perMillionReadRequestUnits: 0.125,
  },
  kms: {
    /** Symmetric requests (Encrypt, Decrypt, GenerateDataKey: the SecretBox). */
    perTenThousandSymmetric: 0.03,
    /** Asymmetric requests with an RSA 2048 key (the region's signing key in SIGNER=kms: Sign). */
    perTenThousandRsa2048: 0.03,
    /** Asymmetric requests with other key specs (ECC, RSA 3072/4096), should the key change. */
    perTenThousandOtherAsymmetric: 0.15,
  },
} as const;

/** What the stack deploys (lib/route-function.ts): every route's function. */
export const STACK = { lambdaMemoryMb: 512, architecture: 'arm64' } as const;

/**
 * Round-trip times the model adds to the measured Node CPU time to estimate a Lambda's billed
 * duration: the function waits for DynamoDB and KMS, and is billed for the wait. Typical in-region
 * figures, not measurements (DynamoDB Local here is far slower than DynamoDB).
 */
export const ASSUMED_LATENCY_MS = { dynamodb: 5, kms: 10 } as const;

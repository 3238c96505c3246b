/**
 * The response bodies of the routes `docs/openapi.json` describes, as zod schemas. The handlers
 * answer plain objects, not validated ones, so these are written here; each is checked at compile
 * time against the type the handler really returns (`shaped<T>()`: the same keys, each assignable
 * both ways), so a field added to a client, a user view or an outcome record and not documented
 * here fails `npm run typecheck`.
 */
import * as z from '../../functions/zod.js';
import { AUDIT_TYPES, type AuditType } from '../../functions/audit/events.js';
import type { EntraIntegration } from '../../functions/entra/integration.js';
import type { ProviderView } from '../../functions/upstream/provider.js';
import type { TenantScope } from '../../functions/scopes/tenant-scopes.js';
import type { TenantSettings } from '../../functions/tenants/settings.js';
import type { ActionConfig } from '../../functions/actions/action.js';
import { OUTCOMES } from '../../functions/actions/action.js';
import type { Rule } from '../../functions/actions/rules.js';
import type { AuthenticatorView } from '../../functions/authenticators/types.js';
import {
  GRANT_TYPES,
  REQUEST_OBJECT_ALGS,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type Client,
  type PublicClientJwk,
} from '../../functions/clients/client.js';
import type { InitAuthResult } from '../../functions/federation/init-auth.js';
import { SIGNING_ALGS } from '../../functions/signing/signer.js';
import { profileSchema } from '../../functions/users/profile.js';
import type { OutcomeRecord, UserRecords } from '../../functions/users/user-records.js';

/** A and B have the same keys and each is assignable to the other. */
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;

/** The schema itself, when its output has the shape of `T`; a type error otherwise. */
const shaped =
  <T>() =>
  <S extends z.core.$ZodType>(schema: Same<z.output<S>, T> extends true ? S : never): S =>
    schema;

const AUTHENTICATOR_TYPES = ['PASSKEY', 'AUTHENTICATOR_APP', 'EMAIL_OTP', 'SMS'] as const;
const ACTION_STATES = ['ALLOW', 'BLOCK', 'CHALLENGE_SUCCEEDED', 'CHALLENGE_FAILED'] as const;
const timestamp = z.iso.datetime();

export const initAuthResultSchema = shaped<InitAuthResult>()(
  z.object({
    token: z.string(),
    idempotencyKey: z.uuid(),
    expiresIn: z.number().check(z.int()),
  }),
);

export const authenticatorSchema = shaped<AuthenticatorView>()(
  z.object({
    id: z.string(),
    type: z.enum(AUTHENTICATOR_TYPES),
    name: z.string(),
    createdAt: timestamp,
    lastUsedAt: z.optional(timestamp),
  }),
);

/** A stored profile: the `PUT /v1/users/{userId}` body plus its timestamps. */
export const storedProfileSchema = z.extend(profileSchema, { created_at: timestamp, updated_at: timestamp });

type UserView = Awaited<ReturnType<UserRecords['view']>>;

export const userSchema = shaped<UserView>()(
  z.object({
    userId: z.string(),
    isEnrolled: z.boolean(),
    enrolledVerificationMethods: z.array(z.enum(AUTHENTICATOR_TYPES)),
    authenticators: z.array(
      z.object({
        id: z.string(),
        type: z.enum(AUTHENTICATOR_TYPES),
        name: z.optional(z.string()),
        createdAt: timestamp,
        lastUsedAt: z.optional(timestamp),
      }),
    ),
    profile: z.optional(storedProfileSchema),
  }),
);

const publicJwkSchema = shaped<PublicClientJwk>()(
  z.object({
    kty: z.enum(['RSA', 'EC', 'OKP']),
    kid: z.optional(z.string()),
    alg: z.optional(z.enum(REQUEST_OBJECT_ALGS)),
    use: z.optional(z.literal('sig')),
    n: z.optional(z.string()),
    e: z.optional(z.string()),
    crv: z.optional(z.enum(['P-256', 'Ed25519'])),
    x: z.optional(z.string()),
    y: z.optional(z.string()),
  }),
);

const seconds = z.number().check(z.int());

/** A client as the management API shows it: its RFC 7591 metadata, never the secret's hash. */
export const clientSchema = shaped<Omit<Client, 'secret_hash'>>()(
  z.object({
    client_id: z.string(),
    client_name: z.optional(z.string()),
    built_in: z.boolean(),
    client_type: z.enum(['confidential', 'public']),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    grant_types: z.array(z.enum(GRANT_TYPES)),
    response_types: z.array(z.string()),
    scope: z.string(),
    token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
    require_pkce: z.boolean(),
    require_pushed_authorization_requests: z.boolean(),
    first_party: z.boolean(),
    access_token_lifetime: seconds,
    id_token_lifetime: seconds,
    id_token_signed_response_alg: z.enum(SIGNING_ALGS),
    access_token_signed_response_alg: z.enum(SIGNING_ALGS),
    resources: z.array(z.string()),
    refresh_token_lifetime: seconds,
    refresh_token_absolute_lifetime: seconds,
    jwks: z.optional(z.object({ keys: z.array(publicJwkSchema) })),
    request_object_signing_alg: z.optional(z.enum(REQUEST_OBJECT_ALGS)),
    require_signed_request_object: z.optional(z.boolean()),
    dpop_bound_access_tokens: z.optional(z.boolean()),
    require_dpop_nonce: z.optional(z.boolean()),
    backchannel_logout_uri: z.optional(z.string()),
    backchannel_logout_session_required: z.optional(z.boolean()),
    userinfo_signed_response_alg: z.optional(z.enum(SIGNING_ALGS)),
    id_token_scope_claims: z.optional(z.boolean()),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const clientListSchema = z.object({ clients: z.array(clientSchema) });

/**
 * One audit event. `detail` depends on `type` (ids, names and counts only; docs/api.md lists them),
 * so it is an open object here rather than one schema per type.
 */
const auditEventSchema = z.object({
  id: z.string(),
  time: timestamp,
  type: z.enum(AUDIT_TYPES as [AuditType, ...AuditType[]]),
  outcome: z.enum(['success', 'failure']),
  actor: z.object({
    kind: z.enum(['tenant-secret', 'client', 'user', 'operator']),
    id: z.optional(z.string()),
  }),
  sourceIp: z.optional(z.string()),
  userAgent: z.optional(z.string()),
  detail: z.record(z.string(), z.unknown()),
});

/**
 * A page of `GET /v1/audit-events`. Not `shaped`: the events are a union by `type`, which the open
 * `detail` above deliberately flattens; test/http/openapi-conformance.test.ts checks real pages.
 */
export const auditPageSchema = z.object({
  events: z.array(auditEventSchema),
  next_cursor: z.optional(z.string()),
});

/** A client with the secret shown this once: at registration (not for public or key clients) and rotation. */
export const clientWithSecretSchema = z.extend(clientSchema, { client_secret: z.optional(z.string()) });

const ruleSchema = shaped<Rule>()(
  z.object({
    id: z.string(),
    name: z.optional(z.string()),
    description: z.optional(z.string()),
    condition: z.unknown(),
    outcome: z.enum(OUTCOMES),
  }),
);

export const actionSchema = shaped<ActionConfig>()(
  z.object({
    action: z.string(),
    defaultOutcome: z.enum(OUTCOMES),
    rules: z.array(ruleSchema),
    allowEnrollment: z.boolean(),
    maxAttempts: z.number().check(z.int()),
    updatedAt: timestamp,
  }),
);

/** `GET` also says whether the action was ever configured (else: the tenant default). */
export const actionReadSchema = shaped<ActionConfig & { configured: boolean }>()(
  z.extend(actionSchema, { configured: z.boolean() }),
);

export const outcomeRecordSchema = shaped<OutcomeRecord>()(
  z.object({
    userId: z.string(),
    action: z.string(),
    idempotencyKey: z.uuid(),
    state: z.enum(ACTION_STATES),
    isEnrolled: z.boolean(),
    createdAt: timestamp,
    stateUpdatedAt: timestamp,
    custom: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    appId: z.optional(z.string()),
    decidedBy: z.string(),
    verificationMethod: z.optional(z.enum(AUTHENTICATOR_TYPES)),
    ipAddress: z.optional(z.string()),
    userAgent: z.optional(z.string()),
  }),
);

/** `201` of `POST /v1/users/{userId}/authenticators`: an authenticator app's secret and URI shown this once. */
export const enrolledAuthenticatorSchema = z.object({
  authenticator: authenticatorSchema,
  secret: z.optional(z.string()),
  uri: z.optional(z.string()),
});

/**
 * The JSON error of the OAuth and management endpoints (RFC 6749 §5.2), as
 * `functions/http/lambda.ts` renders it: validation errors add `issues`, a taken login `field`.
 */
export const oauthErrorSchema = z.object({
  error: z.string(),
  error_description: z.string(),
  issues: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
  field: z.optional(z.enum(['email', 'username'])),
});

/**
 * The same error on the endpoints an Azure AD B2C RESTful technical profile calls, with the fields
 * of B2C's RESTful error contract: `status` is always 409 in the body, because B2C shows
 * `userMessage` only then; the HTTP status stays the real one.
 */
export const b2cErrorSchema = z.extend(oauthErrorSchema, {
  version: z.literal('1.0.0'),
  status: z.literal(409),
  code: z.string(),
  userMessage: z.string(),
  developerMessage: z.string(),
  requestId: z.optional(z.string()),
});

/** The stored Entra integration: what was put, with defaults, and when. */
export const entraIntegrationSchema = shaped<EntraIntegration>()(
  z.object({
    tenantIds: z.array(z.string()),
    applicationId: z.string(),
    clientId: z.string(),
    redirectUri: z.string(),
    linkExistingUsers: z.boolean(),
    allowEnrollment: z.boolean(),
    updatedAt: timestamp,
  }),
);

/** An upstream identity provider as the API shows it: never its secret. */
export const identityProviderSchema = shaped<ProviderView>()(
  z.object({
    id: z.string(),
    type: z.enum(['oidc', 'google', 'microsoft', 'apple']),
    name: z.string(),
    issuer: z.string(),
    client_id: z.string(),
    scopes: z.string(),
    linkByEmail: z.boolean(),
    tenant: z.optional(z.string()),
    team_id: z.optional(z.string()),
    key_id: z.optional(z.string()),
    redirect_uri: z.string(),
    updatedAt: timestamp,
  }),
);
export const identityProviderListSchema = z.object({ providers: z.array(identityProviderSchema) });

/** A tenant scope as stored. */
export const tenantScopeSchema = shaped<TenantScope>()(
  z.object({ scope: z.string(), description: z.string(), claims: z.array(z.string()), updatedAt: timestamp }),
);

export const tenantScopeListSchema = z.object({ scopes: z.array(tenantScopeSchema) });

/** The tenant's settings, every one with its value or default. */
export const tenantSettingsSchema = shaped<TenantSettings>()(
  z.object({
    signUp: z.enum(['off', 'email']),
    signUpAuthenticator: z.enum(['required', 'optional']),
    sms: z.object({ allowedCountries: z.array(z.string()) }),
  }),
);

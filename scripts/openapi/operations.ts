/**
 * What `docs/openapi.json` says about each operation of `/init-auth`, `/get-user` and `/v1/*`: the
 * request schemas the handlers validate with (imported, never copied), the response schemas of
 * `responses.ts`, the errors each one really answers, and examples. Keyed `METHOD path` exactly as
 * in `functions/routes.ts`: a route in scope without an entry here stops `npm run openapi`.
 */
import * as z from '../../functions/zod.js';
import { auditQuerySchema } from '../../functions/audit/query.js';
import { putEntraSchema } from '../../functions/entra/integration.js';
import { putScopeSchema, scopeNameSchema } from '../../functions/scopes/tenant-scopes.js';
import { patchSettingsSchema } from '../../functions/tenants/settings-schema.js';
import { providerIdSchema, putProviderSchema } from '../../functions/upstream/provider.js';
import { actionCodeSchema, PUT_ACTION_MAX_BYTES, putActionSchema } from '../../functions/actions/action.js';
import {
  enrollAuthenticatorSchema,
  MAX_AUTHENTICATOR_PATH_ID,
} from '../../functions/authenticators/enroll-schema.js';
import {
  CLIENT_ID_PATTERN,
  createClientSchema,
  MAX_CLIENT_ID_LENGTH,
  patchClientSchema,
} from '../../functions/clients/client.js';
import { initAuthSchema } from '../../functions/federation/init-auth.js';
import { getUserSchema } from '../../functions/users/get-user-schema.js';
import { profileSchema } from '../../functions/users/profile.js';
import { outcomePathSchema, userIdSchema, userPatchSchema } from '../../functions/users/user-schemas.js';
import * as examples from './examples.js';
import {
  actionReadSchema,
  auditPageSchema,
  entraIntegrationSchema,
  tenantScopeListSchema,
  tenantSettingsSchema,
  identityProviderListSchema,
  identityProviderSchema,
  tenantScopeSchema,
  actionSchema,
  b2cErrorSchema,
  clientListSchema,
  clientSchema,
  clientWithSecretSchema,
  enrolledAuthenticatorSchema,
  initAuthResultSchema,
  oauthErrorSchema,
  outcomeRecordSchema,
  storedProfileSchema,
  userSchema,
} from './responses.js';

/** The named schemas: `components.schemas`, referenced by name below. */
export const SCHEMAS = {
  InitAuthRequest: initAuthSchema,
  InitAuthResponse: initAuthResultSchema,
  GetUserRequest: getUserSchema,
  User: userSchema,
  UserProfile: profileSchema,
  StoredUserProfile: storedProfileSchema,
  UserProfilePatch: userPatchSchema,
  Client: clientSchema,
  ClientList: clientListSchema,
  ClientCreate: createClientSchema,
  ClientPatch: patchClientSchema,
  ClientWithSecret: clientWithSecretSchema,
  ActionPut: putActionSchema,
  Action: actionSchema,
  ActionRead: actionReadSchema,
  OutcomeRecord: outcomeRecordSchema,
  AuthenticatorEnroll: enrollAuthenticatorSchema,
  AuthenticatorEnrolled: enrolledAuthenticatorSchema,
  AuditEventPage: auditPageSchema,
  EntraIntegrationPut: putEntraSchema,
  EntraIntegration: entraIntegrationSchema,
  TenantScopePut: putScopeSchema,
  TenantScope: tenantScopeSchema,
  TenantScopeList: tenantScopeListSchema,
  TenantSettingsPatch: patchSettingsSchema,
  TenantSettings: tenantSettingsSchema,
  IdentityProviderPut: putProviderSchema,
  IdentityProvider: identityProviderSchema,
  IdentityProviderList: identityProviderListSchema,
  EndedSessions: z.object({ ended: z.number().check(z.int(), z.minimum(0)) }),
  OAuthError: oauthErrorSchema,
  B2CError: b2cErrorSchema,
} satisfies Record<string, z.core.$ZodType>;

export type SchemaName = keyof typeof SCHEMAS;

/** The errors a route can answer besides the ones every tenant route shares (host, 421, 429, 503). */
export type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 415;

export interface Body {
  schema: SchemaName;
  example: unknown;
}

export interface Success {
  description: string;
  /** Absent for 204. */
  body?: Body;
}

export interface Operation {
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** The shape of `/init-auth` and `/get-user`: the B2C RESTful error fields. */
  b2c?: boolean;
  /** One schema per `{name}` of the route's path, and an example of each. */
  path?: { schema: z.core.$ZodObject; example: Record<string, string> };
  /** The query parameters the handler validates, and an example of some. */
  query?: { schema: z.core.$ZodObject; example: Record<string, string> };
  body?: Body & { maxBytes?: number };
  responses: Record<number, Success>;
  /** Why this operation answers each error, in a few words (`true`: for the usual reason only). */
  errors: Partial<Record<ErrorStatus, string | true>>;
}

const BODY_400 = 'the body is not JSON or fails validation (`issues` names each problem)';
const AUTH_401 = 'no or a wrong tenant secret';

/** Documentation-only path schemas, for parameters a handler checks by hand (same bounds). */
const clientPath = z.object({
  clientId: z
    .string()
    .check(z.maxLength(MAX_CLIENT_ID_LENGTH), z.regex(CLIENT_ID_PATTERN, 'a client id (anything else: 404)')),
});
const SCOPE_PATH = { schema: z.object({ scope: scopeNameSchema }), example: { scope: 'hr' } };
const PROVIDER_PATH = { schema: z.object({ id: providerIdSchema }), example: { id: 'contoso' } };
const authenticatorId = z.string().check(z.minLength(1), z.maxLength(MAX_AUTHENTICATOR_PATH_ID));

export const OPERATIONS: Record<string, Operation> = {
  'GET /v1/audit-events': {
    operationId: 'listAuditEvents',
    tag: 'Audit events',
    summary: "The tenant's audit events, newest first",
    description:
      'Management changes, sign-in results, enrollments, lockouts and session ends of the last 90 days. `next_cursor` (opaque, bound to this tenant and these filters) fetches the next page; a page may be short or empty and still carry one.',
    query: {
      schema: auditQuerySchema,
      example: { type: 'signin.failed', userId: examples.USER_ID, limit: '50' },
    },
    responses: {
      200: {
        description: 'A page of events',
        body: { schema: 'AuditEventPage', example: examples.auditPage },
      },
    },
    errors: {
      400: "a query parameter is unknown or invalid, or `invalid_cursor` (another tenant's, edited, or made for other filters)",
      401: AUTH_401,
    },
  },
  'POST /init-auth': {
    operationId: 'initAuth',
    tag: 'Federated flow',
    summary: 'Start a federated challenge flow for one user and action',
    description:
      'Returns a single-use token for `/oidc/auth` (600 s). An identical call within 60 s (Azure AD B2C retries) returns the same `idempotencyKey` with a new token that replaces the previous one.',
    b2c: true,
    body: { schema: 'InitAuthRequest', example: examples.initAuthRequest },
    responses: {
      200: {
        description: 'The token and the idempotency key of this run',
        body: { schema: 'InitAuthResponse', example: examples.initAuthResponse },
      },
    },
    errors: {
      400: `${BODY_400}, or \`clientId\` is not a client of the tenant`,
      401: AUTH_401,
      413: true,
      415: true,
    },
  },
  'POST /get-user': {
    operationId: 'getUserForB2C',
    tag: 'Federated flow',
    summary: 'The user, with the user id in the body (Azure AD B2C)',
    description:
      '`GET /v1/users/{userId}` for Azure AD B2C RESTful technical profiles, which send claims in the body only. An unknown user is not an error: `isEnrolled` is false.',
    b2c: true,
    body: { schema: 'GetUserRequest', example: { userId: examples.USER_ID } },
    responses: { 200: { description: 'The user', body: { schema: 'User', example: examples.user } } },
    errors: { 400: BODY_400, 401: AUTH_401, 413: true, 415: true },
  },
  'GET /v1/clients': {
    operationId: 'listClients',
    tag: 'Clients',
    summary: "List the tenant's clients, the built-in one first",
    responses: {
      200: {
        description: 'The clients',
        body: { schema: 'ClientList', example: { clients: [examples.builtInClient, examples.client] } },
      },
    },
    errors: { 401: AUTH_401 },
  },
  'POST /v1/clients': {
    operationId: 'createClient',
    tag: 'Clients',
    summary: 'Register a client (RFC 7591 metadata)',
    description:
      'Every field is optional. `client_secret` is in the answer once, when one was generated (not for public or `private_key_jwt` clients). A field the schema refuses or a rule across fields answers 400 `invalid_client_metadata` (RFC 7591 §3.2.2).',
    body: { schema: 'ClientCreate', example: examples.createClient },
    responses: {
      201: {
        description: 'The client, with its secret shown once',
        body: {
          schema: 'ClientWithSecret',
          example: { ...examples.client, client_secret: examples.CLIENT_SECRET },
        },
      },
    },
    errors: {
      400: '`invalid_client_metadata`: a field or a rule across fields is refused',
      401: AUTH_401,
      413: true,
      415: true,
    },
  },
  'GET /v1/clients/{clientId}': {
    operationId: 'getClient',
    tag: 'Clients',
    summary: 'Read a client',
    path: { schema: clientPath, example: { clientId: examples.CLIENT_ID } },
    responses: { 200: { description: 'The client', body: { schema: 'Client', example: examples.client } } },
    errors: { 401: AUTH_401, 404: 'no such client' },
  },
  'PATCH /v1/clients/{clientId}': {
    operationId: 'updateClient',
    tag: 'Clients',
    summary: 'Change a client, the built-in one included',
    description:
      'Any subset of the registration fields except `client_type`; unknown fields are refused. `jwks: null` removes the keys, `request_object_signing_alg: null` the restriction.',
    path: { schema: clientPath, example: { clientId: examples.TENANT_ID } },
    body: { schema: 'ClientPatch', example: { redirect_uris: [examples.B2C_REDIRECT_URI] } },
    responses: {
      200: {
        description: 'The changed client',
        body: {
          schema: 'Client',
          example: { ...examples.builtInClient, redirect_uris: [examples.B2C_REDIRECT_URI] },
        },
      },
    },
    errors: {
      400: '`invalid_client_metadata`: a field or a rule across fields is refused',
      401: AUTH_401,
      404: 'no such client',
      413: true,
      415: true,
    },
  },
  'DELETE /v1/clients/{clientId}': {
    operationId: 'deleteClient',
    tag: 'Clients',
    summary: 'Delete a registered client and revoke its tokens',
    path: { schema: clientPath, example: { clientId: examples.CLIENT_ID } },
    responses: { 204: { description: 'Deleted' } },
    errors: {
      400: '`invalid_client_metadata`: the built-in client cannot be deleted',
      401: AUTH_401,
      404: 'no such client',
    },
  },
  'POST /v1/clients/{clientId}/secret': {
    operationId: 'rotateClientSecret',
    tag: 'Clients',
    summary: "Rotate a registered client's secret",
    description:
      "The new secret is shown once. The built-in client's secret is the tenant secret: rotate it with the operator CLI.",
    path: { schema: clientPath, example: { clientId: examples.CLIENT_ID } },
    responses: {
      200: {
        description: 'The client and its new secret',
        body: {
          schema: 'ClientWithSecret',
          example: { ...examples.client, client_secret: examples.CLIENT_SECRET },
        },
      },
    },
    errors: {
      400: '`invalid_client_metadata`: the built-in client, or a public client (no secret)',
      401: AUTH_401,
      404: 'no such client',
    },
  },
  'GET /v1/actions/{action}': {
    operationId: 'getAction',
    tag: 'Actions',
    summary: "An action's configuration",
    description: 'An action never configured reads as the tenant default, with `configured: false`.',
    path: { schema: z.object({ action: actionCodeSchema }), example: { action: 'signIn' } },
    responses: {
      200: {
        description: 'The configuration',
        body: { schema: 'ActionRead', example: { ...examples.action, configured: true } },
      },
    },
    errors: { 400: 'the action code is not 1 to 64 letters, digits, `_` or `-`', 401: AUTH_401 },
  },
  'PUT /v1/actions/{action}': {
    operationId: 'putAction',
    tag: 'Actions',
    summary: "Set an action's whole configuration",
    description:
      'Omitted fields take their defaults. Rules are JSON Logic conditions, checked when saved: a 400 names the rule and the problem.',
    path: { schema: z.object({ action: actionCodeSchema }), example: { action: 'signIn' } },
    body: { schema: 'ActionPut', example: examples.putAction, maxBytes: PUT_ACTION_MAX_BYTES },
    responses: {
      200: {
        description: 'The configuration as stored',
        body: { schema: 'Action', example: examples.action },
      },
    },
    errors: { 400: `${BODY_400}, or a bad action code`, 401: AUTH_401, 413: true, 415: true },
  },
  'GET /v1/integrations/entra': {
    operationId: 'getEntraIntegration',
    tag: 'Integrations',
    summary: 'The Microsoft Entra ID external authentication method of the tenant',
    responses: {
      200: { description: 'The integration', body: { schema: 'EntraIntegration', example: examples.entra } },
    },
    errors: { 401: AUTH_401, 404: 'the tenant has no Entra integration' },
  },
  'PUT /v1/integrations/entra': {
    operationId: 'putEntraIntegration',
    tag: 'Integrations',
    summary: 'Create or replace the Microsoft Entra ID external authentication method',
    description:
      'The implicit `id_token` response (form_post) is accepted for `clientId` only, with `id_token_hint`s from the allowed Entra tenants issued to `applicationId` (docs/microsoft-entra.md).',
    body: { schema: 'EntraIntegrationPut', example: examples.entraPut },
    responses: {
      200: { description: 'The integration', body: { schema: 'EntraIntegration', example: examples.entra } },
    },
    errors: {
      400: BODY_400,
      401: AUTH_401,
      409: '`clientId` is the id of a registered client',
      413: true,
      415: true,
    },
  },
  'DELETE /v1/integrations/entra': {
    operationId: 'deleteEntraIntegration',
    tag: 'Integrations',
    summary: 'Remove the Microsoft Entra ID external authentication method',
    responses: { 204: { description: 'Removed' } },
    errors: { 401: AUTH_401, 404: 'the tenant has no Entra integration' },
  },
  'GET /v1/settings': {
    operationId: 'getSettings',
    tag: 'Settings',
    summary: "The tenant's self sign-up and SMS settings",
    responses: {
      200: {
        description: 'Every setting, with its default when never set',
        body: { schema: 'TenantSettings', example: examples.settings },
      },
    },
    errors: { 401: AUTH_401 },
  },
  'PATCH /v1/settings': {
    operationId: 'patchSettings',
    tag: 'Settings',
    summary: 'Change some settings',
    description:
      '`signUp: "email"` lets the hosted login offer "Create an account" (an email proven by a code, then a passkey or an authenticator app unless `signUpAuthenticator` is `optional`). `sms.allowedCountries` replaces the list of countries whose numbers may receive SMS codes (none by default). Settings not named keep their values.',
    body: { schema: 'TenantSettingsPatch', example: examples.settingsPatch },
    responses: {
      200: {
        description: 'Every setting after the change',
        body: { schema: 'TenantSettings', example: examples.settings },
      },
    },
    errors: {
      400: `${BODY_400}, an unknown country, or no setting named`,
      401: AUTH_401,
      413: true,
      415: true,
    },
  },
  'GET /v1/identity-providers': {
    operationId: 'listIdentityProviders',
    tag: 'Identity providers',
    summary: "The tenant's upstream OpenID Connect providers, by id",
    responses: {
      200: {
        description: 'The providers (never their secrets)',
        body: { schema: 'IdentityProviderList', example: examples.identityProviderList },
      },
    },
    errors: { 401: AUTH_401 },
  },
  'GET /v1/identity-providers/{id}': {
    operationId: 'getIdentityProvider',
    tag: 'Identity providers',
    summary: 'One upstream OpenID Connect provider',
    path: PROVIDER_PATH,
    responses: {
      200: {
        description: 'The provider (never its secret)',
        body: { schema: 'IdentityProvider', example: examples.identityProvider },
      },
    },
    errors: { 401: AUTH_401, 404: 'no such identity provider' },
  },
  'PUT /v1/identity-providers/{id}': {
    operationId: 'putIdentityProvider',
    tag: 'Identity providers',
    summary: 'Create or replace an upstream OpenID Connect provider',
    description:
      '`type` is `oidc` (any provider, by `issuer`), `google`, `microsoft` (Entra ID v2.0; `tenant`: `common`, `organizations`, `consumers` or a directory id) or `apple` (`team_id`, `key_id` and the PKCS#8 `private_key` instead of `client_secret`). The secret is sealed at rest and never returned. Register `redirect_uri` at the provider. The hosted login offers "Continue with `name`"; `identity_provider=<id>` on `/oidc/auth` goes straight there. `linkByEmail` (default false) links a first sign-in to the existing user with that email when the provider says `email_verified`.',
    path: PROVIDER_PATH,
    body: { schema: 'IdentityProviderPut', example: examples.identityProviderPut },
    responses: {
      200: {
        description: 'Replaced: the provider',
        body: { schema: 'IdentityProvider', example: examples.identityProvider },
      },
      201: {
        description: 'Created: the provider',
        body: { schema: 'IdentityProvider', example: examples.identityProvider },
      },
    },
    errors: {
      400: `${BODY_400}, or a bad provider id`,
      401: AUTH_401,
      409: '`too_many_providers`: the tenant has 20 already',
      413: true,
      415: true,
    },
  },
  'DELETE /v1/identity-providers/{id}': {
    operationId: 'deleteIdentityProvider',
    tag: 'Identity providers',
    summary: 'Remove an upstream OpenID Connect provider',
    description: 'Users who signed in through it stay; they sign in another way.',
    path: PROVIDER_PATH,
    responses: { 204: { description: 'Removed' } },
    errors: { 401: AUTH_401, 404: 'no such identity provider' },
  },
  'GET /v1/scopes': {
    operationId: 'listScopes',
    tag: 'Scopes',
    summary: "The tenant's own scopes, by name",
    responses: {
      200: { description: 'The scopes', body: { schema: 'TenantScopeList', example: examples.scopeList } },
    },
    errors: { 401: AUTH_401 },
  },
  'GET /v1/scopes/{scope}': {
    operationId: 'getScope',
    tag: 'Scopes',
    summary: 'One tenant scope',
    path: SCOPE_PATH,
    responses: {
      200: { description: 'The scope', body: { schema: 'TenantScope', example: examples.scope } },
    },
    errors: { 401: AUTH_401, 404: 'no such scope' },
  },
  'PUT /v1/scopes/{scope}': {
    operationId: 'putScope',
    tag: 'Scopes',
    summary: 'Define or replace a tenant scope',
    description:
      'A client registered with the scope (its `scope`) gets the claims at UserInfo, and in the ID token when asked for through `claims` or when the client has `id_token_scope_claims`, after consent; the consent page shows `description`. A claim is a custom attribute key (released as a claim of that name) or `roles` / `groups`. At most 50 scopes of 20 claims.',
    path: SCOPE_PATH,
    body: { schema: 'TenantScopePut', example: examples.scopePut },
    responses: {
      200: { description: 'Replaced: the scope', body: { schema: 'TenantScope', example: examples.scope } },
      201: { description: 'Created: the scope', body: { schema: 'TenantScope', example: examples.scope } },
    },
    errors: {
      400: `${BODY_400}, or the name is not a scope-token (RFC 6749 §3.3) or is a standard scope`,
      401: AUTH_401,
      409: '`too_many_scopes`: the tenant has 50 already',
      413: true,
      415: true,
    },
  },
  'DELETE /v1/scopes/{scope}': {
    operationId: 'deleteScope',
    tag: 'Scopes',
    summary: 'Remove a tenant scope',
    description: 'Clients registered with it keep the name in their `scope`; it releases nothing any more.',
    path: SCOPE_PATH,
    responses: { 204: { description: 'Removed' } },
    errors: { 401: AUTH_401, 404: 'no such scope' },
  },
  'GET /v1/users/{userId}': {
    operationId: 'getUser',
    tag: 'Users',
    summary: 'The user: enrollment, authenticators and profile',
    description: 'An unknown user is not a 404: `isEnrolled` is false and the lists are empty.',
    path: { schema: z.object({ userId: userIdSchema }), example: { userId: examples.USER_ID } },
    responses: { 200: { description: 'The user', body: { schema: 'User', example: examples.user } } },
    errors: { 400: 'the user id is not 1 to 256 characters without control characters', 401: AUTH_401 },
  },
  'PUT /v1/users/{userId}': {
    operationId: 'putUserProfile',
    tag: 'Users',
    summary: "Create or replace the user's profile",
    description: '`email` and `username` are login identifiers, unique in the tenant (case-insensitive).',
    path: { schema: z.object({ userId: userIdSchema }), example: { userId: examples.USER_ID } },
    body: { schema: 'UserProfile', example: examples.profile },
    responses: {
      200: { description: 'Replaced: the user', body: { schema: 'User', example: examples.userWithProfile } },
      201: { description: 'Created: the user', body: { schema: 'User', example: examples.userWithProfile } },
    },
    errors: {
      400: `${BODY_400}, or a bad user id`,
      401: AUTH_401,
      409: '`login_taken` (`field` says which) or `conflict` (a concurrent change)',
      413: true,
      415: true,
    },
  },
  'PATCH /v1/users/{userId}': {
    operationId: 'patchUserProfile',
    tag: 'Users',
    summary: 'Change the profile as a JSON Merge Patch (RFC 7396)',
    description:
      '`null` removes a field; `address` and `custom_attributes` merge key by key. The merged profile is validated as a whole.',
    path: { schema: z.object({ userId: userIdSchema }), example: { userId: examples.USER_ID } },
    body: { schema: 'UserProfilePatch', example: { nickname: 'Ada', website: null } },
    responses: {
      200: { description: 'The user', body: { schema: 'User', example: examples.userWithProfile } },
    },
    errors: {
      400: `${BODY_400}, or a bad user id`,
      401: AUTH_401,
      404: 'the user has no profile: create it with PUT',
      409: '`login_taken` (`field` says which) or `conflict` (a concurrent change)',
      413: true,
      415: true,
    },
  },
  'DELETE /v1/users/{userId}': {
    operationId: 'deleteUser',
    tag: 'Users',
    summary:
      "Delete the user's profile, login identifiers, authenticators and outcome records; revoke their tokens",
    path: { schema: z.object({ userId: userIdSchema }), example: { userId: examples.USER_ID } },
    responses: { 204: { description: 'Deleted' } },
    errors: { 400: 'the user id is not 1 to 256 characters without control characters', 401: AUTH_401 },
  },
  'DELETE /v1/users/{userId}/sessions': {
    operationId: 'endUserSessions',
    tag: 'Users',
    summary: "End every SSO session of the user and tell the sessions' clients (back-channel logout)",
    description:
      'The next authorization request asks the user to sign in. Tokens already issued stay valid until they expire or are revoked (deleting the user revokes them).',
    path: { schema: z.object({ userId: userIdSchema }), example: { userId: examples.USER_ID } },
    responses: {
      200: {
        description: 'How many sessions ended',
        body: { schema: 'EndedSessions', example: { ended: 1 } },
      },
    },
    errors: { 400: 'the user id is not 1 to 256 characters without control characters', 401: AUTH_401 },
  },
  'GET /v1/users/{userId}/actions/{action}/{idempotencyKey}': {
    operationId: 'getOutcome',
    tag: 'Users',
    summary: 'The recorded outcome of one run of an action',
    path: {
      schema: outcomePathSchema,
      example: { userId: examples.USER_ID, action: 'signIn', idempotencyKey: examples.IDEMPOTENCY_KEY },
    },
    responses: {
      200: {
        description: 'The outcome record',
        body: { schema: 'OutcomeRecord', example: examples.outcome },
      },
    },
    errors: {
      400: 'a path parameter is malformed',
      401: AUTH_401,
      404: 'no outcome recorded (the user never reached `/oidc/auth`)',
    },
  },
  'POST /v1/users/{userId}/authenticators': {
    operationId: 'enrollAuthenticator',
    tag: 'Authenticators',
    summary: 'Enroll a pre-verified email or mobile number, or create an authenticator app',
    description:
      "An authenticator app's `secret` (base32) and `uri` (`otpauth://totp/...`) are shown this once. An `SMS` number must be an E.164 mobile number in one of the tenant's `sms.allowedCountries`; it is stored normalised and shown masked. Passkeys are registered by the user on the hosted pages only.",
    path: { schema: z.object({ userId: authenticatorId }), example: { userId: examples.USER_ID } },
    body: { schema: 'AuthenticatorEnroll', example: { type: 'AUTHENTICATOR_APP', name: 'Work phone' } },
    responses: {
      201: {
        description: 'The authenticator',
        body: { schema: 'AuthenticatorEnrolled', example: examples.enrolledApp },
      },
    },
    errors: {
      400: `${BODY_400}, a user id over ${MAX_AUTHENTICATOR_PATH_ID} characters, or \`invalid_phone_number\` (not an E.164 mobile number, or outside the tenant's allowed countries)`,
      401: AUTH_401,
      409: "`phone_number_taken`: the number is another user's SMS authenticator",
      413: true,
      415: true,
    },
  },
  'DELETE /v1/users/{userId}/authenticators/{authenticatorId}': {
    operationId: 'removeAuthenticator',
    tag: 'Authenticators',
    summary: "Remove one of a user's authenticators",
    path: {
      schema: z.object({ userId: authenticatorId, authenticatorId }),
      example: { userId: examples.USER_ID, authenticatorId: examples.AUTHENTICATOR_ID },
    },
    responses: { 204: { description: 'Removed' } },
    errors: {
      400: `a path parameter over ${MAX_AUTHENTICATOR_PATH_ID} characters`,
      401: AUTH_401,
      404: 'the user has no such authenticator',
    },
  },
};

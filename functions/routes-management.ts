import type { Route } from './route.js';

/**
 * The management API's routes (`/v1/*`, tenant secret): a part of the one route table
 * (functions/routes.ts), kept apart so each file stays readable.
 */
export const managementRoutes: Route[] = [
  {
    id: 'Clients',
    methods: ['GET', 'POST'],
    path: '/v1/clients',
    handler: 'clients',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: 'Management: list and register OIDC clients',
  },
  {
    id: 'Client',
    methods: ['GET', 'PATCH', 'DELETE'],
    path: '/v1/clients/{clientId}',
    handler: 'client',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose:
      'Management: read, update (e.g. redirect_uris) and delete one client (the built-in one can be read and updated, not deleted)',
  },
  {
    id: 'ClientSecret',
    methods: ['POST'],
    path: '/v1/clients/{clientId}/secret',
    handler: 'client',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: "Management: rotate a registered client's secret (shown once)",
  },
  {
    id: 'Action',
    methods: ['GET', 'PUT'],
    path: '/v1/actions/{action}',
    handler: 'action',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: "Management: an action's default outcome, its JSON Logic rules, enrollment and attempt limits",
  },
  {
    id: 'User',
    methods: ['GET', 'PUT', 'PATCH', 'DELETE'],
    path: '/v1/users/{userId}',
    handler: 'user',
    tenant: true,
    // kms:sign: deleting a user ends their sessions and signs the back-channel logout tokens.
    permissions: ['table:read', 'table:write', 'kms:sign', 'queue:logout'],
    purpose:
      'Management: the user (profile, isEnrolled, authenticators); create/replace, merge-patch, delete',
  },
  {
    id: 'ActionOutcome',
    methods: ['GET'],
    path: '/v1/users/{userId}/actions/{action}/{idempotencyKey}',
    handler: 'action-outcome',
    tenant: true,
    permissions: ['table:read'],
    purpose: 'Management: the recorded outcome of one action run',
  },
  {
    id: 'UserSessions',
    methods: ['DELETE'],
    path: '/v1/users/{userId}/sessions',
    handler: 'user-sessions',
    tenant: true,
    permissions: ['table:read', 'table:write', 'kms:sign', 'queue:logout'],
    purpose:
      "Management: end every SSO session of a user and tell the sessions' clients (back-channel logout)",
  },
  {
    id: 'UserAuthenticators',
    methods: ['POST'],
    path: '/v1/users/{userId}/authenticators',
    handler: 'authenticators',
    tenant: true,
    permissions: ['table:read', 'table:write', 'kms:secrets'],
    purpose:
      'Management: enroll a pre-verified email, or create an authenticator app (its secret shown once)',
  },
  {
    id: 'UserAuthenticator',
    methods: ['DELETE'],
    path: '/v1/users/{userId}/authenticators/{authenticatorId}',
    handler: 'authenticators',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: "Management: remove one of a user's authenticators",
  },
  {
    id: 'AuditEvents',
    methods: ['GET'],
    path: '/v1/audit-events',
    handler: 'audit-events',
    tenant: true,
    permissions: ['table:read'],
    purpose: "Management: the tenant's audit events, newest first, filtered by time, type and user",
  },
  {
    id: 'EntraIntegration',
    methods: ['GET', 'PUT', 'DELETE'],
    path: '/v1/integrations/entra',
    handler: 'entra-integration',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose:
      'Management: the Microsoft Entra ID external authentication method (allowed Entra tenants, application id, client)',
  },
  {
    id: 'Settings',
    methods: ['GET', 'PATCH'],
    path: '/v1/settings',
    handler: 'settings',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose: "Management: the tenant's self sign-up and SMS settings",
  },
  {
    id: 'Scopes',
    methods: ['GET'],
    path: '/v1/scopes',
    handler: 'scopes',
    tenant: true,
    // table:write: failed tenant-secret attempts are counted (http/tenant-auth.ts).
    permissions: ['table:read', 'table:write'],
    purpose: "Management: list the tenant's own scopes",
  },
  {
    id: 'Scope',
    methods: ['GET', 'PUT', 'DELETE'],
    path: '/v1/scopes/{scope}',
    handler: 'scopes',
    tenant: true,
    permissions: ['table:read', 'table:write'],
    purpose:
      'Management: define, read and remove a tenant scope (its description and the claims it releases)',
  },
  {
    id: 'IdentityProviders',
    methods: ['GET'],
    path: '/v1/identity-providers',
    handler: 'identity-providers',
    tenant: true,
    // table:write: failed tenant-secret attempts are counted (http/tenant-auth.ts).
    permissions: ['table:read', 'table:write'],
    purpose: "Management: list the tenant's upstream OpenID Connect providers (never their secrets)",
  },
  {
    id: 'IdentityProvider',
    methods: ['GET', 'PUT', 'DELETE'],
    path: '/v1/identity-providers/{id}',
    handler: 'identity-providers',
    tenant: true,
    // kms:idp-secrets: the client secret (Apple: the private key) is sealed when put.
    permissions: ['table:read', 'table:write', 'kms:idp-secrets'],
    purpose:
      'Management: an upstream OpenID Connect provider (generic, Google, Microsoft, Apple), its secret sealed',
  },
];

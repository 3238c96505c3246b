/**
 * The examples of `docs/openapi.json`: one tenant, one user, one registered client. Each is checked
 * against its own schema by test/unit/openapi.test.ts, so an example cannot show what the API
 * refuses or never answers.
 */
import { badRequest, conflict, notFound, ProtocolError, tooManyRequests } from '../../functions/errors.js';
import { MAX_BODY_BYTES } from '../../functions/http/body.js';
import { payloadTooLarge, unauthorized, unsupportedMediaType } from '../../functions/http/errors.js';

export const TENANT_ID = '6e7053be-9cca-4dab-8702-00c8116feb85';
export const CLIENT_ID = '0f5e8f47-3c1e-4b8e-9a35-52d7c2a41b6e';
export const CLIENT_SECRET = 'Wq3cQ0o8z7vYt1mXkJ5rH2sLpN9aBdEfGhIjKlMnOpQ';
export const USER_ID = '123456';
export const IDEMPOTENCY_KEY = '8fdc705f-710c-4125-ae9b-604ab7f45d86';
export const AUTHENTICATOR_ID = '229d974c-5d0e-4a3b-8f2e-1c7b9a6d4e10';
export const B2C_REDIRECT_URI = 'https://contosob2c.b2clogin.com/contosob2c.onmicrosoft.com/oauth2/authresp';
const CREATED = '2026-11-29T10:45:49.326Z';
const UPDATED = '2026-11-29T10:45:53.475Z';

export const initAuthRequest = { userId: USER_ID, action: 'signIn', custom: { amount: 5000 } };

export const initAuthResponse = {
  token: `${IDEMPOTENCY_KEY}.HapmE36cVRKgfC_khYlk3AnB1fVl01m8a1ANdTirRhQ`,
  idempotencyKey: IDEMPOTENCY_KEY,
  expiresIn: 600,
};

const authenticators = [
  { id: AUTHENTICATOR_ID, type: 'AUTHENTICATOR_APP', name: 'Authenticator app', createdAt: UPDATED },
  {
    id: '372694e6-8b1f-4c55-9d0a-6f2e3b7c8a91',
    type: 'EMAIL_OTP',
    name: 'a•••@example.com',
    createdAt: CREATED,
  },
];

export const user = {
  userId: USER_ID,
  isEnrolled: true,
  enrolledVerificationMethods: ['AUTHENTICATOR_APP', 'EMAIL_OTP'],
  authenticators,
};

export const profile = {
  username: 'ada',
  email: 'ada@example.com',
  email_verified: true,
  name: 'Ada Lovelace',
  given_name: 'Ada',
  family_name: 'Lovelace',
  locale: 'en-GB',
  custom_attributes: { plan: 'gold' },
};

export const userWithProfile = { ...user, profile: { ...profile, created_at: CREATED, updated_at: UPDATED } };

const clientDefaults = {
  post_logout_redirect_uris: [],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  scope: 'openid',
  require_pushed_authorization_requests: false,
  access_token_lifetime: 600,
  id_token_lifetime: 600,
  id_token_signed_response_alg: 'RS256',
  access_token_signed_response_alg: 'RS256',
  resources: [],
  refresh_token_lifetime: 1209600,
  refresh_token_absolute_lifetime: 7776000,
};

export const builtInClient = {
  ...clientDefaults,
  client_id: TENANT_ID,
  client_name: 'Acme (built-in)',
  built_in: true,
  client_type: 'confidential',
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_post',
  require_pkce: false,
  first_party: true,
  created_at: CREATED,
  updated_at: CREATED,
};

export const createClient = {
  client_name: 'Acme web',
  redirect_uris: ['https://app.example.com/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile email offline_access',
};

export const client = {
  ...clientDefaults,
  ...createClient,
  client_id: CLIENT_ID,
  built_in: false,
  client_type: 'confidential',
  token_endpoint_auth_method: 'client_secret_basic',
  require_pkce: true,
  first_party: false,
  require_signed_request_object: false,
  created_at: UPDATED,
  updated_at: UPDATED,
};

export const putAction = {
  defaultOutcome: 'CHALLENGE',
  rules: [
    {
      id: 'block-high-amount',
      name: 'Large transfers',
      condition: { '>': [{ var: 'custom.amount' }, 1000] },
      outcome: 'BLOCK',
    },
    {
      id: 'office-network',
      condition: { ip_in_cidr: [{ var: 'request.ip' }, ['10.0.0.0/8', '192.168.0.0/16']] },
      outcome: 'ALLOW',
    },
  ],
  allowEnrollment: true,
  maxAttempts: 5,
};

export const action = { action: 'signIn', ...putAction, updatedAt: UPDATED };

export const outcome = {
  userId: USER_ID,
  action: 'signIn',
  idempotencyKey: IDEMPOTENCY_KEY,
  state: 'BLOCK',
  isEnrolled: false,
  createdAt: CREATED,
  stateUpdatedAt: UPDATED,
  custom: { amount: 5000 },
  decidedBy: 'rule:block-high-amount',
  ipAddress: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15',
};

export const enrolledApp = {
  authenticator: { id: AUTHENTICATOR_ID, type: 'AUTHENTICATOR_APP', name: 'Work phone', createdAt: UPDATED },
  secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  uri: 'otpauth://totp/Acme:123456?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme&algorithm=SHA1&digits=6&period=30',
};

/** The errors the examples show, rendered by the real renderer (`errorResponse` in functions/http/lambda.ts). */
export const REQUEST_ID = 'a9770200-195f-487a-aa64-238c8dc6974e';
export const ERRORS = {
  400: badRequest('userId: userId is required', 'invalid_request', {
    issues: [{ path: 'userId', message: 'userId is required' }],
  }),
  401: unauthorized('the tenant secret is not valid'),
  404: notFound('no such client'),
  409: conflict('the email "ada@example.com" is already used by another user', 'login_taken', {
    field: 'email',
  }),
  413: payloadTooLarge(MAX_BODY_BYTES),
  415: unsupportedMediaType('application/json'),
  421: new ProtocolError(421, 'misdirected_request', 'region "au" is not served by this deployment'),
  429: tooManyRequests(30, 'too many failed authentications: try again later'),
  503: new ProtocolError(
    503,
    'temporarily_unavailable',
    'the service is temporarily unavailable, try again',
    {
      'retry-after': '1',
    },
  ),
} satisfies Record<number, ProtocolError>;

/** A page of audit events: a failed sign-in, then the management change before it. */
export const auditPage = {
  events: [
    {
      id: '01JDX3W8V7Q2K5M9N4P6R8T0AB',
      time: '2026-11-29T10:15:02.123Z',
      type: 'signin.failed',
      outcome: 'failure',
      actor: { kind: 'user', id: USER_ID },
      sourceIp: '203.0.113.7',
      userAgent: 'Mozilla/5.0',
      detail: { userId: USER_ID, clientId: CLIENT_ID, method: 'AUTHENTICATOR_APP', final: false },
    },
  ],
  next_cursor: 'eyJ0IjoiLi4uIn0.c2lnbmF0dXJl',
};

/** An Entra integration as put: one Entra tenant, the provider's application, Entra's client id. */
export const entraPut = {
  tenantIds: ['72f988bf-86f1-41af-91ab-2d7cd011db47'],
  applicationId: '8a1d5f0e-2b3c-4d5e-8f90-1a2b3c4d5e6f',
  clientId: 'entra-eam',
  redirectUri: 'https://login.microsoftonline.com/common/federation/externalauthprovider',
  linkExistingUsers: false,
  allowEnrollment: true,
};

export const entra = { ...entraPut, updatedAt: '2026-11-29T10:00:00.000Z' };

/** A tenant scope: a description for the consent page, a custom attribute and the roles. */
export const scopePut = { description: 'See your department and roles', claims: ['department', 'roles'] };
export const scope = { scope: 'hr', ...scopePut, updatedAt: '2026-11-29T10:00:00.000Z' };
export const scopeList = { scopes: [scope] };

export const settingsPatch = { signUp: 'email', sms: { allowedCountries: ['NZ', 'US'] } };
export const settings = {
  signUp: 'email',
  signUpAuthenticator: 'required',
  sms: { allowedCountries: ['NZ', 'US'] },
};

/** An upstream OpenID Connect provider as put, and as the API shows it (the secret never). */
export const identityProviderPut = {
  type: 'oidc',
  name: 'Contoso staff',
  issuer: 'https://login.contoso.example',
  client_id: 'identity-platform',
  client_secret: 'a-long-random-secret-from-the-upstream',
  scopes: 'openid email profile',
  linkByEmail: false,
};
export const identityProvider = {
  id: 'contoso',
  type: 'oidc',
  name: 'Contoso staff',
  issuer: 'https://login.contoso.example',
  client_id: 'identity-platform',
  scopes: 'openid email profile',
  linkByEmail: false,
  redirect_uri: 'https://acme.us.id.example.com/oidc/callback/contoso',
  updatedAt: '2026-11-29T10:00:00.000Z',
};
export const identityProviderList = { providers: [identityProvider] };

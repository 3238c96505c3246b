/**
 * Builds `docs/openapi.json` (OpenAPI 3.1) from the route table and the registry of operations:
 * JSON Schemas come from the zod schemas themselves (`z.toJSONSchema`, JSON Schema 2020-12, the
 * dialect of OpenAPI 3.1), error examples from the real error renderer. Nothing here depends on
 * time or on the order of a hash, so the same code gives the same bytes (the CI stale check).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import * as z from '../../functions/zod.js';
import { errorResponse } from '../../functions/http/lambda.js';
import { REGION_CODES } from '../../functions/regions.js';
import { routes as routeTable, type Route } from '../../functions/routes.js';
import { SIGNING_ALGS } from '../../functions/signing/signer.js';
import { ERRORS, REQUEST_ID } from './examples.js';
import { OPERATIONS, SCHEMAS, type ErrorStatus, type Operation } from './operations.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

const packageVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;

/** The routes this document covers; `/oidc/*` is described by the OpenID discovery document. */
export const inScope = (route: Route): boolean =>
  route.path === '/init-auth' || route.path === '/get-user' || route.path.startsWith('/v1/');

type Json = Record<string, unknown>;

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Drops what belongs to a standalone JSON Schema document, not to a schema inside OpenAPI. */
function embedded(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/**
 * Where zod cannot say it: a signing algorithm is let through by the schema and judged by the
 * client rules (so a wrong one is `invalid_client_metadata`), but the contract is the list.
 */
function override(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: Json; path: (string | number)[] }): void {
  // The format says it; zod's own regular expression for it would be noise to a reader.
  if (ctx.jsonSchema.format === 'date-time' || ctx.jsonSchema.format === 'uuid')
    delete ctx.jsonSchema.pattern;
  if (ctx.zodSchema._zod.def.type !== 'custom') return;
  const field = ctx.path.at(-1);
  if (field === 'id_token_signed_response_alg' || field === 'access_token_signed_response_alg')
    Object.assign(ctx.jsonSchema, { type: 'string', enum: [...SIGNING_ALGS] });
  if (field === 'condition') ctx.jsonSchema.description = 'A JSON Logic expression (https://jsonlogic.com)';
}

const JSON_SCHEMA_OPTIONS = {
  target: 'draft-2020-12',
  io: 'input',
  unrepresentable: 'any',
  override,
} as const;

/** What a reader of the error schemas needs to know that the fields do not say. */
const DESCRIPTIONS: Partial<Record<keyof typeof SCHEMAS, string>> = {
  OAuthError:
    'The JSON error of the management API (RFC 6749 §5.2 form): `issues` lists validation problems by path, `field` names a taken login identifier.',
  B2CError:
    "The JSON error of `/init-auth` and `/get-user`, with Azure AD B2C's RESTful error contract fields: `status` is always 409 in the body (B2C shows `userMessage` only then) while the HTTP status is the real one; `code` and `developerMessage` repeat `error` and `error_description`.",
};

function componentSchemas(): Json {
  const registry = z.registry<{ id: string; description?: string }>();
  for (const [id, schema] of Object.entries(SCHEMAS)) {
    const description = DESCRIPTIONS[id as keyof typeof SCHEMAS];
    registry.add(schema, { id, ...(description ? { description } : {}) });
  }
  const { schemas } = z.toJSONSchema(registry, {
    ...JSON_SCHEMA_OPTIONS,
    uri: (id) => `#/components/schemas/${id}`,
    metadata: registry,
  }) as { schemas: Record<string, Json> };
  return Object.fromEntries(Object.keys(SCHEMAS).map((id) => [id, embedded(schemas[id]!)]));
}

const ERROR_RESPONSES: Record<ErrorStatus | 421 | 429 | 503, { name: string; description: string }> = {
  400: {
    name: 'BadRequest',
    description: '`invalid_request` (with `issues` for a body that fails validation), or `invalid_host`',
  },
  401: { name: 'Unauthorized', description: '`unauthorized`: no or a wrong tenant secret' },
  404: { name: 'NotFound', description: '`not_found`, or `unknown_tenant`: no such tenant in this region' },
  409: { name: 'Conflict', description: '`login_taken` (with `field`) or `conflict`' },
  413: { name: 'PayloadTooLarge', description: '`payload_too_large`: the body is over the limit' },
  415: { name: 'UnsupportedMediaType', description: '`unsupported_media_type`: the body is not JSON' },
  421: {
    name: 'MisdirectedRequest',
    description: '`misdirected_request`: the host names a region this deployment does not serve',
  },
  429: {
    name: 'TooManyRequests',
    description:
      '`too_many_requests`: too many failed authentications from this source (or against the tenant); wait `Retry-After` seconds',
  },
  503: {
    name: 'ServiceUnavailable',
    description: '`temporarily_unavailable`: a backend is throttled or unreachable; nothing was half-written',
  },
};

/** What every tenant route can answer, whatever it does: a bad host, an unknown tenant, limits, outages. */
const SHARED: Record<number, string> = {
  400: 'a malformed host (`invalid_host`)',
  404: 'no such tenant (`unknown_tenant`)',
};
const ALWAYS = [400, 404, 421, 429, 503] as const;

const HEADERS: Record<number, Json> = {
  401: { 'WWW-Authenticate': { schema: { type: 'string' }, example: 'Basic realm="identity"' } },
  429: { 'Retry-After': { schema: { type: 'integer', minimum: 1 }, description: 'Seconds to wait' } },
  503: { 'Retry-After': { schema: { type: 'integer', minimum: 1 }, description: 'Seconds to wait' } },
};

function errorComponents(): Json {
  const out: Json = {};
  for (const b2c of [false, true]) {
    for (const [status, { name, description }] of Object.entries(ERROR_RESPONSES)) {
      const err = ERRORS[Number(status) as keyof typeof ERRORS];
      const example = JSON.parse(errorResponse(err, b2c ? 'b2c' : 'json', REQUEST_ID).body!) as Json;
      out[`${b2c ? 'B2C' : ''}${name}`] = {
        description,
        ...(HEADERS[Number(status)] ? { headers: HEADERS[Number(status)] } : {}),
        content: {
          'application/json': { schema: schemaRef(b2c ? 'B2CError' : 'OAuthError'), example },
        },
      };
    }
  }
  return out;
}

function parameters(route: Route, op: Operation): Json[] {
  const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const shape = (op.path?.schema._zod.def.shape ?? {}) as Record<string, z.core.$ZodType>;
  const documented = Object.keys(shape);
  if ([...names].sort().join() !== [...documented].sort().join()) {
    throw new Error(
      `openapi: ${route.path} has the path parameters {${names.join('}, {')}} but its registry entry describes ${documented.join(', ') || 'none'}`,
    );
  }
  const inPath = names.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: embedded(z.toJSONSchema(shape[name]!, JSON_SCHEMA_OPTIONS) as Json),
    example: op.path!.example[name],
  }));
  const query = Object.entries((op.query?.schema._zod.def.shape ?? {}) as Record<string, z.core.$ZodType>);
  const inQuery = query.map(([name, schema]) => ({
    name,
    in: 'query',
    required: schema._zod.optin !== 'optional',
    schema: embedded(z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as Json),
    ...(op.query!.example[name] !== undefined ? { example: op.query!.example[name] } : {}),
  }));
  return [...inPath, ...inQuery];
}

function responses(op: Operation): Json {
  const out: Json = {};
  for (const [status, success] of Object.entries(op.responses)) {
    out[status] = {
      description: success.description,
      ...(success.body
        ? {
            content: {
              'application/json': { schema: schemaRef(success.body.schema), example: success.body.example },
            },
          }
        : {}),
    };
  }
  const statuses = new Set<number>([...Object.keys(op.errors).map(Number), ...ALWAYS]);
  for (const status of [...statuses].sort((a, b) => a - b)) {
    const { name } = ERROR_RESPONSES[status as keyof typeof ERROR_RESPONSES];
    const reasons = [op.errors[status as ErrorStatus], SHARED[status]].filter((r) => typeof r === 'string');
    out[status] = {
      $ref: `#/components/responses/${op.b2c ? 'B2C' : ''}${name}`,
      ...(reasons.length ? { description: reasons.join('; or ') } : {}),
    };
  }
  return out;
}

function operation(route: Route, op: Operation): Json {
  const limit = op.body?.maxBytes;
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(route.path.includes('{') || op.query ? { parameters: parameters(route, op) } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            ...(limit ? { description: `At most ${limit} bytes (else 413).` } : {}),
            content: { 'application/json': { schema: schemaRef(op.body.schema), example: op.body.example } },
          },
        }
      : {}),
    responses: responses(op),
  };
}

/** Every in-scope `METHOD path` has an entry and every entry a route; otherwise one error naming them all. */
function checkCoverage(table: Route[], operations: Record<string, Operation>): void {
  const wanted = table.filter(inScope).flatMap((r) => r.methods.map((m) => `${m} ${r.path}`));
  const missing = wanted.filter((key) => !operations[key]);
  const stale = Object.keys(operations).filter((key) => !wanted.includes(key));
  if (!missing.length && !stale.length) return;
  throw new Error(
    [
      ...missing.map(
        (k) => `openapi: ${k} is in functions/routes.ts but has no entry in scripts/openapi/operations.ts`,
      ),
      ...stale.map(
        (k) =>
          `openapi: scripts/openapi/operations.ts describes ${k}, which functions/routes.ts does not have`,
      ),
    ].join('\n'),
  );
}

export function buildDocument(
  table: Route[] = routeTable,
  operations: Record<string, Operation> = OPERATIONS,
  version = packageVersion(),
): Json {
  checkCoverage(table, operations);
  const paths: Json = {};
  for (const route of table.filter(inScope)) {
    const item: Json = {};
    for (const method of route.methods)
      item[method.toLowerCase()] = operation(route, operations[`${method} ${route.path}`]!);
    paths[route.path] = item;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Identity platform: federated flow and management API',
      version,
      description: [
        'The Authsignal-style federated flow (`/init-auth`), the Azure AD B2C proxy (`/get-user`) and the management API (`/v1/*`) of one tenant.',
        'Generated by `npm run openapi` from the zod schemas the handlers validate with; the prose reference is docs/api.md.',
        "The OpenID Connect and OAuth 2.0 endpoints (`/oidc/*`) are described by the tenant's OpenID discovery document, `/oidc/.well-known/openid-configuration`, not here.",
      ].join('\n\n'),
    },
    servers: [
      {
        url: 'https://{tenant}.{region}.{baseDomain}',
        description: "A tenant's host: its slug, the region it lives in, the deployment's base domain",
        variables: {
          tenant: { default: 'acme', description: "The tenant's slug" },
          region: { default: 'eu', enum: [...REGION_CODES], description: 'The region code' },
          baseDomain: { default: 'id.example.com', description: 'The base domain (`BASE_DOMAIN`)' },
        },
      },
      {
        url: 'http://{tenant}.{region}.localhost:3000',
        description: 'The local server (`npm start`)',
        variables: {
          tenant: { default: 'demo' },
          region: { default: 'us', enum: [...REGION_CODES] },
        },
      },
    ],
    security: [{ tenantSecret: [] }],
    tags: [
      {
        name: 'Federated flow',
        description: 'Called by a tenant backend or an Azure AD B2C RESTful technical profile',
      },
      { name: 'Clients', description: 'OIDC clients (RFC 7591 metadata)' },
      { name: 'Actions', description: 'Outcomes and JSON Logic rules of an action' },
      { name: 'Users', description: 'Users, profiles and recorded outcomes' },
      { name: 'Authenticators', description: "A user's authenticators" },
    ],
    paths,
    components: {
      securitySchemes: {
        tenantSecret: {
          type: 'http',
          scheme: 'basic',
          description:
            'HTTP Basic (RFC 7617) with the tenant secret, in any of three forms: `<secret>:` (empty password), `<secret>:<secret>` (what Azure AD B2C sends) or `<tenant id>:<secret>`. Failures are limited per source IP and per tenant (429).',
        },
      },
      schemas: componentSchemas(),
      responses: errorComponents(),
    },
  };
}

/** The document as the committed file holds it: formatted by prettier with the repository's settings. */
export async function renderDocument(doc: Json): Promise<string> {
  const options = (await resolveConfig(OPENAPI_FILE)) ?? {};
  return format(JSON.stringify(doc, null, 2), { ...options, filepath: OPENAPI_FILE });
}

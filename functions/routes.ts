/**
 * The one route table (DESIGN.md, principle 1). The CDK stack creates one API Gateway route per
 * method and one Lambda function per entry from it; the local server dispatches the same entries
 * to the same handler modules. Local and cloud cannot drift.
 */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a function may do, turned into least-privilege IAM by the stack. */
export type Permission = 'table:read' | 'table:write' | 'kms:sign' | 'kms:publicKey';

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

export const routes: Route[] = [
  {
    id: 'Health',
    methods: ['GET'],
    path: '/health',
    handler: 'health',
    tenant: false,
    permissions: [],
    purpose: 'Liveness: 200 when the function can answer',
  },
  {
    id: 'Discovery',
    methods: ['GET'],
    path: '/oidc/.well-known/openid-configuration',
    handler: 'discovery',
    tenant: true,
    permissions: ['table:read'],
    purpose: 'OpenID Provider metadata for the tenant (OpenID Connect Discovery 1.0 §4)',
  },
  {
    id: 'Jwks',
    methods: ['GET'],
    path: '/oidc/jwks',
    handler: 'jwks',
    tenant: true,
    permissions: ['table:read', 'kms:publicKey'],
    purpose: "The region's signing keys, current and still-verifiable previous ones (RFC 7517)",
  },
];

/** Matches a concrete path against a route path; returns the path parameters or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    const val = a[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (!val) return undefined;
      try {
        params[seg.slice(1, -1)] = decodeURIComponent(val);
      } catch {
        return undefined;
      }
    } else if (seg !== val) {
      return undefined;
    }
  }
  return params;
}

export function findRoute(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: Method[] } | undefined {
  const allowed: Method[] = [];
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    if ((route.methods as string[]).includes(method)) return { route, params };
    allowed.push(...route.methods);
  }
  return allowed.length ? { allowed } : undefined;
}

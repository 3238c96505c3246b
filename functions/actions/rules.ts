/**
 * Per-action rules: conditions written in JSON Logic (https://jsonlogic.com), an established,
 * serialisable format with an evaluator (`json-logic-js`), rather than a grammar of our own.
 *
 * A rule set is an array in priority order; the first rule whose condition is truthy decides the
 * outcome. Conditions are validated when they are saved: only an allow-list of operators, bounded
 * depth and size, and variables only under `custom.`, `user.` and `request.`. The evaluator checks
 * them again before running them, so a rule stored before a rule was tightened cannot run either.
 */
import jsonLogic, { type RulesLogic } from 'json-logic-js';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type { Outcome } from '../tenants/tenant.js';

export const RULE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
export const MAX_RULES = 50;
/** Nesting of operators and literal arrays: `{"and": [{"==": [{"var": "x"}, 1]}]}` is 3 deep. */
export const MAX_CONDITION_DEPTH = 10;
/** UTF-8 bytes of the condition serialised as compact JSON. */
export const MAX_CONDITION_BYTES = 4096;
export const MAX_RULE_NAME = 100;
export const MAX_RULE_DESCRIPTION = 500;

const RULE_OUTCOMES = ['ALLOW', 'CHALLENGE', 'BLOCK'] as const satisfies readonly Outcome[];

/** The only custom operator, registered once below: `{"ip_in_cidr": [<ip>, "10.0.0.0/8" | [ranges…]]}`. */
export const IP_IN_CIDR = 'ip_in_cidr';

/** JSON Logic operators a condition may use. Not `map`/`filter`/`reduce` (unbounded work) nor `log`. */
export const ALLOWED_OPERATORS: readonly string[] = [
  'var',
  '==',
  '===',
  '!=',
  '!==',
  '!',
  '!!',
  'or',
  'and',
  'if',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'cat',
  'substr',
  '+',
  '-',
  '*',
  '/',
  '%',
  'min',
  'max',
  'missing',
  'missing_some',
  'some',
  'all',
  'none',
  'merge',
  IP_IN_CIDR,
];
const ALLOWED = new Set(ALLOWED_OPERATORS);

/** How many arguments each operator takes: [min, max]. */
const ARITY: Record<string, [number, number]> = {
  var: [1, 2],
  '==': [2, 2],
  '===': [2, 2],
  '!=': [2, 2],
  '!==': [2, 2],
  '!': [1, 1],
  '!!': [1, 1],
  or: [1, Infinity],
  and: [1, Infinity],
  if: [1, Infinity],
  '<': [2, 3],
  '<=': [2, 3],
  '>': [2, 2],
  '>=': [2, 2],
  in: [2, 2],
  cat: [1, Infinity],
  substr: [2, 3],
  '+': [1, Infinity],
  '-': [1, 2],
  '*': [1, Infinity],
  '/': [2, 2],
  '%': [2, 2],
  min: [1, Infinity],
  max: [1, Infinity],
  missing: [1, Infinity],
  missing_some: [2, 2],
  some: [2, 2],
  all: [2, 2],
  none: [2, 2],
  merge: [1, Infinity],
  [IP_IN_CIDR]: [2, 2],
};
/** Property names that would reach prototypes rather than data. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** The facts a condition is evaluated against. */
export interface RuleFacts {
  custom: Record<string, string | number | boolean>;
  user: { isEnrolled: boolean; methods: string[] };
  request: { ip: string; userAgent: string };
  action: string;
}

/** Variables a condition may read outside `some`/`all`/`none` (besides `custom.<name>`). */
export const FACT_VARIABLES = ['user.isEnrolled', 'user.methods', 'request.ip', 'request.userAgent'] as const;

export interface ConditionIssue {
  /** Where in the condition, e.g. `['and', 0, '==', 0, 'var']`. */
  path: (string | number)[];
  message: string;
}

const VARIABLES_HINT =
  'use custom.<name>, user.isEnrolled, user.methods, user.methods.<index>, request.ip or request.userAgent';

/** Checks a root-scope variable path: `custom.<name>`, `user.isEnrolled`, `user.methods[.<n>]`, `request.ip|userAgent`. */
function rootPathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string') {
    return `a variable must be a literal string (${VARIABLES_HINT}), not ${JSON.stringify(path)}`;
  }
  const segments = path.split('.');
  const [head, ...rest] = segments;
  if (segments.some((s) => FORBIDDEN_SEGMENTS.has(s))) return `variable "${path}" is not allowed`;
  if (head === 'custom') {
    if (rest.length === 1 && rest[0] !== '') return undefined;
    return `variable "${path}": a custom data point is read as custom.<name> (one level)`;
  }
  if ((FACT_VARIABLES as readonly string[]).includes(path)) return undefined;
  if (head === 'user' && rest[0] === 'methods' && rest.length === 2 && /^\d{1,3}$/.test(rest[1]!))
    return undefined;
  if (head === 'user' || head === 'request') return `unknown variable "${path}" (${VARIABLES_HINT})`;
  return `variable "${path}" must start with custom., user. or request. (${VARIABLES_HINT})`;
}

/**
 * Inside `some`/`all`/`none`, `var` reads the current element, and the facts' arrays hold strings
 * (`user.methods`) or literals: so only `""` (the element itself) means anything there. Any other
 * path would quietly read null, e.g. `user.isEnrolled` meant as the root fact, so it is refused.
 */
function elementPathProblem(path: unknown): string | undefined {
  if (path === '' || path === null) return undefined;
  return `inside some/all/none a variable reads the current element: use {"var": ""} for the element itself; ${JSON.stringify(path)} cannot be read there`;
}

type Scope = 'root' | 'element';

function walk(
  node: unknown,
  path: (string | number)[],
  depth: number,
  scope: Scope,
  inPredicate: boolean,
  issues: ConditionIssue[],
): void {
  if (issues.length >= 10) return;
  if (node === null || typeof node === 'string' || typeof node === 'boolean') return;
  if (typeof node === 'number') {
    if (!Number.isFinite(node)) issues.push({ path, message: 'numbers must be finite' });
    return;
  }
  if (typeof node !== 'object') {
    issues.push({ path, message: `${typeof node} is not a JSON value` });
    return;
  }
  if (depth > MAX_CONDITION_DEPTH) {
    issues.push({ path, message: `the condition is nested more than ${MAX_CONDITION_DEPTH} levels deep` });
    return;
  }
  if (Array.isArray(node)) {
    node.forEach((el, i) => walk(el, [...path, i], depth + 1, scope, inPredicate, issues));
    return;
  }
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    issues.push({
      path,
      message: `an object in a condition is an operation with exactly one key, its operator (found ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'none'})`,
    });
    return;
  }
  const op = keys[0]!;
  if (!ALLOWED.has(op)) {
    issues.push({ path, message: `unknown operator "${op}" (allowed: ${ALLOWED_OPERATORS.join(' ')})` });
    return;
  }
  const raw = (node as Record<string, unknown>)[op];
  // JSON Logic's unary sugar: `{"var": "x"}` means `{"var": ["x"]}`.
  const args: unknown[] = Array.isArray(raw) ? raw : [raw];
  const argPath = (i: number) => (Array.isArray(raw) ? [...path, op, i] : [...path, op]);
  const [min, max] = ARITY[op]!;
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    issues.push({
      path: [...path, op],
      message: `"${op}" takes ${expected} argument${min === 1 && max === 1 ? '' : 's'}, not ${args.length}`,
    });
    return;
  }
  const pathProblem = scope === 'root' ? rootPathProblem : elementPathProblem;

  switch (op) {
    case 'var': {
      const problem = pathProblem(args[0]);
      if (problem) issues.push({ path: argPath(0), message: problem });
      if (args.length === 2) walk(args[1], argPath(1), depth + 1, scope, inPredicate, issues);
      return;
    }
    case 'missing': {
      // Either literal names as arguments, or one literal array of names.
      const names = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
      names.forEach((name, i) => {
        const problem = pathProblem(name);
        if (problem) issues.push({ path: [...path, op, i], message: problem });
      });
      return;
    }
    case 'missing_some': {
      if (typeof args[0] !== 'number' || !Number.isInteger(args[0]) || args[0] < 0) {
        issues.push({
          path: argPath(0),
          message: '"missing_some" needs a whole number of required values first',
        });
      }
      if (!Array.isArray(args[1])) {
        issues.push({
          path: argPath(1),
          message: '"missing_some" needs a literal array of variable names second',
        });
        return;
      }
      (args[1] as unknown[]).forEach((name, i) => {
        const problem = pathProblem(name);
        if (problem) issues.push({ path: [...argPath(1), i], message: problem });
      });
      return;
    }
    case 'some':
    case 'all':
    case 'none': {
      if (inPredicate) {
        issues.push({
          path: [...path, op],
          message: `"${op}" cannot be nested inside the condition of another some/all/none`,
        });
        return;
      }
      walk(args[0], argPath(0), depth + 1, scope, inPredicate, issues);
      walk(args[1], argPath(1), depth + 1, 'element', true, issues);
      return;
    }
    case IP_IN_CIDR: {
      walk(args[0], argPath(0), depth + 1, scope, inPredicate, issues);
      const ranges = args[1];
      const literal =
        typeof ranges === 'string' || (Array.isArray(ranges) && ranges.every((r) => typeof r === 'string'));
      if (literal) {
        try {
          blockList(ranges);
        } catch (err) {
          issues.push({ path: argPath(1), message: (err as Error).message });
        }
      } else {
        walk(ranges, argPath(1), depth + 1, scope, inPredicate, issues);
      }
      return;
    }
    default:
      args.forEach((arg, i) => walk(arg, argPath(i), depth + 1, scope, inPredicate, issues));
  }
}

/** Every problem with a condition (up to 10), or `[]` when it may be saved and run. */
export function checkCondition(condition: unknown): ConditionIssue[] {
  if (condition === undefined) return [{ path: [], message: 'a condition is required' }];
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(condition), 'utf8');
  } catch {
    return [{ path: [], message: 'the condition cannot be serialised as JSON' }];
  }
  if (size > MAX_CONDITION_BYTES) {
    return [
      {
        path: [],
        message: `the condition is ${size} bytes as JSON, more than the limit of ${MAX_CONDITION_BYTES}`,
      },
    ];
  }
  const issues: ConditionIssue[] = [];
  walk(condition, [], 1, 'root', false, issues);
  return issues;
}

// ---- the ip_in_cidr operator --------------------------------------------------------------------

function parseRange(range: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(range.trim());
  const version = m ? isIP(m[1]!) : 0;
  if (!m || version === 0)
    throw new Error(`"${range}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`);
  const bits = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) throw new Error(`"${range}": an IPv${version} prefix length is 0 to ${bits}`);
  return { address: m[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function blockList(ranges: unknown): BlockList {
  const list = typeof ranges === 'string' ? [ranges] : ranges;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.length > 100 ||
    !list.every((r) => typeof r === 'string')
  ) {
    throw new Error(`"${IP_IN_CIDR}" needs a CIDR range or an array of 1 to 100 of them`);
  }
  const blocks = new BlockList();
  for (const r of list as string[]) {
    const { address, prefix, family } = parseRange(r);
    blocks.addSubnet(address, prefix, family);
  }
  return blocks;
}

/** True when `ip` (IPv4, IPv6 or IPv4-mapped IPv6) lies in one of the ranges; false for a value that is no IP. */
export function ipInCidr(ip: unknown, ranges: unknown): boolean {
  const blocks = blockList(ranges);
  if (typeof ip !== 'string') return false;
  const address = ip.trim();
  const version = isIP(address);
  if (version === 0) return false;
  return blocks.check(address, version === 4 ? 'ipv4' : 'ipv6');
}

// The one place a custom operator is registered with json-logic-js (and it is allow-listed above).
jsonLogic.add_operation(IP_IN_CIDR, ipInCidr);

// ---- the rule model ---------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const ruleSchema = z
  .strictObject({
    id: z.string().regex(RULE_ID, 'a rule id is 1 to 64 letters, digits, "_" or "-"'),
    name: z.string().max(MAX_RULE_NAME, `a rule name is at most ${MAX_RULE_NAME} characters`).optional(),
    description: z
      .string()
      .max(MAX_RULE_DESCRIPTION, `a rule description is at most ${MAX_RULE_DESCRIPTION} characters`)
      .optional(),
    condition: z.custom<unknown>((v) => v !== undefined, {
      error: 'a rule needs a condition (a JSON Logic expression)',
    }),
    outcome: z.enum(RULE_OUTCOMES, { error: 'a rule outcome is ALLOW, CHALLENGE or BLOCK' }),
  })
  .superRefine(
    (rule, ctx) => {
      // Runs even when other fields are wrong, so every problem is reported at once.
      const raw: unknown = rule;
      if (!isObject(raw) || raw.condition === undefined) return;
      const name = typeof raw.id === 'string' ? `rule "${raw.id}"` : 'rule';
      for (const issue of checkCondition(raw.condition)) {
        ctx.addIssue({
          code: 'custom',
          path: ['condition', ...issue.path],
          message: `${name}: ${issue.message}`,
        });
      }
    },
    { when: (payload) => isObject(payload.value) },
  );

export interface Rule {
  id: string;
  name?: string;
  description?: string;
  /** A JSON Logic expression over the facts. */
  condition: unknown;
  outcome: Outcome;
}

/** Rules in priority order: at most 50, ids unique within the action. */
export const rulesSchema = z
  .array(ruleSchema)
  .max(MAX_RULES, `an action has at most ${MAX_RULES} rules`)
  .superRefine(
    (rules, ctx) => {
      const seen = new Set<string>();
      (rules as unknown[]).forEach((rule, i) => {
        const id = isObject(rule) ? rule.id : undefined;
        if (typeof id !== 'string') return;
        if (seen.has(id))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'id'],
            message: `rule id "${id}" is used more than once`,
          });
        seen.add(id);
      });
    },
    { when: (payload) => Array.isArray(payload.value) && payload.value.length <= MAX_RULES },
  );

// ---- evaluation -------------------------------------------------------------------------------

/** Builds the facts for a run. Objects have no prototype, so no variable can reach one. */
export function ruleFacts(input: {
  action: string;
  custom?: Record<string, string | number | boolean>;
  isEnrolled: boolean;
  methods: readonly string[];
  ip: string;
  userAgent: string;
}): RuleFacts {
  const custom = Object.create(null) as Record<string, string | number | boolean>;
  for (const [k, v] of Object.entries(input.custom ?? {})) custom[k] = v;
  const user = Object.assign(Object.create(null) as object, {
    isEnrolled: input.isEnrolled,
    methods: [...new Set(input.methods)].sort(),
  });
  const request = Object.assign(Object.create(null) as object, { ip: input.ip, userAgent: input.userAgent });
  return Object.assign(Object.create(null) as object, { custom, user, request, action: input.action });
}

export type RuleErrorHandler = (rule: Rule, error: Error) => void;

/**
 * The first rule whose condition holds decides; `undefined` when none does. A rule whose condition
 * is invalid or throws is skipped (reported to `onError`): one bad rule never breaks sign-in.
 */
export function evaluateRules(
  rules: readonly Rule[],
  facts: RuleFacts,
  onError?: RuleErrorHandler,
): { outcome: Outcome; ruleId: string } | undefined {
  for (const rule of rules) {
    try {
      const issues = checkCondition(rule.condition);
      if (issues.length) throw new Error(`invalid condition: ${issues.map((i) => i.message).join('; ')}`);
      if (!(RULE_OUTCOMES as readonly string[]).includes(rule.outcome))
        throw new Error(`invalid outcome ${String(rule.outcome)}`);
      const result: unknown = jsonLogic.apply(rule.condition as RulesLogic, facts);
      if (jsonLogic.truthy(result)) return { outcome: rule.outcome, ruleId: rule.id };
    } catch (err) {
      onError?.(rule, err instanceof Error ? err : new Error(String(err)));
    }
  }
  return undefined;
}

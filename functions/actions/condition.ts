/**
 * What a rule condition may say. Conditions are JSON Logic (https://jsonlogic.com) written by
 * tenants, so before one is saved, and again before it runs, it is walked once: only an
 * allow-list of operators with the right number of arguments, bounded depth and size, and
 * variables only under `custom.`, `user.` and `request.`.
 */
import { blockList, IP_IN_CIDR } from './ip-in-cidr.js';

/** Nesting of operators and literal arrays: `{"and": [{"==": [{"var": "x"}, 1]}]}` is 3 deep. */
export const MAX_CONDITION_DEPTH = 10;
/** UTF-8 bytes of the condition serialised as compact JSON. */
export const MAX_CONDITION_BYTES = 4096;
/** The walk stops collecting here: enough to fix a condition, not a flood for a broken one. */
const MAX_ISSUES = 10;

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

/** Variables a condition may read outside `some`/`all`/`none` (besides `custom.<name>`). */
export const FACT_VARIABLES = ['user.isEnrolled', 'user.methods', 'request.ip', 'request.userAgent'] as const;

type Path = (string | number)[];

export interface ConditionIssue {
  /** Where in the condition, e.g. `['and', 0, '==', 0, 'var']`. */
  path: Path;
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

/** Where the walk is: what a variable reads here, and whether it is inside a some/all/none predicate. */
interface Walk {
  scope: 'root' | 'element';
  inPredicate: boolean;
  issues: ConditionIssue[];
}

/** One operation `{"<op>": args}` at `path`, and where each of its arguments sits in the condition. */
interface Operation {
  op: string;
  args: unknown[];
  path: Path;
  argPath: (i: number) => Path;
}

type OperatorCheck = (operation: Operation, walk: Walk, depth: number) => void;

function variableProblem(walk: Walk, name: unknown): string | undefined {
  return walk.scope === 'root' ? rootPathProblem(name) : elementPathProblem(name);
}

/** Walks any JSON value of a condition: literals, literal arrays and operations. */
function walkNode(node: unknown, path: Path, depth: number, walk: Walk): void {
  if (walk.issues.length >= MAX_ISSUES) return;
  if (node === null || typeof node === 'string' || typeof node === 'boolean') return;
  if (typeof node === 'number') {
    if (!Number.isFinite(node)) walk.issues.push({ path, message: 'numbers must be finite' });
    return;
  }
  if (typeof node !== 'object') {
    walk.issues.push({ path, message: `${typeof node} is not a JSON value` });
    return;
  }
  if (depth > MAX_CONDITION_DEPTH) {
    walk.issues.push({
      path,
      message: `the condition is nested more than ${MAX_CONDITION_DEPTH} levels deep`,
    });
    return;
  }
  if (Array.isArray(node)) {
    node.forEach((el, i) => walkNode(el, [...path, i], depth + 1, walk));
    return;
  }
  const operation = readOperation(node as Record<string, unknown>, path, walk.issues);
  if (operation) (OPERATOR_CHECKS[operation.op] ?? walkArguments)(operation, walk, depth);
}

/** An object is an operation: exactly one key, an allowed operator, with as many arguments as it takes. */
function readOperation(
  node: Record<string, unknown>,
  path: Path,
  issues: ConditionIssue[],
): Operation | undefined {
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    issues.push({
      path,
      message: `an object in a condition is an operation with exactly one key, its operator (found ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'none'})`,
    });
    return undefined;
  }
  const op = keys[0]!;
  if (!ALLOWED.has(op)) {
    issues.push({ path, message: `unknown operator "${op}" (allowed: ${ALLOWED_OPERATORS.join(' ')})` });
    return undefined;
  }
  const raw = node[op];
  // JSON Logic's unary sugar: `{"var": "x"}` means `{"var": ["x"]}`.
  const args: unknown[] = Array.isArray(raw) ? raw : [raw];
  const problem = arityProblem(op, args.length);
  if (problem) {
    issues.push({ path: [...path, op], message: problem });
    return undefined;
  }
  const argPath = (i: number) => (Array.isArray(raw) ? [...path, op, i] : [...path, op]);
  return { op, args, path, argPath };
}

function arityProblem(op: string, count: number): string | undefined {
  const [min, max] = ARITY[op]!;
  if (count >= min && count <= max) return undefined;
  const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  return `"${op}" takes ${expected} argument${min === 1 && max === 1 ? '' : 's'}, not ${count}`;
}

/** Any operator without a check of its own: its arguments are conditions in the same scope. */
function walkArguments({ args, argPath }: Operation, walk: Walk, depth: number): void {
  args.forEach((arg, i) => walkNode(arg, argPath(i), depth + 1, walk));
}

/** `{"var": [<path>, <default>]}`: the path must name a fact; the default is any condition. */
function checkVar({ args, argPath }: Operation, walk: Walk, depth: number): void {
  const problem = variableProblem(walk, args[0]);
  if (problem) walk.issues.push({ path: argPath(0), message: problem });
  if (args.length === 2) walkNode(args[1], argPath(1), depth + 1, walk);
}

/** `missing`: literal variable names as arguments, or one literal array of them. */
function checkMissing({ op, args, path }: Operation, walk: Walk): void {
  const [first] = args;
  const names: unknown[] = args.length === 1 && Array.isArray(first) ? first : args;
  names.forEach((name, i) => {
    const problem = variableProblem(walk, name);
    if (problem) walk.issues.push({ path: [...path, op, i], message: problem });
  });
}

/** `missing_some`: a whole number of required values, then a literal array of variable names. */
function checkMissingSome({ args, argPath }: Operation, walk: Walk): void {
  const [required, names] = args;
  if (typeof required !== 'number' || !Number.isInteger(required) || required < 0) {
    walk.issues.push({
      path: argPath(0),
      message: '"missing_some" needs a whole number of required values first',
    });
  }
  if (!Array.isArray(names)) {
    walk.issues.push({
      path: argPath(1),
      message: '"missing_some" needs a literal array of variable names second',
    });
    return;
  }
  names.forEach((name, i) => {
    const problem = variableProblem(walk, name);
    if (problem) walk.issues.push({ path: [...argPath(1), i], message: problem });
  });
}

/**
 * `some`/`all`/`none`: an array, then a predicate that reads each element. Predicates do not nest,
 * which bounds the work of one evaluation to the product of two array lengths at most.
 */
function checkQuantifier({ op, args, path, argPath }: Operation, walk: Walk, depth: number): void {
  if (walk.inPredicate) {
    walk.issues.push({
      path: [...path, op],
      message: `"${op}" cannot be nested inside the condition of another some/all/none`,
    });
    return;
  }
  walkNode(args[0], argPath(0), depth + 1, walk);
  walkNode(args[1], argPath(1), depth + 1, { ...walk, scope: 'element', inPredicate: true });
}

/** `ip_in_cidr`: the address is any condition; literal ranges are parsed now, so a typo fails on save. */
function checkIpInCidr({ args, argPath }: Operation, walk: Walk, depth: number): void {
  walkNode(args[0], argPath(0), depth + 1, walk);
  const ranges = args[1];
  const literal =
    typeof ranges === 'string' || (Array.isArray(ranges) && ranges.every((r) => typeof r === 'string'));
  if (!literal) {
    walkNode(ranges, argPath(1), depth + 1, walk);
    return;
  }
  try {
    blockList(ranges);
  } catch (err) {
    walk.issues.push({ path: argPath(1), message: (err as Error).message });
  }
}

const OPERATOR_CHECKS: Partial<Record<string, OperatorCheck>> = {
  var: checkVar,
  missing: checkMissing,
  missing_some: checkMissingSome,
  some: checkQuantifier,
  all: checkQuantifier,
  none: checkQuantifier,
  [IP_IN_CIDR]: checkIpInCidr,
};

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
  walkNode(condition, [], 1, { scope: 'root', inPredicate: false, issues });
  return issues;
}

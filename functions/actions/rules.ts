/**
 * Per-action rules: conditions written in JSON Logic (https://jsonlogic.com), an established,
 * serialisable format with an evaluator (`json-logic-js`), rather than a grammar of our own.
 *
 * A rule set is an array in priority order; the first rule whose condition is truthy decides the
 * outcome. Conditions are validated when they are saved (`condition.ts`), and the evaluator checks
 * them again before running them, so a rule stored before a rule was tightened cannot run either.
 */
import jsonLogic, { type RulesLogic } from 'json-logic-js';
import * as z from '../zod.js';
import type { Outcome } from '../tenants/tenant.js';
import { checkCondition } from './condition.js';
import { IP_IN_CIDR, ipInCidr } from './ip-in-cidr.js';

export const RULE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
export const MAX_RULES = 50;
export const MAX_RULE_NAME = 100;
export const MAX_RULE_DESCRIPTION = 500;

const RULE_OUTCOMES = ['ALLOW', 'CHALLENGE', 'BLOCK'] as const satisfies readonly Outcome[];

// The one place a custom operator is registered with json-logic-js (condition.ts allow-lists it).
jsonLogic.add_operation(IP_IN_CIDR, ipInCidr);

/** The facts a condition is evaluated against. */
export interface RuleFacts {
  custom: Record<string, string | number | boolean>;
  user: { isEnrolled: boolean; methods: string[] };
  request: { ip: string; userAgent: string };
  action: string;
}

// ---- the rule model ---------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const ruleSchema = z
  .strictObject({
    id: z.string().check(z.regex(RULE_ID, 'a rule id is 1 to 64 letters, digits, "_" or "-"')),
    name: z.optional(
      z.string().check(z.maxLength(MAX_RULE_NAME, `a rule name is at most ${MAX_RULE_NAME} characters`)),
    ),
    description: z.optional(
      z
        .string()
        .check(
          z.maxLength(
            MAX_RULE_DESCRIPTION,
            `a rule description is at most ${MAX_RULE_DESCRIPTION} characters`,
          ),
        ),
    ),
    condition: z.custom<unknown>((v) => v !== undefined, {
      error: 'a rule needs a condition (a JSON Logic expression)',
    }),
    outcome: z.enum(RULE_OUTCOMES, { error: 'a rule outcome is ALLOW, CHALLENGE or BLOCK' }),
  })
  .check(
    z.superRefine(
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
    ),
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
export const rulesSchema = z.array(ruleSchema).check(
  z.maxLength(MAX_RULES, `an action has at most ${MAX_RULES} rules`),
  z.superRefine(
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
  ),
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

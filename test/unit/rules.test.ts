import { describe, expect, it } from 'vitest';
import { decide, decideAction, putActionSchema } from '../../functions/actions/action.js';
import { checkCondition } from '../../functions/actions/condition.js';
import { ipInCidr } from '../../functions/actions/ip-in-cidr.js';
import {
  evaluateRules,
  MAX_RULES,
  ruleFacts,
  rulesSchema,
  type Rule,
  type RuleFacts,
} from '../../functions/actions/rules.js';
import { describeIssues } from '../../functions/validate.js';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1';

function facts(
  over: {
    custom?: RuleFacts['custom'];
    isEnrolled?: boolean;
    methods?: string[];
    ip?: string;
    userAgent?: string;
  } = {},
): RuleFacts {
  const methods = over.methods ?? ['PASSKEY', 'EMAIL_OTP'];
  return ruleFacts({
    action: 'signIn',
    custom: over.custom ?? { amount: 500, currency: 'NZD', isVip: true, country: 'NZ' },
    isEnrolled: over.isEnrolled ?? methods.length > 0,
    methods,
    ip: over.ip ?? '203.0.113.7',
    userAgent: over.userAgent ?? IPHONE,
  });
}

const rule = (id: string, condition: unknown, outcome: Rule['outcome'] = 'BLOCK'): Rule => ({
  id,
  condition,
  outcome,
});

/** One rule with this condition: does it match these facts? */
function matches(condition: unknown, f: RuleFacts): boolean {
  expect(checkCondition(condition), 'the condition is valid').toEqual([]);
  return evaluateRules([rule('r', condition)], f)?.ruleId === 'r';
}

describe('evaluating conditions', () => {
  const cases: [string, unknown, RuleFacts, boolean][] = [
    // custom data points: numbers, strings, booleans
    ['number >', { '>': [{ var: 'custom.amount' }, 1000] }, facts({ custom: { amount: 5000 } }), true],
    ['number > (not)', { '>': [{ var: 'custom.amount' }, 1000] }, facts({ custom: { amount: 10 } }), false],
    ['number between (<= with 3 args)', { '<=': [100, { var: 'custom.amount' }, 1000] }, facts(), true],
    [
      'number == with a decimal',
      { '==': [{ var: 'custom.amount' }, 10.5] },
      facts({ custom: { amount: 10.5 } }),
      true,
    ],
    ['arithmetic', { '>': [{ '*': [{ var: 'custom.amount' }, 2] }, 999] }, facts(), true],
    ['string ===', { '===': [{ var: 'custom.currency' }, 'NZD'] }, facts(), true],
    ['string !==', { '!==': [{ var: 'custom.currency' }, 'NZD'] }, facts(), false],
    ['boolean true', { '===': [{ var: 'custom.isVip' }, true] }, facts(), true],
    ['boolean false', { '===': [{ var: 'custom.isVip' }, true] }, facts({ custom: { isVip: false } }), false],
    ['negated boolean', { '!': { var: 'custom.isVip' } }, facts({ custom: { isVip: false } }), true],
    [
      'a missing data point is null, not an error',
      { '>': [{ var: 'custom.amount' }, 1000] },
      facts({ custom: {} }),
      false,
    ],
    ['var with a default', { '===': [{ var: ['custom.channel', 'web'] }, 'web'] }, facts(), true],
    ['missing data points', { missing: ['custom.amount', 'custom.channel'] }, facts(), true],
    ['missing_some satisfied', { missing_some: [1, ['custom.amount', 'custom.channel']] }, facts(), false],
    // in: arrays and strings
    ['in an array', { in: [{ var: 'custom.country' }, ['NZ', 'AU']] }, facts(), true],
    ['in an array (not)', { in: [{ var: 'custom.country' }, ['US', 'GB']] }, facts(), false],
    ['in a string (substring)', { in: ['NZ', { var: 'custom.currency' }] }, facts(), true],
    // the user
    ['user is enrolled', { '==': [{ var: 'user.isEnrolled' }, true] }, facts(), true],
    ['user is not enrolled', { '!': { var: 'user.isEnrolled' } }, facts({ methods: [] }), true],
    ['method membership with in', { in: ['PASSKEY', { var: 'user.methods' }] }, facts(), true],
    [
      'method membership with in (not)',
      { in: ['AUTHENTICATOR_APP', { var: 'user.methods' }] },
      facts(),
      false,
    ],
    [
      'some method is a passkey',
      { some: [{ var: 'user.methods' }, { '==': [{ var: '' }, 'PASSKEY'] }] },
      facts({ methods: ['EMAIL_OTP', 'PASSKEY'] }),
      true,
    ],
    [
      'no method is a passkey',
      { none: [{ var: 'user.methods' }, { '==': [{ var: '' }, 'PASSKEY'] }] },
      facts({ methods: ['EMAIL_OTP'] }),
      true,
    ],
    [
      'all methods are phishing resistant (no methods: false)',
      { all: [{ var: 'user.methods' }, { in: [{ var: '' }, ['PASSKEY']] }] },
      facts({ methods: [] }),
      false,
    ],
    // the request
    ['ip equality', { '==': [{ var: 'request.ip' }, '203.0.113.7'] }, facts(), true],
    ['ip equality (not)', { '==': [{ var: 'request.ip' }, '203.0.113.8'] }, facts(), false],
    [
      'ipv4 in a CIDR',
      { ip_in_cidr: [{ var: 'request.ip' }, '10.0.0.0/8'] },
      facts({ ip: '10.20.30.40' }),
      true,
    ],
    [
      'ipv4 outside a CIDR',
      { ip_in_cidr: [{ var: 'request.ip' }, '10.0.0.0/8'] },
      facts({ ip: '11.0.0.1' }),
      false,
    ],
    [
      'ipv4 in one of several CIDRs',
      { ip_in_cidr: [{ var: 'request.ip' }, ['192.168.0.0/16', '203.0.113.0/24']] },
      facts(),
      true,
    ],
    [
      'ipv6 in a CIDR',
      { ip_in_cidr: [{ var: 'request.ip' }, '2001:db8::/32'] },
      facts({ ip: '2001:db8:1::42' }),
      true,
    ],
    [
      'ipv6 outside a CIDR',
      { ip_in_cidr: [{ var: 'request.ip' }, '2001:db8::/32'] },
      facts({ ip: '2001:db9::1' }),
      false,
    ],
    [
      'ipv4-mapped ipv6 in an ipv4 CIDR',
      { ip_in_cidr: [{ var: 'request.ip' }, '10.0.0.0/8'] },
      facts({ ip: '::ffff:10.1.2.3' }),
      true,
    ],
    ['a single address as a range', { ip_in_cidr: [{ var: 'request.ip' }, '203.0.113.7'] }, facts(), true],
    ['user agent substring', { in: ['iPhone', { var: 'request.userAgent' }] }, facts(), true],
    ['user agent substring (not)', { in: ['Android', { var: 'request.userAgent' }] }, facts(), false],
    // logic
    [
      'and/or combination',
      {
        and: [
          { '>': [{ var: 'custom.amount' }, 100] },
          { or: [{ '!': { var: 'user.isEnrolled' } }, { in: ['Mobile', { var: 'request.userAgent' }] }] },
        ],
      },
      facts(),
      true,
    ],
    ['if/else', { if: [{ '===': [{ var: 'custom.country' }, 'NZ'] }, false, true] }, facts(), false],
    [
      'cat and substr',
      { '===': [{ substr: [{ cat: [{ var: 'custom.currency' }, '-x'] }, 0, 3] }, 'NZD'] },
      facts(),
      true,
    ],
    ['a literal true matches', true, facts(), true],
    ['an empty array is falsy', { merge: [[]] }, facts(), false],
  ];

  it.each(cases)('%s', (_name, condition, f, expected) => {
    expect(matches(condition, f)).toBe(expected);
  });

  it('has at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });
});

describe('evaluateRules', () => {
  const high = rule('high-amount', { '>': [{ var: 'custom.amount' }, 1000] }, 'BLOCK');
  const medium = rule('medium-amount', { '>': [{ var: 'custom.amount' }, 100] }, 'CHALLENGE');
  const vip = rule('vip', { '==': [{ var: 'custom.isVip' }, true] }, 'ALLOW');

  it('the first matching rule wins even when later ones match too', () => {
    const f = facts({ custom: { amount: 5000, isVip: true } });
    expect(evaluateRules([high, medium, vip], f)).toEqual({ outcome: 'BLOCK', ruleId: 'high-amount' });
    expect(evaluateRules([vip, high, medium], f)).toEqual({ outcome: 'ALLOW', ruleId: 'vip' });
    expect(evaluateRules([medium, high], f)).toEqual({ outcome: 'CHALLENGE', ruleId: 'medium-amount' });
  });

  it('falls through to a later rule when earlier ones do not match', () => {
    expect(evaluateRules([high, medium], facts({ custom: { amount: 500 } }))).toEqual({
      outcome: 'CHALLENGE',
      ruleId: 'medium-amount',
    });
  });

  it('returns undefined when no rule matches, or there are none', () => {
    expect(evaluateRules([high, medium], facts({ custom: { amount: 5 } }))).toBeUndefined();
    expect(evaluateRules([], facts())).toBeUndefined();
  });

  it('skips a rule that throws at evaluation and reports it, without failing', () => {
    const errors: string[] = [];
    const throws = rule(
      'bad-range',
      { ip_in_cidr: [{ var: 'request.ip' }, { var: 'custom.range' }] },
      'BLOCK',
    );
    expect(checkCondition(throws.condition)).toEqual([]);
    const result = evaluateRules(
      [throws, medium],
      facts({ custom: { amount: 500, range: 'not a range' } }),
      (r, e) => errors.push(`${r.id}: ${e.message}`),
    );
    expect(result).toEqual({ outcome: 'CHALLENGE', ruleId: 'medium-amount' });
    expect(errors).toEqual([expect.stringMatching(/^bad-range: .*not an IP address or CIDR range/)]);
  });

  it('skips a stored rule that would not pass validation (unknown operator, wrong variable)', () => {
    const errors: string[] = [];
    const rules = [
      rule('unknown-op', { log: 'x' }, 'BLOCK'),
      rule('no-such-fact', { '==': [{ var: 'action' }, 'signIn'] }, 'BLOCK'),
      rule('proto', { '==': [{ var: 'custom.constructor' }, null] }, 'BLOCK'),
      vip,
    ];
    expect(evaluateRules(rules, facts(), (r) => errors.push(r.id))).toEqual({
      outcome: 'ALLOW',
      ruleId: 'vip',
    });
    expect(errors).toEqual(['unknown-op', 'no-such-fact', 'proto']);
  });

  it('cannot reach prototypes through the facts', () => {
    const f = facts();
    expect(Object.getPrototypeOf(f.custom)).toBeNull();
    expect(Object.getPrototypeOf(f.user)).toBeNull();
  });
});

describe('decideAction', () => {
  const rules = [rule('block-high-amount', { '>': [{ var: 'custom.amount' }, 1000] }, 'BLOCK')];

  it('reports the rule that decided', () => {
    expect(
      decideAction({ defaultOutcome: 'ALLOW', rules, configured: true }, facts({ custom: { amount: 5000 } })),
    ).toEqual({
      outcome: 'BLOCK',
      decidedBy: 'rule:block-high-amount',
    });
  });

  it('falls back to the action default, or the tenant default for an unconfigured action', () => {
    const f = facts({ custom: { amount: 10 } });
    expect(decideAction({ defaultOutcome: 'ALLOW', rules, configured: true }, f)).toEqual({
      outcome: 'ALLOW',
      decidedBy: 'action default',
    });
    expect(decideAction({ defaultOutcome: 'CHALLENGE', rules: [], configured: false }, f)).toEqual({
      outcome: 'CHALLENGE',
      decidedBy: 'tenant default',
    });
  });

  it('leaves decide() mapping outcomes to states as before', () => {
    expect(decide('ALLOW', true)).toEqual({ state: 'ALLOW' });
    expect(decide('BLOCK', false)).toEqual({ state: 'BLOCK' });
    expect(decide('CHALLENGE', false)).toEqual({ state: 'ALLOW' });
    expect(decide('CHALLENGE', true)).toEqual({ challenge: true });
  });
});

describe('ipInCidr', () => {
  it.each([
    ['10.1.2.3', '10.0.0.0/8', true],
    ['10.1.2.3', ['192.168.0.0/16', '10.1.2.0/24'], true],
    ['172.16.0.1', '10.0.0.0/8', false],
    ['0.0.0.1', '0.0.0.0/0', true],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::/128', false],
    ['2001:db8::1', '2001:db8::1', true],
    ['::ffff:192.168.1.1', '192.168.0.0/16', true],
    ['10.1.2.3', '2001:db8::/32', false],
    ['not an ip', '10.0.0.0/8', false],
  ] as [string, string | string[], boolean][])('%s in %j is %s', (ip, ranges, expected) => {
    expect(ipInCidr(ip, ranges)).toBe(expected);
  });

  it('throws for an invalid range', () => {
    expect(() => ipInCidr('10.0.0.1', '10.0.0.0/33')).toThrow(/prefix length/);
    expect(() => ipInCidr('10.0.0.1', 'ten/8')).toThrow(/not an IP address or CIDR range/);
  });
});

describe('the rules schema', () => {
  const valid = { id: 'r1', condition: { '==': [{ var: 'custom.a' }, 1] }, outcome: 'BLOCK' };
  const deep = (levels: number): unknown => {
    let c: unknown = { var: 'custom.a' };
    for (let i = 1; i < levels; i++) c = { '!': [c] };
    return c;
  };

  /** The one-line message the API would answer with, or undefined when the rules are valid. */
  function problem(rules: unknown): string | undefined {
    const parsed = rulesSchema.safeParse(rules);
    return parsed.success ? undefined : describeIssues(parsed.error).message;
  }

  it('accepts valid rules, with name and description', () => {
    expect(problem([{ ...valid, name: 'High amount', description: 'Block large payments' }])).toBeUndefined();
    expect(problem([])).toBeUndefined();
    expect(problem([{ ...valid, condition: deep(10) }])).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    [
      'an unknown operator',
      [{ ...valid, id: 'uses-map', condition: { map: [[1], { var: '' }] } }],
      /rule "uses-map": unknown operator "map"/,
    ],
    [
      'log',
      [{ ...valid, condition: { and: [true, { log: 1 }] } }],
      /^0\.condition\.and\.1: rule "r1": unknown operator "log"/,
    ],
    [
      'a method-call operator',
      [{ ...valid, condition: { 'toString.call': [] } }],
      /unknown operator "toString\.call"/,
    ],
    [
      'a var outside custom/user/request',
      [{ ...valid, condition: { var: 'action' } }],
      /rule "r1": variable "action" must start with custom\., user\. or request\./,
    ],
    [
      'an unknown user variable',
      [{ ...valid, condition: { var: 'user.isEnroled' } }],
      /unknown variable "user\.isEnroled"/,
    ],
    [
      'a prototype path',
      [{ ...valid, condition: { var: 'custom.__proto__' } }],
      /variable "custom\.__proto__" is not allowed/,
    ],
    [
      'a nested custom path',
      [{ ...valid, condition: { var: 'custom.a.length' } }],
      /custom\.<name> \(one level\)/,
    ],
    [
      'a computed var',
      [{ ...valid, condition: { var: { cat: ['custom.', 'a'] } } }],
      /a variable must be a literal string/,
    ],
    [
      'a wrong var inside missing',
      [{ ...valid, condition: { missing: ['custom.a', 'secret'] } }],
      /variable "secret" must start/,
    ],
    [
      'a root path inside some',
      [
        {
          ...valid,
          condition: { some: [{ var: 'user.methods' }, { '==': [{ var: 'user.isEnrolled' }, true] }] },
        },
      ],
      /inside some\/all\/none a variable reads the current element/,
    ],
    [
      'a quantifier nested in a quantifier',
      [{ ...valid, condition: { some: [{ var: 'user.methods' }, { all: [[1], true] }] } }],
      /"all" cannot be nested/,
    ],
    ['a wrong arity', [{ ...valid, condition: { '>': [1] } }], /">" takes 2 arguments, not 1/],
    ['an object literal', [{ ...valid, condition: { '==': [{ a: 1, b: 2 }, 1] } }], /exactly one key/],
    [
      'an invalid CIDR literal',
      [{ ...valid, condition: { ip_in_cidr: [{ var: 'request.ip' }, '10.0.0.0/40'] } }],
      /prefix length/,
    ],
    ['too deep', [{ ...valid, condition: deep(11) }], /nested more than 10 levels deep/],
    [
      'too big',
      [
        {
          ...valid,
          condition: { in: [{ var: 'custom.a' }, Array.from({ length: 500 }, (_, i) => `value-${i}`)] },
        },
      ],
      /bytes as JSON, more than the limit of 4096/,
    ],
    ['duplicate rule ids', [valid, { ...valid }], /^1\.id: rule id "r1" is used more than once/],
    ['a bad outcome', [{ ...valid, outcome: 'DENY' }], /a rule outcome is ALLOW, CHALLENGE or BLOCK/],
    ['a bad rule id', [{ ...valid, id: 'has space' }], /a rule id is 1 to 64/],
    ['a missing condition', [{ id: 'r1', outcome: 'BLOCK' }], /a rule needs a condition/],
    ['an unknown field', [{ ...valid, enabled: false }], /Unrecognized key/],
    [
      'more than 50 rules',
      Array.from({ length: MAX_RULES + 1 }, (_, i) => ({ ...valid, id: `r${i}` })),
      /at most 50 rules/,
    ],
  ])('rejects %s', (_name, rules, message) => {
    expect(problem(rules)).toMatch(message);
  });

  it('reports several problems at once', () => {
    const msg = problem([{ id: 'bad id', condition: { map: [] }, outcome: 'NOPE' }])!;
    expect(msg).toMatch(/rule id/);
    expect(msg).toMatch(/outcome/);
    expect(msg).toMatch(/unknown operator "map"/);
  });
});

describe('putActionSchema', () => {
  it('defaults rules, allowEnrollment and maxAttempts', () => {
    expect(putActionSchema.parse({ defaultOutcome: 'CHALLENGE' })).toEqual({
      defaultOutcome: 'CHALLENGE',
      rules: [],
      allowEnrollment: true,
      maxAttempts: 5,
    });
  });

  it.each([0, 11, 2.5, '3'])('rejects maxAttempts %j', (maxAttempts) => {
    expect(putActionSchema.safeParse({ defaultOutcome: 'ALLOW', maxAttempts }).success).toBe(false);
  });

  it('rejects a non-boolean allowEnrollment and a bad default outcome', () => {
    expect(putActionSchema.safeParse({ defaultOutcome: 'ALLOW', allowEnrollment: 'yes' }).success).toBe(
      false,
    );
    expect(putActionSchema.safeParse({ defaultOutcome: 'MAYBE' }).success).toBe(false);
  });
});

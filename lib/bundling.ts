/**
 * How every route's Lambda bundle is built: one definition read by the CDK stack
 * (`lib/route-function.ts`, through `NodejsFunction`'s bundling options) and by
 * `npm run bundle-report` (`scripts/bundle-report.ts`, through esbuild directly), so the report
 * measures exactly what is deployed. No imports: `cdk synth` and the report both load it cheaply.
 */

/**
 * ESM bundles may still contain CommonJS dependencies that call `require`; ESM has none, so the
 * bundle gets one. Single quotes only: the banner passes through a shell command line.
 */
export const REQUIRE_BANNER =
  "import { createRequire as __identityCreateRequire } from 'node:module'; " +
  'const require = __identityCreateRequire(import.meta.url);';

/** The esbuild settings of a route bundle (format ESM, node22, minified). */
export const BUNDLE = {
  format: 'esm',
  platform: 'node',
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: REQUIRE_BANNER,
  minify: true,
} as const;

/**
 * What a route bundle may weigh and how long its import may take on the machine that runs the
 * report: `npm run bundle-report -- --check` fails past these. A Lambda cold start pays the import
 * before the first request; one federated flow crosses about five functions.
 */
export const BUNDLE_BUDGET = {
  /** Minified bundle size, bytes. */
  bytes: 300 * 1024,
  /** Median import time in a fresh Node process, milliseconds. */
  importMs: 60,
} as const;

/**
 * Routes allowed past the budget, each with its own ceiling and the reason. `--check` holds them to
 * their ceiling instead, so they cannot grow unnoticed either.
 */
export const BUNDLE_EXCEPTIONS: Record<string, { bytes: number; importMs: number; reason: string }> = {
  interaction: {
    bytes: 460 * 1024,
    importMs: 70,
    reason:
      'the hosted pages enroll and text SMS numbers: libphonenumber-js and its mobile metadata ' +
      '(about 130 KB) parse them (the passkey ceremonies are in interaction-passkey)',
  },
  'interaction-passkey': {
    bytes: 640 * 1024,
    importMs: 90,
    reason:
      'the WebAuthn ceremonies: @simplewebauthn/server verifies attestation statements with asn1js ' +
      'and the @peculiar ASN.1 schemas (about 350 KB, loaded at import); its one export cannot be ' +
      'cut down to the option generators',
  },
  authenticators: {
    bytes: 400 * 1024,
    importMs: 60,
    reason:
      'a pre-verified SMS number is checked with libphonenumber-js and its mobile metadata (about ' +
      '130 KB): only numbers that can receive SMS, never fixed-line or premium-rate ranges',
  },
};

/**
 * The layering rules of the code base, checked on every test run. Each rule reads the import
 * statements of the `.ts` files under `functions/` and `lib/` with the TypeScript parser (static
 * imports, `export … from` and `import('…')` with a literal specifier; comments and strings are not
 * imports) and fails with the offending `file -> import` pairs.
 *
 * The layers: the edge (`functions/http/`, `functions/handlers/`, the hosted pages and
 * `functions/services.ts`, which wires adapters to ports) may import anything; adapters are the
 * files that talk to AWS; everything else is domain and protocol code, which sees ports only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAX_FILE_LINES = 400;

interface Import {
  /** Repository-relative path of the importing file, e.g. `functions/oidc/par.ts`. */
  from: string;
  /** Repository-relative path of the imported `.ts` file, or the package specifier. */
  to: string;
  typeOnly: boolean;
}

/** Repository-relative paths (with `/`) of the `.ts` files under `dir`. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (abs: string) => {
    for (const name of readdirSync(abs)) {
      const path = join(abs, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (name.endsWith('.ts')) out.push(relative(ROOT, path).split('\\').join('/'));
    }
  };
  visit(join(ROOT, dir));
  return out.sort();
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x.js'` runs the module
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((e) => e.isTypeOnly)
  );
}

/** The module specifiers a file imports, statically or dynamically, and whether only types come in. */
function specifiers(file: string): { specifier: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: isTypeOnlyImport(node) });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal;
      if (ts.isStringLiteral(literal)) found.push({ specifier: literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `./x.js` from `functions/oidc/par.ts` is `functions/oidc/x.ts`; a package stays as written. */
function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return posix.normalize(posix.join(dirname(from), specifier)).replace(/\.js$/, '.ts');
}

const FILES = [...tsFiles('functions'), ...tsFiles('lib')];
const IMPORTS: Import[] = FILES.flatMap((from) =>
  specifiers(from).map(({ specifier, typeOnly }) => ({
    from,
    to: resolveSpecifier(from, specifier),
    typeOnly,
  })),
);

const pairs = (imports: Import[]) => imports.map((i) => `${i.from} -> ${i.to}`);
const under = (path: string, ...folders: string[]) => folders.some((f) => path.startsWith(`${f}/`));

/** Page code: the hosted pages live in `functions/pages/` or, once moved, `functions/hosted/`. */
const PAGE_FOLDERS = ['functions/pages', 'functions/hosted'];
const isPage = (path: string) => under(path, ...PAGE_FOLDERS);
/** A view returns markup: it must not need the edge to do so. */
const isView = (path: string) => isPage(path) && /(-views|layout|html)\.ts$/.test(posix.basename(path));

/** The files that talk to AWS through the SDK, and the one place that wires them to the ports. */
const isAdapter = (path: string) =>
  under(path, 'functions/aws') ||
  path === 'functions/store/dynamo-store.ts' ||
  path === 'functions/signing/kms-signer.ts' ||
  /^functions\/crypto\/kms-[^/]+\.ts$/.test(path) ||
  path === 'functions/mail/ses-mailer.ts' ||
  path === 'functions/texting/sms-voice-texter.ts' ||
  under(path, 'functions/adapters') ||
  path === 'functions/services.ts';
/** Entry points: HTTP handlers, and the scheduled jobs (`functions/jobs/`) that are not HTTP routes. */
const isEdge = (path: string) =>
  under(path, 'functions/http', 'functions/handlers', 'functions/jobs') ||
  isPage(path) ||
  under(path, 'functions/adapters') ||
  path === 'functions/services.ts';
const isDomain = (path: string) => path.startsWith('functions/') && !isEdge(path) && !isAdapter(path);

/**
 * What `lib/` may load from `functions/`: the route table, the region codes, the environment
 * variable names, the table schema and the metric names (`metrics.ts`, for the alarms). None of them imports anything, so `cdk synth` never loads
 * an SDK client, a handler or a domain module.
 */
const LIB_MAY_IMPORT = new Set([
  'functions/routes.ts',
  'functions/route.ts',
  'functions/routes-management.ts',
  'functions/regions.ts',
  'functions/env-names.ts',
  'functions/store/table-schema.ts',
  'functions/metrics.ts',
]);

/** Everything a module loads when it runs: its imports followed transitively, types left out. */
function loadedBy(entry: string): Set<string> {
  const loaded = new Set<string>([entry]);
  const pending = [entry];
  while (pending.length) {
    const from = pending.pop()!;
    for (const i of IMPORTS) {
      if (i.from !== from || i.typeOnly || loaded.has(i.to)) continue;
      loaded.add(i.to);
      if (i.to.startsWith('functions/')) pending.push(i.to);
    }
  }
  return loaded;
}

/** The local server's adapters: development keys and an outbox on disk, never in a Lambda bundle. */
const LOCAL_ADAPTERS = [
  'functions/adapters/local.ts',
  'functions/signing/local-signer.ts',
  'functions/crypto/local-secret-box.ts',
  'functions/mail/local-outbox.ts',
];
/** The Lambda entry points: one per handler of the route table, and the scheduled jobs. */
const ENTRIES = [
  ...new Set([
    ...routes.map((r) => `functions/handlers/${r.handler}.ts`),
    ...FILES.filter((f) => under(f, 'functions/jobs')),
  ]),
].sort();

function lineCount(file: string): number {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Import cycles among `functions/` modules (type-only imports included), each as the edges inside it. */
function importCycles(): string[][] {
  const graph = new Map<string, string[]>();
  for (const file of FILES.filter((f) => f.startsWith('functions/'))) graph.set(file, []);
  for (const i of IMPORTS) if (graph.has(i.from) && graph.has(i.to)) graph.get(i.from)!.push(i.to);

  // Tarjan's strongly connected components: a component of two or more files, or a file that
  // imports itself, is a cycle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) components.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);

  return components.map((component) => {
    const members = new Set(component);
    return component.sort().flatMap((from) =>
      graph
        .get(from)!
        .filter((to) => members.has(to))
        .map((to) => `${from} -> ${to}`),
    );
  });
}

describe('architecture', () => {
  it('reads the imports of every file (the checks below see real code)', () => {
    expect(FILES.length).toBeGreaterThan(50);
    expect(IMPORTS).toContainEqual({
      from: 'lib/table.ts',
      to: 'functions/store/table-schema.ts',
      typeOnly: false,
    });
    expect(
      IMPORTS.some(
        (i) => i.from === 'functions/store/dynamo-store.ts' && i.to === 'functions/aws/json-api.ts',
      ),
    ).toBe(true);
  });

  it('no file under functions/ imports an AWS SDK client: only DynamoDB marshalling, in the DynamoDB adapter', () => {
    // The SDK's clients are most of a bundle (KMS alone 318 KB minified): the adapters speak the
    // JSON APIs through functions/aws/json-api.ts (docs/architecture.md).
    const sdk = IMPORTS.filter((i) => i.from.startsWith('functions/') && i.to.startsWith('@aws-sdk/'));
    expect(sdk.length).toBeGreaterThan(0);
    const offending = sdk.filter(
      (i) => !(i.to === '@aws-sdk/util-dynamodb' && i.from === 'functions/store/dynamo-store.ts'),
    );
    expect(pairs(offending), 'AWS SDK packages under functions/').toEqual([]);
  });

  it('(a) domain and protocol modules never import functions/http/ or the AWS SDK', () => {
    const offending = IMPORTS.filter(
      (i) => isDomain(i.from) && (under(i.to, 'functions/http') || i.to.startsWith('@aws-sdk/')),
    );
    expect(pairs(offending), 'domain or protocol code reaching the edge or AWS').toEqual([]);
  });

  it('(a) domain and protocol modules never import an adapter (which would bring the SDK with it)', () => {
    const offending = IMPORTS.filter((i) => isDomain(i.from) && isAdapter(i.to));
    expect(pairs(offending), 'domain or protocol code importing an adapter instead of its port').toEqual([]);
  });

  it('(b) protocol modules (functions/oidc/) never import hosted-page modules', () => {
    const offending = IMPORTS.filter((i) => under(i.from, 'functions/oidc') && isPage(i.to));
    expect(pairs(offending), 'protocol code importing page code').toEqual([]);
  });

  it('(c) views return markup without importing functions/http/', () => {
    const offending = IMPORTS.filter((i) => isView(i.from) && under(i.to, 'functions/http'));
    expect(pairs(offending), 'views importing the edge').toEqual([]);
  });

  it('(d) lib/ loads from functions/ only the route table, regions, env names and table schema', () => {
    // Followed transitively: an allowed module that imported a domain module would load it too.
    const offending: Import[] = [];
    const loaded = new Set<string>();
    const pending = IMPORTS.filter((i) => under(i.from, 'lib') && under(i.to, 'functions'));
    while (pending.length) {
      const i = pending.pop()!;
      if (!LIB_MAY_IMPORT.has(i.to)) offending.push(i);
      if (loaded.has(i.to)) continue;
      loaded.add(i.to);
      pending.push(...IMPORTS.filter((next) => next.from === i.to));
    }
    expect(pairs(offending).sort(), 'what cdk synth would load from functions/').toEqual([]);
  });

  it('(e) handlers never import functions/store/ (they call a use-case)', () => {
    const offending = IMPORTS.filter(
      (i) => under(i.from, 'functions/handlers') && under(i.to, 'functions/store'),
    );
    expect(pairs(offending), 'handlers reaching the store').toEqual([]);
  });

  it('(f) no import cycles among functions/ modules', () => {
    expect(importCycles(), 'each cycle as the imports inside it').toEqual([]);
  });

  it('(h) no Lambda entry point loads a local adapter', () => {
    expect(ENTRIES.length).toBeGreaterThan(20);
    const offending = ENTRIES.flatMap((entry) =>
      LOCAL_ADAPTERS.filter((a) => loadedBy(entry).has(a)).map((a) => `${entry} -> ${a}`),
    );
    expect(offending, 'local adapters a Lambda bundle would carry').toEqual([]);
  });

  it('(h) only the handlers of routes that send mail load the SES adapter', () => {
    const sending = new Set(
      routes
        .filter((r) => r.permissions.includes('ses:send'))
        .map((r) => `functions/handlers/${r.handler}.ts`),
    );
    expect(sending.size).toBeGreaterThan(0);
    const loadsSes = ENTRIES.filter((entry) => loadedBy(entry).has('functions/mail/ses-mailer.ts'));
    expect(loadsSes).toEqual([...sending].sort());
  });

  it('(h) only the handlers of routes that send SMS load the SMS adapter', () => {
    const sending = new Set(
      routes
        .filter((r) => r.permissions.includes('sms:send'))
        .map((r) => `functions/handlers/${r.handler}.ts`),
    );
    expect(sending.size).toBeGreaterThan(0);
    const loads = ENTRIES.filter((entry) => loadedBy(entry).has('functions/texting/sms-voice-texter.ts'));
    expect(loads).toEqual([...sending].sort());
  });

  it('(h) only the passkey ceremonies route loads WebAuthn (the pages start without it)', () => {
    const loads = ENTRIES.filter((entry) => loadedBy(entry).has('functions/authenticators/passkey.ts'));
    expect(loads).toEqual(['functions/handlers/interaction-passkey.ts']);
  });

  it('(h) /health loads no AWS client and no adapter', () => {
    const loaded = [...loadedBy('functions/handlers/health.ts')];
    expect(loaded).toContain('functions/http/lambda.ts');
    expect(loaded.filter((m) => m.startsWith('@aws-sdk/') || isAdapter(m))).toEqual([]);
  });

  it(`(g) no file under functions/ is over ${MAX_FILE_LINES} lines`, () => {
    const oversized = FILES.filter((f) => f.startsWith('functions/'))
      .map((f) => ({ file: f, lines: lineCount(f) }))
      .filter(({ lines }) => lines > MAX_FILE_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(oversized, 'files to split').toEqual([]);
  });
});

/**
 * The repository stands on its own: no links to documents outside it, nor to numbered reference
 * documents a reader of the repository does not have. Patterns, not literals, so this file does
 * not match itself.
 */
const OUTSIDE_REFERENCES = [/\.\.\/shared\b/, /\bDESIGN\.md\b/, /\bAPI\.md\b/, /\breference \d{3}\b/i];
const SCANNED = ['README.md', 'docs', 'functions', 'lib', 'test', 'bin', 'local', 'scripts', 'bench'];
const TEXT_FILE = /\.(ts|js|mjs|md|json|html|css|txt|ya?ml)$/;

function textFiles(path: string): string[] {
  const abs = join(ROOT, path);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs).flatMap((name) => {
    const child = posix.join(path, name);
    return statSync(join(ROOT, child)).isDirectory() ? textFiles(child) : TEXT_FILE.test(name) ? [child] : [];
  });
}

describe('references', () => {
  it('nothing refers to documents outside the repository or to numbered reference documents', () => {
    const found: string[] = [];
    for (const file of SCANNED.flatMap(textFiles)) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const match = OUTSIDE_REFERENCES.map((re) => re.exec(line)).find(Boolean);
          if (match) found.push(`${file}:${i + 1}: ${match[0]}`);
        });
    }
    expect(found, 'replace each with the reason itself, or name the system by what it is').toEqual([]);
  });
});

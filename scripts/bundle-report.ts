/**
 * `npm run bundle-report`: bundles every handler of the route table exactly as the stack does
 * (`lib/bundling.ts`), then prints each bundle's minified size and the median time a fresh Node
 * process takes to import it, beside an empty module's import time measured in the same run (the
 * floor: what Node itself costs). With `--check` it exits 1 when a bundle is over the budget of
 * `BUNDLE_BUDGET` (or its own ceiling in `BUNDLE_EXCEPTIONS`), so CI catches a route that starts to
 * drag in what it does not use. `--check-size` checks sizes only: they are the same on every
 * machine, while import times depend on the machine (CI runners are shared and slower).
 *
 *   BUNDLE_RUNS (9): imports timed per bundle; the median is reported.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { BUNDLE, BUNDLE_BUDGET, BUNDLE_EXCEPTIONS } from '../lib/bundling.js';
import { routes } from '../functions/routes.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RUNS = Number(process.env.BUNDLE_RUNS ?? 9);
const checkSize = process.argv.includes('--check') || process.argv.includes('--check-size');
const checkTime = process.argv.includes('--check');

/** The budget a route is held to: the common one, or its exception's ceiling. */
const budgetOf = (handler: string) => BUNDLE_EXCEPTIONS[handler] ?? BUNDLE_BUDGET;
const overSize = (r: Row) => r.bytes > budgetOf(r.handler).bytes;
const overTime = (r: Row) => r.importMs > budgetOf(r.handler).importMs;

interface Row {
  handler: string;
  bytes: number;
  importMs: number;
  top: string;
}

/**
 * Median wall time of `import()` of a file in a fresh Node process, measured inside the process
 * (so process start-up is not counted, the module graph's evaluation is). Environment variables a
 * handler reads at load are set to harmless values so loading never reaches a network.
 */
function importMs(file: string): number {
  const code =
    `const t=performance.now();await import(${JSON.stringify(file)});` +
    `process.stdout.write(String(performance.now()-t));`;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-west-2',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        LOG_LEVEL: 'SILENT',
      },
    });
    if (out.status !== 0) throw new Error(`importing ${file} failed:\n${out.stderr}`);
    times.push(Number(out.stdout));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** The three largest inputs of a bundle, by bytes in the output, e.g. `zod 120K`. */
function largestInputs(meta: Metafile): string {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const name = m ? m[1]! : path.startsWith('functions/') ? 'functions/' : path;
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)}K`)
    .join(', ');
}

async function main(): Promise<void> {
  const out = mkdtempSync(join(os.tmpdir(), 'bundle-report-'));
  try {
    const empty = join(out, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    const floor = importMs(empty);

    const handlers = [...new Set(routes.map((r) => r.handler))].sort();
    const rows: Row[] = [];
    for (const handler of handlers) {
      const dir = join(out, handler);
      mkdirSync(dir);
      const file = join(dir, 'index.mjs');
      const result = await build({
        ...BUNDLE,
        mainFields: [...BUNDLE.mainFields],
        banner: { js: BUNDLE.banner },
        entryPoints: [join(ROOT, 'functions/handlers', `${handler}.ts`)],
        bundle: true,
        outfile: file,
        metafile: true,
        logLevel: 'error',
        absWorkingDir: ROOT,
        tsconfig: join(ROOT, 'tsconfig.json'),
      });
      rows.push({
        handler,
        bytes: statSync(file).size,
        importMs: importMs(file),
        top: largestInputs(result.metafile),
      });
    }
    report(rows, floor);
    const over = rows.filter((r) => (checkSize && overSize(r)) || (checkTime && overTime(r)));
    if (over.length > 0) {
      console.error(`\n${over.length} bundle(s) over budget: ${over.map((r) => r.handler).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function report(rows: Row[], floor: number): void {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  console.log(
    `Route bundles as the stack builds them (esbuild ${BUNDLE.format}, ${BUNDLE.target}, minified), ` +
      `median of ${RUNS} imports in a fresh Node ${process.version} on ${os.cpus()[0]?.model ?? 'unknown CPU'}.`,
  );
  console.log(
    `Budget: ${kb(BUNDLE_BUDGET.bytes)} and ${BUNDLE_BUDGET.importMs} ms per bundle. ` +
      `Floor (an empty module): ${floor.toFixed(1)} ms.\n`,
  );
  const header = ['handler', 'size', 'import', 'vs floor', 'budget', 'largest inputs'];
  const lines = rows.map((r) => [
    r.handler,
    kb(r.bytes),
    `${r.importMs.toFixed(1)} ms`,
    `${(r.importMs / Math.max(floor, 0.1)).toFixed(1)}x`,
    overSize(r) || overTime(r)
      ? 'OVER'
      : r.bytes > BUNDLE_BUDGET.bytes || r.importMs > BUNDLE_BUDGET.importMs
        ? 'excused'
        : 'ok',
    r.top,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(fmt(header));
  console.log(fmt(widths.map((w) => '-'.repeat(w))));
  for (const l of lines) console.log(fmt(l));
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  console.log(
    `\n${rows.length} bundles, ${kb(total)} in all; largest ${kb(Math.max(...rows.map((r) => r.bytes)))}, ` +
      `slowest import ${Math.max(...rows.map((r) => r.importMs)).toFixed(1)} ms.`,
  );
  for (const [handler, e] of Object.entries(BUNDLE_EXCEPTIONS))
    console.log(`Excused: ${handler} (up to ${kb(e.bytes)}, ${e.importMs} ms): ${e.reason}.`);
}

await main();

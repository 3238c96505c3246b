/**
 * The pinned throughput comparison (issue 10's Targets): client_credentials with RS256, this product
 * against panva's oidc-provider in the same run. Each server runs alone in a child process pinned
 * to one core (`taskset`; the product's DynamoDB Local inherits the pinning), the load generator
 * (autocannon, 16 connections) runs in this process pinned to the other core, and the raw RS256
 * signing rate of node:crypto in a process pinned to the server core is the floor. Loopback only.
 *
 * ES256: once clients can choose their algorithm (id_token_signed_response_alg /
 * access_token_signed_response_alg), add a client registered with ES256 to bench/servers/product.ts
 * and a row to ALGS below; the floor then needs the ES256 rate too (`signingRate('ES256')`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const CONNECTIONS = 16;
const WARMUP_SECONDS = 3;
const SECONDS = Number(process.env.BENCH_PEER_SECONDS ?? 8);
/** Turns each server gets; the best is reported. */
const ROUNDS = 2;
/** The algorithms measured; ES256 joins when clients can choose it (see above). */
const ALGS = ['RS256'] as const;
const BODY = 'grant_type=client_credentials&scope=api%3Aread';

interface Target {
  url: string;
  headers: Record<string, string>;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  bad: number;
}

function pin(core: number, command: string, args: string[]): ChildProcess {
  return spawn('taskset', ['-c', String(core), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts a server script pinned to `core` and waits for the JSON line it prints when ready. */
async function startServer(core: number, script: string): Promise<{ child: ChildProcess; target: Target }> {
  const child = pin(core, process.execPath, ['--import', 'tsx', join(here, 'servers', script)]);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const target = await new Promise<Target>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start: ${stderr.slice(-500)}`)),
      60_000,
    );
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Target);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${stderr.slice(-500)}`));
    });
  });
  return { child, target };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function load(target: Target, seconds: number): Promise<Load> {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: BODY,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

/** Signatures per second of node:crypto in a fresh process pinned to `core`, signing a token-sized input. */
function signingRate(core: number, alg: 'RS256' = 'RS256'): number {
  const script = `
    const { generateKeyPairSync, sign } = require('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const input = Buffer.alloc(420, 'a');
    for (let i = 0; i < 200; i++) sign('sha256', input, privateKey);
    const t0 = process.hrtime.bigint(); let n = 0;
    while (process.hrtime.bigint() - t0 < 3_000_000_000n) { sign('sha256', input, privateKey); n++; }
    process.stdout.write(String(n / 3));`;
  void alg;
  const out = spawnSync('taskset', ['-c', String(core), process.execPath, '-e', script], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`signing floor failed: ${out.stderr}`);
  return Number(out.stdout);
}

/** Runs the comparison and returns the lines of its table. */
export async function throughputComparison(): Promise<string[]> {
  const cores = os.cpus().length;
  if (cores < 2) return ['Peer      one core only: the pinned comparison needs two, skipped'];
  if (spawnSync('taskset', ['-V']).status !== 0)
    return ['Peer      taskset is not installed: pinned comparison skipped'];
  const serverCore = 0;
  const loadCore = 1;
  // This process (autocannon) on the other core, every thread of it.
  spawnSync('taskset', ['-a', '-cp', String(loadCore), String(process.pid)], { stdio: 'ignore' });

  // Both servers up at once (the idle one waits on its socket), loaded in turns, ROUNDS times, so a
  // machine whose load changes during the run tilts neither side; each side's best round is shown.
  const floors = [signingRate(serverCore)];
  const rows: { label: string; load: Load }[] = [];
  for (const alg of ALGS) {
    const servers = [
      { label: `this product, ${alg}`, ...(await startServer(serverCore, 'product.ts')) },
      { label: `oidc-provider, ${alg}`, ...(await startServer(serverCore, 'peer.ts')) },
    ];
    try {
      const best = new Map<string, Load>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of servers) {
          if (round === 0) await load(s.target, WARMUP_SECONDS);
          const l = await load(s.target, SECONDS);
          const prev = best.get(s.label);
          if (!prev || l.rps > prev.rps) best.set(s.label, l);
        }
      }
      for (const s of servers) rows.push({ label: s.label, load: best.get(s.label)! });
    } finally {
      for (const s of servers) await stopServer(s.child);
    }
  }
  floors.push(signingRate(serverCore));
  const floor = Math.max(...floors);
  const product = rows[0]!.load;
  const peer = rows[1]!.load;
  const lines = [
    `Throughput, client_credentials (servers pinned to core ${serverCore}, autocannon with ${CONNECTIONS} connections pinned to core ${loadCore};`,
    `  ${ROUNDS} alternating turns of ${SECONDS} s per server after ${WARMUP_SECONDS} s warm-up, best turn shown; signing floor: best of before and after)`,
    `  ${'server'.padEnd(28)}${'req/s'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'non-2xx'.padStart(9)}`,
    ...rows.map(
      (r) =>
        `  ${r.label.padEnd(28)}${r.load.rps.toFixed(0).padStart(8)}${String(r.load.p50).padStart(8)}${String(r.load.p99).padStart(8)}${String(r.load.bad).padStart(9)}`,
    ),
    `  ${'raw RS256 signing, 1 core'.padEnd(28)}${floor.toFixed(0).padStart(8)}   (node:crypto, RSA 2048, no HTTP)`,
    `  product / oidc-provider ${(product.rps / peer.rps).toFixed(2)} ×; product / signing floor ${(product.rps / floor).toFixed(2)} ×; p99 ${product.p99} ms vs ${peer.p99} ms`,
    '  The peer keeps everything in memory (its default adapter). The product runs DynamoDB Local on the same core and, warm,',
    '  reads it about once a second (the auth-failure counters; tenant and client are cached per container).',
  ];
  return lines;
}

/**
 * The pinned throughput comparison (issue 10's Targets): client_credentials with RS256, this product
 * against panva's oidc-provider in the same run. Each server runs alone in a child process pinned
 * to one core (`taskset`; the product's DynamoDB Local inherits the pinning), the load generator
 * (autocannon, 16 connections) runs in this process pinned to the other core, and the raw RS256
 * signing rate of node:crypto in a process pinned to the server core is the floor. Loopback only.
 *
 * The product also serves a client registered with `access_token_signed_response_alg: ES256`
 * (bench/servers/product.ts), loaded in the same turns: the ES256 row, against its own floor.
 *
 * A second floor, nearer the truth of an HTTP service: a bare node:http server that signs the same
 * tokens and does nothing else (bench/servers/floor.ts), pinned and loaded the same way. What the
 * product costs per request beyond Node's HTTP server and the signature is the difference of the
 * two per-request times, printed in microseconds.
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
const BODY = 'grant_type=client_credentials&scope=api%3Aread';

interface Target {
  url: string;
  headers: Record<string, string>;
  /** The product's ES256 client (bench/servers/product.ts). */
  es256?: Target;
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
function signingRate(core: number, alg: 'RS256' | 'ES256'): number {
  const keyPair =
    alg === 'RS256'
      ? `generateKeyPairSync('rsa', { modulusLength: 2048 })`
      : `generateKeyPairSync('ec', { namedCurve: 'P-256' })`;
  // JWS ES256 signatures are raw r||s (RFC 7518 §3.4), hence ieee-p1363.
  const signOnce =
    alg === 'RS256'
      ? `sign('sha256', input, privateKey)`
      : `sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' })`;
  const script = `
    const { generateKeyPairSync, sign } = require('node:crypto');
    const { privateKey } = ${keyPair};
    const input = Buffer.alloc(420, 'a');
    for (let i = 0; i < 200; i++) ${signOnce};
    const t0 = process.hrtime.bigint(); let n = 0;
    while (process.hrtime.bigint() - t0 < 3_000_000_000n) { ${signOnce}; n++; }
    process.stdout.write(String(n / 3));`;
  const out = spawnSync('taskset', ['-c', String(core), process.execPath, '-e', script], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`signing floor failed: ${out.stderr}`);
  return Number(out.stdout);
}

const row = (label: string, l: Load) =>
  `  ${label.padEnd(28)}${l.rps.toFixed(0).padStart(8)}${String(l.p50).padStart(8)}${String(l.p99).padStart(8)}${String(l.bad).padStart(9)}`;

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
  const floors = { RS256: [signingRate(serverCore, 'RS256')], ES256: [signingRate(serverCore, 'ES256')] };
  const product = await startServer(serverCore, 'product.ts');
  const peer = await startServer(serverCore, 'peer.ts');
  const http = await startServer(serverCore, 'floor.ts');
  const turns = [
    { label: 'this product, RS256', target: product.target },
    { label: 'this product, ES256', target: product.target.es256! },
    { label: 'oidc-provider, RS256', target: peer.target },
    { label: 'node:http + signing, RS256', target: http.target },
    { label: 'node:http + signing, ES256', target: http.target.es256! },
  ];
  const best = new Map<string, Load>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of turns) {
        if (round === 0) await load(t.target, WARMUP_SECONDS);
        const l = await load(t.target, SECONDS);
        const prev = best.get(t.label);
        if (!prev || l.rps > prev.rps) best.set(t.label, l);
      }
    }
  } finally {
    await stopServer(product.child);
    await stopServer(peer.child);
    await stopServer(http.child);
  }
  floors.RS256.push(signingRate(serverCore, 'RS256'));
  floors.ES256.push(signingRate(serverCore, 'ES256'));
  const floor = { RS256: Math.max(...floors.RS256), ES256: Math.max(...floors.ES256) };
  const [rs, es, ref, httpRs, httpEs] = turns.map((t) => best.get(t.label)!) as [
    Load,
    Load,
    Load,
    Load,
    Load,
  ];
  // Microseconds per request on the server core, beyond the bare HTTP server doing the same signature.
  const extraUs = (l: Load, floorLoad: Load) => (1e6 / l.rps - 1e6 / floorLoad.rps).toFixed(0);
  const lines = [
    `Throughput, client_credentials (servers pinned to core ${serverCore}, autocannon with ${CONNECTIONS} connections pinned to core ${loadCore};`,
    `  ${ROUNDS} alternating turns of ${SECONDS} s per server after ${WARMUP_SECONDS} s warm-up, best turn shown; signing floor: best of before and after)`,
    `  ${'server'.padEnd(28)}${'req/s'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'non-2xx'.padStart(9)}`,
    ...turns.map((t) => row(t.label, best.get(t.label)!)),
    `  ${'raw RS256 signing, 1 core'.padEnd(28)}${floor.RS256.toFixed(0).padStart(8)}   (node:crypto, RSA 2048, no HTTP)`,
    `  ${'raw ES256 signing, 1 core'.padEnd(28)}${floor.ES256.toFixed(0).padStart(8)}   (node:crypto, P-256, no HTTP)`,
    `  RS256: product / oidc-provider ${(rs.rps / ref.rps).toFixed(2)} ×; product / signing floor ${(rs.rps / floor.RS256).toFixed(2)} ×; p99 ${rs.p99} ms vs ${ref.p99} ms`,
    `  ES256 client / RS256 client ${(es.rps / rs.rps).toFixed(2)} ×; ES256 / its signing floor ${(es.rps / floor.ES256).toFixed(2)} ×`,
    `  node:http + signing: RS256 ${(httpRs.rps / floor.RS256).toFixed(2)} × the signing floor, ES256 / RS256 ${(httpEs.rps / httpRs.rps).toFixed(2)} ×;`,
    `  the product per request beyond it: ${extraUs(rs, httpRs)} µs (RS256), ${extraUs(es, httpEs)} µs (ES256); oidc-provider ${extraUs(ref, httpRs)} µs`,
    '  The peer keeps everything in memory (its default adapter). The product runs DynamoDB Local on the same core and, warm,',
    '  reads it about once a second (the auth-failure counters; tenant and client are cached per container).',
  ];
  return lines;
}

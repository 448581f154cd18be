// `npm run bench`: seeds a scratch database, starts the real server as a child process, drives each scenario from a
// separate load-generator process (bench/load.ts, autocannon), and writes bench/results/latest.{json,md}.
//
//   npm run bench -- [--quick] [--db=postgres|pglite|both] [--scenarios=b0,events_list,…|1,2,…] [--duration=SECONDS]
//                    [--connections=32] [--load=auto|wrk|autocannon]
//
// --load=auto (the default) drives load with wrk (-t2) when it is installed, autocannon otherwise; the registration
// race, an exact number of requests, always uses the load process's own keep-alive client (bench/load.ts).
//
// PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) is only used to CREATE and
// DROP a scratch database bench_<pid>; the server runs on that one with WEB_CONCURRENCY=2. PGlite: a temporary
// DATA_DIR, one server process. The ceilings (B0, B1, B2) always run: the other numbers are expressed relative to them.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openPglite, openPostgres, runMigrations, type Database } from '../src/db/client.js';
import { ARGON2_PARAMS, hashPassword } from '../src/lib/passwords.js';
import { TokenService } from '../src/modules/auth/tokens.js';
import type { LoadResult, LoadSpec } from './load.js';
import { formatTable, type BenchReport, type DatabaseRun, type ScenarioResult, type ServerRun } from './report.js';
import { routeKey, scenarios as allScenarios, selectScenarios, type Scenario, type ServerProfile } from './scenarios.js';
import {
  BENCH_PASSWORD,
  FULL_SIZES,
  benchUuid,
  QUICK_SIZES,
  RACE_CAPACITY,
  RACE_USERS,
  PAIR_DROP_EVENT_NUMBER,
  dropEventNumber,
  dropSize,
  eventOutcome,
  raceEventNumber,
  seed,
  type SeedSizes,
} from './seed.js';

type DbKind = 'postgres' | 'pglite';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const resultsDir = path.join(benchDir, 'results');
const logDir = path.join(resultsDir, 'tmp');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    db: { type: 'string', default: 'both' },
    scenarios: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '32' },
    load: { type: 'string', default: 'auto' },
    'wait-idle': { type: 'string' },
  },
});

const quick = flags.quick;
const dbs: DbKind[] = flags.db === 'both' ? ['postgres', 'pglite'] : [flags.db as DbKind];
if (!dbs.every((db) => db === 'postgres' || db === 'pglite')) throw new Error('--db must be postgres, pglite or both');
// --quick must finish within a minute for both databases (issue 6): short windows, and the race run once.
const durationSeconds = flags.duration ? Number(flags.duration) : quick ? 1 : 10;
const warmupSeconds = quick ? 0.5 : 2;
const connections = Number(flags.connections);
/**
 * Seconds to wait, before the first scenario, for the machine to be quiet (1-minute load average below half its CPUs):
 * a full run begun on a busy machine (session 10: load average 8) measured every scenario low, by up to 40%.
 */
const waitIdleSeconds = flags['wait-idle'] ? Number(flags['wait-idle']) : quick ? 0 : 300;
if (!(durationSeconds > 0) || !(connections > 0)) throw new Error('--duration and --connections must be positive numbers');
const sizes: SeedSizes = quick ? QUICK_SIZES : FULL_SIZES;
const selected = selectScenarios(flags.scenarios);
const scenarios = allScenarios.filter((s) => s.ceiling || selected.includes(s));
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const jwtSecret = randomBytes(36).toString('base64url'); // 48 characters
const tool = chooseTool(flags.load);
const workersFor = (db: DbKind) => (db === 'postgres' ? 2 : 1);

function chooseTool(wanted: string): 'wrk' | 'autocannon' {
  if (wanted === 'autocannon') return 'autocannon';
  let hasWrk: boolean;
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    hasWrk = true;
  } catch (err) {
    // wrk --version prints its usage and exits 1; only a missing binary is ENOENT.
    hasWrk = (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  if (wanted === 'wrk' && !hasWrk) throw new Error('--load=wrk: wrk is not installed (Debian: apt-get install wrk)');
  if (wanted !== 'wrk' && wanted !== 'auto') throw new Error('--load must be auto, wrk or autocannon');
  return hasWrk ? 'wrk' : 'autocannon';
}

/** Undo steps of whatever is running, so Ctrl-C still drops the scratch database and stops the children. */
const cleanups = new Set<() => Promise<void> | void>();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: cleaning up…`);
    void (async () => {
      for (const undo of [...cleanups].reverse()) await Promise.resolve(undo()).catch(() => {});
      process.exit(130);
    })();
  });
}

const log = (message: string) => console.error(`[bench] ${message}`);

// ---- the load generator: one child process for the whole run ----

function startLoader() {
  const child = fork(path.join(benchDir, 'load.ts'), [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  child.on('message', (message: { id: number; result?: LoadResult; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result!);
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`the load generator exited with ${code}`));
    pending.clear();
  });
  const stop = () => void child.kill();
  cleanups.add(stop);
  return {
    run: (spec: LoadSpec) =>
      new Promise<LoadResult>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, spec });
      }),
    stop: () => {
      cleanups.delete(stop);
      stop();
    },
  };
}

// ---- scratch databases ----

interface Scratch {
  /** DATABASE_URL for the server ('' for PGlite) and DATA_DIR. */
  env: Record<string, string>;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

async function createScratch(db: DbKind): Promise<Scratch> {
  if (db === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pglite-'));
    return {
      env: { DATABASE_URL: '', DATA_DIR: dataDir },
      open: () => openPglite(dataDir),
      drop: async () => fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }),
    };
  }
  const name = `bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    open: async () => openPostgres(url.toString(), 1),
    drop: async () => {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

// ---- the server under test ----

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function startServer(db: DbKind, scratch: Scratch, label: string, extraEnv: Record<string, string> = {}) {
  const port = await freePort();
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `server-${db}-${label}.log`);
  const spawned = performance.now();
  const out = fs.openSync(logFile, 'w');
  // BENCH_SERVER_NODE_ARGS adds node flags to the server (and its cluster workers), e.g. "--cpu-prof
  // --cpu-prof-dir=/tmp/prof" to profile a scenario; Node refuses those in NODE_OPTIONS.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      ...scratch.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      WEB_CONCURRENCY: String(workersFor(db)),
      RATE_LIMITS: 'off',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      NODE_ENV: 'production',
      JWT_SECRET: jwtSecret,
      JOB_POLL_SECONDS: '0',
      // Mails (a QR code image per ticket) are rendered and sent by the outbox worker; in the bench it runs in no
      // server process, so the figures are the API's own. In production, a ticket drop's mails go out after it.
      OUTBOX_POLL_MS: '0',
      BENCH_ROUTES: '1',
      ...extraEnv,
    },
  });
  fs.closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  cleanups.add(stop);

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited with ${child.exitCode}; see ${logFile}:\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server was not ready within 180 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = Math.round(performance.now() - spawned);
  return {
    baseUrl,
    logFile,
    readyMs,
    /** Resident memory (MiB) of each process of the server: the primary and its cluster workers, or the one process. */
    rssMiB: () => processTree(child.pid!).map((pid) => round(residentKiB(pid) / 1024, 1)),
    stop: async () => {
      await stop();
      cleanups.delete(stop);
    },
  };
}

/**
 * `npm start` on the seeded PGlite data folder, as a user would type it (the web app already built): milliseconds
 * until /readyz answers, and the resident memory then.
 */
async function timeNpmStart(scratch: Scratch): Promise<ServerRun> {
  const port = await freePort();
  const spawned = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: root,
    stdio: 'ignore',
    env: {
      ...process.env,
      ...scratch.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      JWT_SECRET: jwtSecret,
      JOB_POLL_SECONDS: '0',
    },
  });
  const stop = () => void child.kill();
  cleanups.add(stop);
  try {
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('npm start did not get ready within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = Math.round(performance.now() - spawned);
    // The server is the last of npm's descendants (npm, then its shell, then node).
    const server = processTree(child.pid!).at(-1)!;
    const rssMiB = [round(residentKiB(server) / 1024, 1)];
    return { profile: 'npm start', readyMs, rssMiB };
  } finally {
    // npm, its shell and the server: each is told, and the data folder is free once none is left.
    const tree = processTree(child.pid!);
    for (const pid of tree) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + 20_000;
    while (tree.some((pid) => fs.existsSync(`/proc/${pid}`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    cleanups.delete(stop);
  }
}

/** `pid` and its descendants (Linux /proc). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the 4th field, after "(comm)" which may contain spaces.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree;
}

function residentKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The routes the running server documents, as routeKey()s. */
async function documentedRoutes(baseUrl: string): Promise<Set<string>> {
  const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as { paths: Record<string, object> };
  const keys = new Set<string>();
  for (const [route, methods] of Object.entries(document.paths)) {
    for (const method of Object.keys(methods)) keys.add(routeKey(method, route));
  }
  return keys;
}

// ---- one database ----

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

async function benchDatabase(db: DbKind, passwordHash: string, loader: ReturnType<typeof startLoader>): Promise<DatabaseRun> {
  const scratch = await createScratch(db);
  const dropScratch = () => scratch.drop();
  cleanups.add(dropScratch);
  try {
    log(`${db}: seeding ${JSON.stringify(sizes)}`);
    const seedStart = performance.now();
    const database = await scratch.open();
    let counts: Record<string, number>;
    try {
      await runMigrations(database);
      counts = await seed(database, sizes, passwordHash, (step, ms) => log(`${db}:   ${step}: ${Math.round(ms)} ms`));
    } finally {
      await database.close();
    }
    const seedSeconds = round((performance.now() - seedStart) / 1000, 1);
    log(`${db}: seeded in ${seedSeconds} s: ${JSON.stringify(counts)}`);

    const tokens = new TokenService(jwtSecret, 4 * 3600, 3600);
    const context = { sizes, token: (n: number) => tokens.issue('access', benchUuid('user', n), new Date()).token };
    const results: ScenarioResult[] = [];
    const servers: ServerRun[] = [];
    const profiles: ServerProfile[] = ['default', 'uncached', 'pair'];
    for (const profile of profiles) {
      const mine = scenarios.filter((s) => (s.server ?? 'default') === profile);
      if (mine.length === 0 || interrupted) continue;
      if (profile === 'pair' && db === 'pglite') {
        for (const scenario of mine)
          results.push({ id: scenario.id, label: scenario.label, status: 'skipped (PGlite serves one process)', notes: [] });
        continue;
      }
      const instances = profile === 'pair' ? 2 : 1;
      const env: Record<string, string> = profile === 'uncached' ? { PUBLIC_CACHE_SECONDS: '0' } : {};
      const started = [];
      try {
        for (let i = 0; i < instances; i++) started.push(await startServer(db, scratch, `${profile}${instances > 1 ? i + 1 : ''}`, env));
        const workers = workersFor(db);
        log(
          `${db}: ${profile} server${instances > 1 ? 's' : ''} ready at ${started.map((s) => s.baseUrl).join(', ')} (${workers} worker${workers > 1 ? 's' : ''} each)`,
        );
        const routes = await documentedRoutes(started[0]!.baseUrl);
        const baseUrls = started.map((s) => s.baseUrl);
        for (const scenario of mine) {
          if (interrupted) break;
          results.push(await runScenario(scenario, routes, baseUrls, context, loader, db));
        }
        for (const server of started) servers.push({ profile, readyMs: server.readyMs, rssMiB: server.rssMiB() });
      } finally {
        for (const server of started) await server.stop();
      }
    }
    if (db === 'pglite' && !interrupted) servers.push(await timeNpmStart(scratch));

    // Every race and drop is checked against the tables: exactly the seats sold, everyone else waitlisted.
    const race = results.find((r) => r.id === 'registration_race' && r.status === 'ok');
    if (race) {
      const rounds = (race.rounds ?? [0]).map((_, r) => raceEventNumber(r));
      await verifySeats(scratch, race, rounds, { users: RACE_USERS, capacity: RACE_CAPACITY });
    }
    for (const drop of results.filter((r) => r.id.startsWith('ticket_drop') && r.status === 'ok')) {
      const rounds = drop.id === 'ticket_drop_pair' ? [PAIR_DROP_EVENT_NUMBER] : (drop.rounds ?? [0]).map((_, r) => dropEventNumber(r));
      await verifySeats(scratch, drop, rounds, dropSize(sizes));
    }
    addRatios(results);
    return { db, workers: workersFor(db), seedSeconds, counts, scenarios: results, servers };
  } finally {
    await dropScratch();
    cleanups.delete(dropScratch);
  }
}

/** Checks what each round (an event) of a race or drop left in the tables, and notes it on the result. */
async function verifySeats(
  scratch: Scratch,
  result: ScenarioResult,
  eventNumbers: number[],
  { users, capacity }: { users: number; capacity: number },
): Promise<void> {
  const verifier = await scratch.open();
  try {
    const outcomes = [];
    for (const event of eventNumbers) outcomes.push(await eventOutcome(verifier, event));
    const exact = (o: Awaited<ReturnType<typeof eventOutcome>>) =>
      o.registeredSeats === capacity &&
      o.registeredCount === capacity &&
      o.waitlisted === users - capacity &&
      o.waitlistCount === users - capacity &&
      o.distinctUsers === users &&
      o.tickets === capacity &&
      o.distinctCodes === capacity;
    const ok = outcomes.every(exact) && result.non2xx === 0 && result.errors === 0;
    result.verification = { ok, rounds: outcomes.length, ...outcomes[0]! };
    result.notes.push(
      ok
        ? `verified, every round: ${capacity} seats registered, ${users - capacity} waitlisted, ${capacity} tickets; ` +
            `waitlisted orders that arrived before the last seated one: ${outcomes.map((o) => o.waitlistedBeforeLastSeat).join(', ')}`
        : `VERIFICATION FAILED: ${JSON.stringify(outcomes)}`,
    );
  } finally {
    await verifier.close();
  }
}

async function runScenario(
  scenario: Scenario,
  routes: Set<string>,
  baseUrls: string[],
  context: Parameters<Scenario['load']>[0],
  loader: ReturnType<typeof startLoader>,
  db: DbKind,
): Promise<ScenarioResult> {
  const base: ScenarioResult = { id: scenario.id, label: scenario.label, status: 'ok', notes: [] };
  if (scenario.route && !routes.has(scenario.route)) {
    log(`${db}: ${scenario.id} skipped: the server has no ${scenario.route}`);
    return { ...base, status: 'skipped (route missing)' };
  }
  const rounds = quick ? 1 : (scenario.rounds ?? 1);
  const { method, requests } = scenario.load(context, 0);
  const baseUrl = baseUrls[0]!;
  const wanted = scenario.connections ?? connections;
  const spec: LoadSpec = {
    tool: scenario.once ? 'autocannon' : tool,
    baseUrl,
    ...(baseUrls.length > 1 ? { baseUrls } : {}),
    method,
    requests,
    // More connections than requests would leave some idle.
    connections: scenario.once ? Math.min(wanted, requests.length) : wanted,
    ...(scenario.once
      ? { amount: requests.length }
      : {
          durationSeconds: Math.max(
            durationSeconds,
            quick ? Math.min(3, scenario.minDurationSeconds ?? 0) : (scenario.minDurationSeconds ?? 0),
          ),
          warmupSeconds,
        }),
  };
  for (const url of baseUrls) await settle(url);
  // Cache-off scenarios are compared with a B1 measured on the same server just before them as well: B1 moves by a
  // quarter between runs on this machine, and the run's one B1 was measured minutes earlier on another server.
  const pairedB1 = scenario.server === 'uncached' && !scenario.once ? await measurePairedB1(spec, context, loader) : undefined;
  log(`${db}: ${scenario.id}…`);
  try {
    if (scenario.warmup) {
      const warmup = scenario.warmup(context);
      const warm = await loader.run({ ...spec, ...warmup, amount: warmup.requests.length });
      if (warm.non2xx || warm.errors) throw new Error(`warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
      base.notes.push(`after an untimed warm-up of ${warmup.requests.length} requests on another event`);
      for (const url of baseUrls) await settle(url);
    }
    const loads: LoadResult[] = [];
    for (let r = 0; r < rounds; r++) {
      if (r > 0) for (const url of baseUrls) await settle(url);
      loads.push(await loader.run(r === 0 ? spec : { ...spec, ...scenario.load(context, r) }));
    }
    // The median round by rate; errors of every round count.
    const load = [...loads].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[(rounds - 1) >> 1]!;
    const result: ScenarioResult = {
      ...base,
      requestsPerSecond: round(load.requestsPerSecond),
      p50Ms: round(load.p50Ms, 1),
      p99Ms: round(load.p99Ms, 1),
      non2xx: loads.reduce((sum, l) => sum + l.non2xx, 0),
      errors: loads.reduce((sum, l) => sum + l.errors, 0),
      requests: load.requests,
      seconds: round(load.seconds, 2),
      statusCodes: load.statusCodes,
    };
    if (pairedB1 !== undefined) {
      result.pairedB1 = round(pairedB1);
      result.percentOfPairedB1 = round((100 * load.requestsPerSecond) / pairedB1, 1);
    }
    if (rounds > 1) {
      result.rounds = loads.map((l) => ({ requestsPerSecond: round(l.requestsPerSecond), p99Ms: round(l.p99Ms, 1) }));
      result.notes.push(
        `median of ${rounds} rounds, each on its own event: ${loads.map((l) => Math.round(l.requestsPerSecond)).join(', ')} req/s`,
      );
    }
    if (scenario.id === 'login') {
      const { algorithm: _algorithm, ...params } = ARGON2_PARAMS;
      result.notes.push(`argon2id m=${params.memoryCost} KiB, t=${params.timeCost}, p=${params.parallelism}`);
    }
    if (scenario.once)
      result.notes.push(`${requests.length} requests, ${spec.connections} keep-alive connections, timed to the last answer`);
    else if (spec.durationSeconds !== durationSeconds) result.notes.push(`${spec.durationSeconds} s run`);
    log(`${db}: ${scenario.id}: ${result.requestsPerSecond} req/s, p99 ${result.p99Ms} ms, non-2xx ${result.non2xx}`);
    return result;
  } catch (err) {
    return { ...base, status: `failed: ${(err as Error).message}` };
  }
}

/** B1's load (one `SELECT 1` through the pool) with `spec`'s server, connections and durations: its req/s. */
async function measurePairedB1(
  spec: LoadSpec,
  context: Parameters<Scenario['load']>[0],
  loader: ReturnType<typeof startLoader>,
): Promise<number> {
  const b1 = allScenarios.find((s) => s.id === 'b1')!;
  const load = await loader.run({ ...spec, ...b1.load(context, 0) });
  for (const url of spec.baseUrls ?? [spec.baseUrl]) await settle(url);
  return load.requestsPerSecond;
}

/** Waits up to `seconds` for the 1-minute load average to fall below half the CPUs (main records it afterwards). */
async function waitForIdleMachine(seconds: number): Promise<void> {
  const threshold = os.availableParallelism() / 2;
  const deadline = Date.now() + seconds * 1000;
  if (os.loadavg()[0]! >= threshold && seconds > 0)
    log(`waiting up to ${seconds} s for load average ${os.loadavg()[0]!.toFixed(2)} to fall below ${threshold}…`);
  while (os.loadavg()[0]! >= threshold && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5_000));
}

/**
 * Waits (up to 5 s) until the server answers /healthz quickly: requests still running from the previous scenario
 * (a login's hash goes on after its client has gone) would otherwise eat into the next one.
 */
async function settle(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  let quick = 0;
  while (quick < 3 && Date.now() < deadline) {
    const started = performance.now();
    await fetch(`${baseUrl}/healthz`).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
    quick = performance.now() - started < 5 ? quick + 1 : 0;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function addRatios(results: ScenarioResult[]): void {
  const rps = (id: string) => results.find((r) => r.id === id && r.status === 'ok')?.requestsPerSecond;
  const b0 = rps('b0');
  const b1 = rps('b1');
  for (const result of results) {
    if (result.requestsPerSecond === undefined) continue;
    if (b0) result.ratioToB0 = round(result.requestsPerSecond / b0, 3);
    const scenario = allScenarios.find((s) => s.id === result.id);
    if (b1 && !scenario?.ceiling) result.percentOfB1 = round((100 * result.requestsPerSecond) / b1, 1);
  }
}

// ---- main ----

async function main(): Promise<void> {
  await waitForIdleMachine(waitIdleSeconds);
  const started = new Date();
  const loadBefore = os.loadavg();
  log(`${quick ? 'quick' : 'full'} run: ${dbs.join(' + ')}, ${durationSeconds} s per scenario, ${connections} connections`);
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const loader = startLoader();
  const runs: DatabaseRun[] = [];
  try {
    for (const db of dbs) {
      if (interrupted) break;
      runs.push(await benchDatabase(db, passwordHash, loader));
    }
  } finally {
    loader.stop();
  }
  if (interrupted) return;

  const report: BenchReport = {
    startedAt: started.toISOString(),
    seconds: round((Date.now() - started.getTime()) / 1000, 1),
    quick,
    durationSeconds,
    connections,
    loadGenerator: loadGeneratorName(),
    machine: {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverageBefore: loadBefore.map((n) => round(n, 2)),
      loadAverageAfter: os.loadavg().map((n) => round(n, 2)),
    },
    commit: gitDescribe(),
    sizes,
    argon2: { memoryKiB: ARGON2_PARAMS.memoryCost, iterations: ARGON2_PARAMS.timeCost, parallelism: ARGON2_PARAMS.parallelism },
    runs,
  };
  const table = formatTable(report);
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, 'latest.md'), table);
  console.log(table);
  const failedRace = runs.some((run) => run.scenarios.some((s) => s.verification && !s.verification.ok));
  if (failedRace) process.exitCode = 1;
}

function loadGeneratorName(): string {
  const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  if (tool === 'autocannon') return `autocannon ${autocannonVersion} (the race: a fixed-amount node:http client), separate process`;
  let wrkVersion = '';
  try {
    execFileSync('wrk', ['--version'], { encoding: 'utf8' });
  } catch (err) {
    wrkVersion = /wrk (\S+)/.exec(String((err as { stdout?: string }).stdout ?? ''))?.[1] ?? '';
  }
  return `wrk ${wrkVersion} -t2 (the race: a fixed-amount node:http client), separate processes`;
}

function gitDescribe(): string {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const head = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--untracked-files=no');
  return head ? `${head}${dirty ? ' (with uncommitted changes)' : ''}` : 'unknown';
}

await main();

// The load generator: a separate process from the server (and from the harness), driving HTTP load with
// autocannon, or with wrk (C, two threads, as the targets were measured) when it is installed; a fixed
// number of requests (the registration race) is sent by a small keep-alive client that times it exactly.
// bench/run.ts forks it once and sends it one LoadSpec per scenario over IPC; it can also run alone:
//   node --import tsx bench/load.ts spec.json     (prints the LoadResult as JSON)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

export interface LoadRequest {
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  /** Ignored with `amount`: a fixed number of requests is always sent by `runAmount`. */
  tool: 'autocannon' | 'wrk';
  baseUrl: string;
  /** With `amount`: several servers, the connections split between them in turn (baseUrl is then ignored). */
  baseUrls?: string[];
  method: 'GET' | 'POST';
  /** Used in turn across all connections, so with `amount` equal to their number each is sent exactly once. */
  requests: LoadRequest[];
  connections: number;
  /** Run for this long … */
  durationSeconds?: number;
  /** … or send exactly this many requests. */
  amount?: number;
  /** Unmeasured run before the measured one, so the server's JIT and pools are warm. */
  warmupSeconds?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
}

function options(spec: LoadSpec, durationSeconds: number | undefined, amount: number | undefined): autocannon.Options {
  const base = { 'content-type': 'application/json' };
  const [first] = spec.requests;
  if (!first) throw new Error('a LoadSpec needs at least one request');
  let request: autocannon.Request;
  if (spec.requests.length === 1) {
    request = { method: spec.method, path: first.path, headers: { ...base, ...first.headers }, body: first.body };
  } else {
    // One shared counter across connections: every request of the list goes out once before any repeats.
    let next = 0;
    request = {
      method: spec.method,
      setupRequest: (req) => {
        const item = spec.requests[next++ % spec.requests.length]!;
        return { ...req, path: item.path, headers: { ...base, ...item.headers }, body: item.body };
      },
    };
  }
  return {
    url: spec.baseUrl,
    connections: spec.connections,
    ...(amount ? { amount } : { duration: durationSeconds ?? 10 }),
    requests: [request],
    timeout: 30,
  };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.amount) return runAmount(spec, spec.amount);
  if (spec.tool === 'wrk') return runWrk(spec);
  if (spec.warmupSeconds) await autocannon(options(spec, spec.warmupSeconds, undefined));
  const result = await autocannon(options(spec, spec.durationSeconds, spec.amount));
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  const requests = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    requests,
    seconds,
    requestsPerSecond: seconds > 0 ? requests / seconds : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * Sends exactly `amount` requests (the list in turn) over `connections` keep-alive connections, each sending its
 * next request when the previous answer arrives, and times the run from the first send to the last answer.
 * autocannon can send a fixed amount too, but it notices the end only at its once-a-second tick, so a run that
 * takes 0.3 s was reported as 1 s (the race read "497/s" whatever the server did).
 */
async function runAmount(spec: LoadSpec, amount: number): Promise<LoadResult> {
  const servers = (spec.baseUrls ?? [spec.baseUrl]).map((url) => ({
    base: new URL(url),
    agent: new http.Agent({ keepAlive: true, maxSockets: spec.connections }),
  }));
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const send = (request: LoadRequest, { base, agent }: (typeof servers)[number]) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: spec.method,
          path: request.path,
          headers: { 'content-type': 'application/json', ...request.headers },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(request.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(spec.connections, amount) }, async (_, connection) => {
      const server = servers[connection % servers.length]!;
      while (next < amount) {
        const request = spec.requests[next++ % spec.requests.length]!;
        const sent = performance.now();
        try {
          const status = await send(request, server);
          statusCodes[status] = (statusCodes[status] ?? 0) + 1;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const { agent } of servers) agent.destroy();
  latencies.sort((a, b) => a - b);
  const answered = Object.values(statusCodes).reduce((sum, n) => sum + n, 0);
  const ok = Object.entries(statusCodes).reduce((sum, [code, n]) => sum + (code.startsWith('2') ? n : 0), 0);
  return {
    requests: answered,
    seconds,
    requestsPerSecond: seconds > 0 ? answered / seconds : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    non2xx: answered - ok,
    errors,
    statusCodes,
  };
}

const WRK_THREADS = 2;

/** JSON string literals of ASCII text are valid Lua (LuaJIT) string literals too. */
function lua(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`wrk scripts take printable ASCII only: ${text}`);
  return JSON.stringify(text);
}

/** A wrk script that sends the requests in turn and prints the numbers as one JSON line. */
function wrkScript(spec: LoadSpec): string {
  const requests = spec.requests.map((r) => {
    const headers = { 'content-type': 'application/json', ...r.headers };
    const table = Object.entries(headers)
      .map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)
      .join(', ');
    return `wrk.format(${lua(spec.method)}, ${lua(r.path)}, { ${table} }, ${r.body === undefined ? 'nil' : lua(r.body)})`;
  });
  // In functions of at most 1,000 requests each: LuaJIT refuses a block of 11,000 ("control structure too long").
  const chunks: string[] = [];
  for (let i = 0; i < requests.length; i += 1000) chunks.push(`function() return { ${requests.slice(i, i + 1000).join(',\n    ')} } end`);
  return `
local chunks = { ${chunks.join(',\n  ')} }
local requests = nil
local counter = 0
request = function()
  if requests == nil then
    requests = {}
    for _, chunk in ipairs(chunks) do
      for _, r in ipairs(chunk()) do requests[#requests + 1] = r end
    end
  end
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
`;
}

const execFileAsync = promisify(execFile);

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-wrk-'));
  try {
    const script = path.join(dir, 'scenario.lua');
    fs.writeFileSync(script, wrkScript(spec));
    const run = async (seconds: number) => {
      const args = [
        '-t',
        String(WRK_THREADS),
        '-c',
        String(Math.max(spec.connections, WRK_THREADS)),
        '-d',
        `${Math.max(1, Math.round(seconds))}s`,
      ];
      const { stdout } = await execFileAsync('wrk', [...args, '--timeout', '30s', '-s', script, spec.baseUrl], { maxBuffer: 1 << 20 });
      const line = stdout.trim().split('\n').pop()!;
      return JSON.parse(line) as { requests: number; durationUs: number; p50Us: number; p99Us: number; non2xx: number; errors: number };
    };
    if (spec.warmupSeconds) await run(spec.warmupSeconds);
    const result = await run(spec.durationSeconds ?? 10);
    const seconds = result.durationUs / 1e6;
    return {
      requests: result.requests,
      seconds,
      requestsPerSecond: seconds > 0 ? result.requests / seconds : 0,
      p50Ms: result.p50Us / 1000,
      p99Ms: result.p99Us / 1000,
      non2xx: result.non2xx,
      errors: result.errors,
      // wrk counts responses of status >= 400 only, without telling them apart.
      statusCodes: {},
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

type Message = { id: number; spec: LoadSpec };

if (process.send) {
  process.on('message', (message: Message) => {
    runLoad(message.spec).then(
      (result) => process.send!({ id: message.id, result }),
      (err: Error) => process.send!({ id: message.id, error: err.message }),
    );
  });
} else if (process.argv[2]) {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as LoadSpec;
  console.log(JSON.stringify(await runLoad(spec)));
}

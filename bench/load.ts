// The load generator: a separate process from the server (and from the harness), driving HTTP load with
// autocannon. bench/run.ts forks it once and sends it one LoadSpec per scenario over IPC; it can also run alone:
//   node --import tsx bench/load.ts spec.json     (prints the LoadResult as JSON)
import fs from 'node:fs';
import autocannon from 'autocannon';

export interface LoadRequest {
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  baseUrl: string;
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

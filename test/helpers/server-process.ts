import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './private-postgres.js';

export const TEST_JWT_SECRET = 'process-test-secret-that-is-long-enough-0123456789';

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** Sends SIGKILL if still running and waits for the exit (afterAll safety net). */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx src/server.ts` (the server `npm start` runs, from its sources) as a separate process, the way production
 * runs it, so tests can kill it, signal it and talk to it over real sockets.
 * Pass DATABASE_URL for PostgreSQL, or DATA_DIR for the embedded database.
 */
export async function startServer(
  env: Record<string, string>,
  options: { waitReady?: boolean; /** Node arguments; default runs the TypeScript sources. */ args?: string[] } = {},
): Promise<ServerProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const child = spawn(process.execPath, options.args ?? ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      RATE_LIMITS: 'off',
      WEB_CONCURRENCY: '1',
      JOB_POLL_SECONDS: '0',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  const server: ServerProcess = {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    isRunning: () => running,
    stop: async () => {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
  if (options.waitReady !== false) await waitUntilReady(server);
  return server;
}

/** Polls /healthz until the server answers; fails with the process output if it exits or takes over 60 s. */
export async function waitUntilReady(server: ServerProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!server.isRunning()) throw new Error(`server exited during start-up:\n${server.output()}`);
    try {
      const res = await fetch(`${server.baseUrl}/healthz`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop();
  throw new Error(`server did not become ready in ${timeoutMs} ms:\n${server.output()}`);
}

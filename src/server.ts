import cluster from 'node:cluster';
import 'dotenv/config';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirLockedError, openDatabase, runMigrations } from './db/client.js';
import { resolveJwtSecret } from './lib/jwt-secret.js';
import type { OutboxWorker as Worker } from './modules/outbox/outbox.worker.js';
import { RestartBackoff } from './lib/restart-backoff.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

/** The app and what runs beside it: loaded once the database has started opening (serveOneProcess). */
const loadServing = () =>
  Promise.all([
    import('./app.js'),
    import('./modules/mail/mail.channel.js'),
    import('./modules/mail/mail.transport.js'),
    import('./modules/outbox/outbox.worker.js'),
    import('./modules/webhooks/webhooks.channel.js'),
    import('./scheduled-jobs.js'),
  ]);

async function serveOneProcess(config: Config, migrate: boolean): Promise<void> {
  // The embedded database starts (about half a second) while the app's modules load (about a second), rather than
  // after them: a cold `npm start` is ready about 200 ms sooner (issue 18). Its failure is reported below, once awaited.
  const opening = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  opening.catch(() => {});
  const [{ buildApp }, { emailChannel }, { createMailTransport }, { OutboxWorker }, { webhookChannel }, { JobPoller }] =
    await loadServing();
  const database = await opening;
  if (migrate) await runMigrations(database);
  const app = await buildApp({ config, database });
  // Reminders and other scheduled work; every process may poll, each job is claimed by one of them.
  // Mails wait in the outbox (written with their cause) and go out from here; an SMTP outage only delays them.
  const mailTransport = createMailTransport(config);
  app.log.info(
    { destination: mailTransport.destination },
    config.smtpUrl ? 'mail is sent through SMTP' : 'no SMTP_URL: mails are written as .eml files to this folder',
  );
  const outboxWorkers: Worker[] = [];
  if (config.outboxPollMs > 0) {
    outboxWorkers.push(
      new OutboxWorker({
        db: database.db,
        clock: app.clock,
        channels: [emailChannel({ config, transport: mailTransport, signer: app.linkSigner, log: app.log })],
        intervalMs: config.outboxPollMs,
        log: app.log,
      }),
    );
    // Webhooks on lanes of their own, one message at a time each: a receiver that hangs until its timeout holds
    // one lane (and, by its ordering key, only its own later messages), never mails or other endpoints.
    const webhooks = webhookChannel({ config, log: app.log });
    for (let lane = 0; lane < config.webhookConcurrency; lane++) {
      outboxWorkers.push(
        new OutboxWorker({
          db: database.db,
          clock: app.clock,
          channels: [webhooks],
          intervalMs: config.outboxPollMs,
          log: app.log,
          batch: 1,
        }),
      );
    }
  }
  const poller =
    config.jobPollSeconds > 0
      ? new JobPoller({ db: database.db, clock: app.clock, settings: config, intervalSeconds: config.jobPollSeconds, log: app.log })
      : undefined;

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const deadline = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    // server.close() only reaps connections idle at that moment; a keep-alive connection whose request finishes
    // later (or that was accepted but has not sent its request yet) would hold the close open until the deadline.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 200);
    reaper.unref();
    try {
      // No new delivery pass from here; one under way finishes (its mails are recorded) while the server closes,
      // without holding up the refusal of new connections.
      const outboxStopped = Promise.all(outboxWorkers.map((worker) => worker.stop()));
      await poller?.stop();
      await app.close();
      await outboxStopped;
      mailTransport.close();
      await database.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  logWhereToLook(app, config);
  poller?.start();
  for (const worker of outboxWorkers) worker.start();
}

/** One line that tells a person where to start: the API docs, and the web app when this build serves one. */
function logWhereToLook(app: FastifyInstance, config: Config): void {
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const base = `http://${host}:${config.port}`;
  const webApp = app.hasRoute({ method: 'GET', url: '/app/' }) ? `${base}/app/` : undefined;
  const urls = { docs: `${base}/docs/`, openapi: `${base}/openapi.json`, ...(webApp ? { app: webApp } : {}) };
  app.log.info(urls, `API docs at ${urls.docs}${webApp ? `, web app at ${webApp}` : ''}`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  config.jwtSecret = resolveJwtSecret(config);

  if (config.webConcurrency > 1 && !config.databaseUrl) {
    throw new ConfigError(
      `WEB_CONCURRENCY=${config.webConcurrency} needs PostgreSQL: the embedded PGlite database serves one process only. ` +
        'Set DATABASE_URL or WEB_CONCURRENCY=1.',
    );
  }
  if (config.webConcurrency <= 1) {
    await serveOneProcess(config, true);
    return;
  }
  if (cluster.isPrimary) {
    // Migrate once before forking, so workers start on a ready schema.
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
    await runMigrations(database);
    await database.close();
    let stopping = false;
    const startedAt = new Map<number, number>();
    const fork = () => {
      if (stopping) return;
      const worker = cluster.fork({ JWT_SECRET: config.jwtSecret });
      startedAt.set(worker.id, Date.now());
    };
    const backoff = new RestartBackoff();
    for (let i = 0; i < config.webConcurrency; i++) fork();
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      const uptimeMs = Date.now() - (startedAt.get(worker.id) ?? 0);
      startedAt.delete(worker.id);
      const delayMs = backoff.delayAfter(uptimeMs);
      const msg = `worker ${worker.process.pid} exited with ${signal ?? code} after ${uptimeMs} ms; starting another in ${delayMs} ms`;
      console.error(JSON.stringify({ level: 50, time: Date.now(), msg }));
      setTimeout(fork, delayMs);
    });
    const stop = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
      setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS + 1_000).unref();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    return;
  }
  await serveOneProcess(config, false);
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof DataDirLockedError) {
    console.error(`Cannot start: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** Typed configuration, read from the environment once at start-up (an optional `.env` is loaded by server.ts). */
export interface Config {
  nodeEnv: string;
  isProduction: boolean;
  host: string;
  port: number;
  /** postgres://… for PostgreSQL; empty for the embedded PGlite database. */
  databaseUrl: string;
  /** Folder for PGlite's files, the dev JWT secret and the lock file. */
  dataDir: string;
  /** Empty when not given: server.ts generates one in development and refuses to start in production. */
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  logLevel: string;
  /** `pretty` (human-readable, pino-pretty) or `json` (one JSON object per line, for log collectors). */
  logFormat: 'pretty' | 'json';
  /** Origins allowed by CORS; empty means no cross-origin access. */
  corsOrigins: string[];
  rateLimitsEnabled: boolean;
  loginFailuresPerAccount: number;
  loginFailuresPerIp: number;
  loginFailureWindowSeconds: number;
  registrationsPerIpPerHour: number;
  maxTicketsPerRegistration: number;
  reminderLeadSeconds: number;
  webConcurrency: number;
  dbPoolSize: number;
  /**
   * Which X-Forwarded-For hops to believe (Fastify's trustProxy): false, true (every hop: only when nothing
   * but the proxy can reach the API), a number of proxy hops, or a list of proxy addresses/CIDRs.
   */
  trustProxy: boolean | number | string[];
  bodyLimitBytes: number;
  keepAliveTimeoutMs: number;
  /**
   * Connections the kernel may hold for this server before it accepts them. Node's default (511) overflowed when
   * 1,000 clients connected at once to a process busy with PGlite: the others' connection attempts were dropped and
   * retried 1, 3, 7, 15 and 31 s later (issue 18). The kernel caps it at net.core.somaxconn.
   */
  listenBacklog: number;
  /** Whole request (headers and body) must arrive within this; also the idle timeout of a socket. */
  requestTimeoutMs: number;
  /** Headers must arrive within this (slowloris guard); at most requestTimeoutMs. */
  headersTimeoutMs: number;
  /** Seconds between scans of the scheduled-job table; 0 disables the scheduler in this process. */
  jobPollSeconds: number;
  /** Seconds an event list's total `count` may be reused for the same filters; 0 counts every request. */
  listCountCacheSeconds: number;
  authCacheMs: number;
  /** Seconds an anonymous GET of a public page (event lists, one event, categories) may be answered from memory. */
  publicCacheSeconds: number;
  /** Milliseconds between heartbeat comments on an open notification stream. */
  streamHeartbeatMs: number;
  /** Notification streams one user may hold open in one process; opening one more closes their oldest. */
  maxStreamsPerUser: number;
  /**
   * The API's public base URL (scheme, host, optional path; no trailing slash), used for links in responses.
   * Empty: links use the request's Host only when it is a loopback name or in allowedHosts.
   */
  publicUrl: string;
  /** Host names (no port) besides loopback ones that may appear in links when publicUrl is empty. */
  allowedHosts: string[];
  /** smtp:// or smtps:// URL of the mail server; empty writes mails as .eml files under DATA_DIR/mail/. */
  smtpUrl: string;
  /** From address of every mail. */
  mailFrom: string;
  /**
   * Base of every link in mails (reset, verification, unsubscribe, events): PUBLIC_URL, else
   * http://localhost:PORT. A mail has no request, and links in mails are never built from a Host header.
   */
  mailBaseUrl: string;
  /** Registering for events needs a verified email address. */
  requireEmailVerification: boolean;
  /** Milliseconds between outbox delivery passes (mails); 0 disables delivery in this process. */
  outboxPollMs: number;
  /** Webhook targets may be http:// (development, tests); otherwise https:// only. */
  webhookAllowHttp: boolean;
  /** Webhook targets may resolve to loopback, private, link-local or metadata addresses (development, tests). */
  webhookAllowPrivate: boolean;
  /** A webhook delivery's whole exchange must finish within this. */
  webhookTimeoutMs: number;
  /** Webhook deliveries one process runs at once: a slow endpoint occupies one, never the others. */
  webhookConcurrency: number;
  /** BENCH_ROUTES=1 adds the benchmark's ceiling routes (bench/run.ts sets it); never set it in production. */
  benchRoutes: boolean;
}

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function trustProxy(env: NodeJS.ProcessEnv): boolean | number | string[] {
  const raw = env.TRUST_PROXY?.trim() ?? '';
  if (/^\d+$/.test(raw)) return Number(raw);
  if (/[.:]/.test(raw))
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return bool(env, 'TRUST_PROXY', false);
}

/** `https://tickets.example.org` (an optional path is kept); the trailing slash is dropped. */
function publicUrl(raw: string | undefined): string {
  const value = raw?.trim() ?? '';
  if (!value) return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL, got "${raw}"`);
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash || url.username) {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL without query, fragment or credentials, got "${raw}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Pretty for a person at a terminal in development; JSON in production and whenever the output is piped. */
function logFormat(env: NodeJS.ProcessEnv, isProduction: boolean): 'pretty' | 'json' {
  const raw = env.LOG_FORMAT?.trim().toLowerCase();
  if (raw === 'pretty' || raw === 'json') return raw;
  if (raw) throw new ConfigError(`LOG_FORMAT must be pretty or json, got "${env.LOG_FORMAT}"`);
  return !isProduction && process.stdout.isTTY && prettyLogsInstalled() ? 'pretty' : 'json';
}

/** pino-pretty is a development dependency: a production install (npm ci --omit=dev) has no pretty logs. */
function prettyLogsInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/** Durations accept plain seconds or a unit suffix: 300, 5m, 24h, 1d. */
export function parseDuration(name: string, raw: string | undefined, fallbackSeconds: number): number {
  if (raw === undefined || raw.trim() === '') return fallbackSeconds;
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a duration like 300, 5m, 24h or 1d, got "${raw}"`);
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  return Number(match[1]) * units[match[2] ?? 's']!;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const isProduction = nodeEnv === 'production';
  const databaseUrl = env.DATABASE_URL ?? '';
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  const smtpUrl = env.SMTP_URL?.trim() ?? '';
  if (smtpUrl && !/^smtps?:\/\/[^/]/.test(smtpUrl)) {
    throw new ConfigError('SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465');
  }
  const port = int(env, 'PORT', 8000);
  const mailBaseUrl = publicUrl(env.PUBLIC_URL) || `http://localhost:${port}`;
  if (isProduction && smtpUrl && !env.PUBLIC_URL?.trim()) {
    throw new ConfigError('PUBLIC_URL is required in production when SMTP_URL is set: links in mails would point at localhost.');
  }
  const mailFrom = env.MAIL_FROM?.trim() || `Event Ticketing <no-reply@${new URL(mailBaseUrl).hostname}>`;
  if (/[\r\n]/.test(mailFrom) || !/@/.test(mailFrom)) throw new ConfigError('MAIL_FROM must be one email address');
  const rateLimits = (env.RATE_LIMITS ?? 'on').trim().toLowerCase();
  const requestTimeoutMs = int(env, 'REQUEST_TIMEOUT_MS', 30_000, 1);
  const webConcurrency = int(env, 'WEB_CONCURRENCY', isProduction && databaseUrl ? os.availableParallelism() : 1, 1);
  return {
    nodeEnv,
    isProduction,
    // Only this machine by default: a development server should not be reachable from the network unasked.
    // The Docker image sets HOST=0.0.0.0 (a container is reached through its published port).
    host: env.HOST ?? '127.0.0.1',
    port,
    databaseUrl,
    // Empty (`DATA_DIR=` copied from .env.example) is unset: resolved as it is, it made the working directory the data folder.
    dataDir: path.resolve(env.DATA_DIR?.trim() ? env.DATA_DIR : 'data'),
    jwtSecret: env.JWT_SECRET ?? '',
    accessTokenTtlSeconds: parseDuration('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL, 5 * 60),
    refreshTokenTtlSeconds: parseDuration('REFRESH_TOKEN_TTL', env.REFRESH_TOKEN_TTL, 24 * 3600),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    logFormat: logFormat(env, isProduction),
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    rateLimitsEnabled: !['off', '0', 'false', 'no'].includes(rateLimits),
    loginFailuresPerAccount: int(env, 'LOGIN_FAILURES_PER_ACCOUNT', 5, 1),
    loginFailuresPerIp: int(env, 'LOGIN_FAILURES_PER_IP', 20, 1),
    loginFailureWindowSeconds: parseDuration('LOGIN_FAILURE_WINDOW', env.LOGIN_FAILURE_WINDOW, 15 * 60),
    registrationsPerIpPerHour: int(env, 'SIGNUPS_PER_IP_PER_HOUR', 20, 1),
    maxTicketsPerRegistration: int(env, 'MAX_TICKETS_PER_REGISTRATION', 10, 1),
    reminderLeadSeconds: parseDuration('REMINDER_LEAD', env.REMINDER_LEAD, 24 * 3600),
    webConcurrency,
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1),
    trustProxy: trustProxy(env),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024),
    keepAliveTimeoutMs: int(env, 'KEEP_ALIVE_TIMEOUT_MS', 72_000),
    listenBacklog: int(env, 'LISTEN_BACKLOG', 4096, 1),
    requestTimeoutMs,
    headersTimeoutMs: Math.min(int(env, 'HEADERS_TIMEOUT_MS', 10_000, 1), requestTimeoutMs),
    jobPollSeconds: int(env, 'JOB_POLL_SECONDS', 30),
    listCountCacheSeconds: int(env, 'LIST_COUNT_CACHE_SECONDS', 2),
    authCacheMs: int(env, 'AUTH_CACHE_MS', 1000),
    publicCacheSeconds: int(env, 'PUBLIC_CACHE_SECONDS', 1),
    streamHeartbeatMs: int(env, 'STREAM_HEARTBEAT_MS', 15_000, 100),
    maxStreamsPerUser: int(env, 'MAX_STREAMS_PER_USER', 5, 1),
    publicUrl: publicUrl(env.PUBLIC_URL),
    allowedHosts: (env.ALLOWED_HOSTS ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    smtpUrl,
    mailFrom,
    mailBaseUrl,
    requireEmailVerification: bool(env, 'REQUIRE_EMAIL_VERIFICATION', false),
    outboxPollMs: int(env, 'OUTBOX_POLL_MS', 1_000),
    webhookAllowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', false),
    webhookAllowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 1),
    webhookConcurrency: int(env, 'WEBHOOK_CONCURRENCY', 4, 1),
    benchRoutes: bool(env, 'BENCH_ROUTES', false),
  };
}

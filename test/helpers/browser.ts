import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import jsQRModule from 'jsqr';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { systemClock } from '../../src/lib/clock.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { DEFAULT_PASSWORD } from './factories.js';

/** Debian's Chromium (package `chromium`; .ci/run installs it). CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface WebServer {
  app: FastifyInstance;
  database: TestDatabase;
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The whole server (API and the built app under /app/) on a fresh test database, listening on a loopback port,
 * with the real clock: the browser's "now" and the server's must agree for upcoming/past and token expiry.
 */
export async function startWebServer(): Promise<WebServer> {
  const config = {
    ...loadConfig({
      NODE_ENV: 'test',
      RATE_LIMITS: 'off',
      JOB_POLL_SECONDS: '0',
      LIST_COUNT_CACHE_SECONDS: '0',
      PUBLIC_CACHE_SECONDS: '0',
      LOG_LEVEL: 'warn',
    }),
    jwtSecret: 'browser-test-secret-that-is-long-enough-0123456789',
  };
  const database = await createTestDatabase();
  const app = await buildApp({ config, database, clock: systemClock });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    database,
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

/**
 * One server and one Chromium for a test file, started in beforeAll and closed in afterAll. Read `server` and
 * `browser` inside tests (they are set once beforeAll ran).
 */
export function useServerAndBrowser(): { server: WebServer; browser: Browser } {
  const suite = {} as { server: WebServer; browser: Browser };
  beforeAll(async () => {
    [suite.server, suite.browser] = await Promise.all([startWebServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}

export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * A Chromium whose camera films `y4mFile` in a loop (and grants camera access without asking), as a phone held
 * up to a ticket would see it.
 */
export const launchBrowserWithCamera = (y4mFile: string) =>
  launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${y4mFile}`]);

/**
 * Writes a short raw video (YUV4MPEG2, 4:2:0, full-range luma) of `text` as a QR code, black on white and
 * centred: what launchBrowserWithCamera's camera shows. No ffmpeg needed: each frame is the luma plane followed by
 * two neutral chroma planes.
 */
export function writeQrVideo(text: string, file: string, { width = 640, height = 480, frames = 5, modulePx = 8 } = {}): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const quiet = 4;
  const side = (size + 2 * quiet) * modulePx;
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);
  const luma = Buffer.alloc(width * height, 255);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      if (!qr.modules.get(row, col)) continue;
      for (let y = 0; y < modulePx; y++) {
        const start = (top + (quiet + row) * modulePx + y) * width + left + (quiet + col) * modulePx;
        luma.fill(0, start, start + modulePx);
      }
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  fs.writeFileSync(file, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}

export interface TrackedPage {
  page: Page;
  /** Console errors and CSP violations seen so far (the app must produce none). */
  problems: string[];
}

/** A fresh browser context (own storage: one user) with a page whose console errors and CSP reports are collected. */
export async function newPage(
  browser: Browser,
  baseUrl: string,
  options: { width?: number; height?: number } = {},
): Promise<TrackedPage & { context: BrowserContext }> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: options.width ?? 1024, height: options.height ?? 800 },
    timezoneId: 'Europe/Paris',
    locale: 'en-GB',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    // A 4xx the app expected and showed in words (a wrong password, a full event) is not a problem; a CSP
    // refusal, a script error or a 5xx is.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { page, context, problems };
}

// jsqr is CommonJS with `exports.default`: Node's ESM import gives the exports object, Vite's the function.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as typeof import('jsqr').default;

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page and fails on any serious or critical violation. Playwright's evaluate runs outside the
 * page's CSP, so the app's strict policy stays on while axe is injected.
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(`${axeSource}\n;void 0`);
  const violations = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  })) as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  const serious = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(serious, `axe on ${what}`).toEqual([]);
}

/** Decodes the QR code shown in an <img> from a screenshot of it, as a phone's camera would. */
export async function readQrCode(page: Page, image: ReturnType<Page['locator']>): Promise<string | null> {
  const png = PNG.sync.read(await image.screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

export async function logInThroughForm(page: Page, login: string, password = DEFAULT_PASSWORD): Promise<void> {
  await page.goto('/app/login');
  await page.getByLabel('Email or username').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** web/dist from src/plugins (tsx) or dist/src/plugins (compiled; `npm run build` copies web/dist to dist/web/dist). */
export const defaultWebDistDir = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * The app's pages load only their own scripts, styles and data: no inline script or style element, nothing from
 * another origin. React writes `style` through the CSSOM, which style-src does not govern; QR codes are data: images.
 * Workers: the door check-in's service worker is one of our files ('self'); the camera's QR decoder (qr-scanner,
 * where the browser has no BarcodeDetector) starts its Web Worker from a blob: URL of code in our own bundle, so
 * worker-src also allows blob: (only script that already runs here can make one; script-src stays 'self').
 */
export const WEB_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NO_CACHE = 'no-cache';
// Vite names every file under assets/ by its content hash, so a changed file gets a new name.
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the single-page app built into web/dist under /app/. Encapsulated (not fastify-plugin): its CSP and
 * cache hooks touch only these routes, and the API keeps its own headers.
 */
const webApp: FastifyPluginAsync<{ distDir?: string }> = async (app, options) => {
  const distDir = options.distDir ?? defaultWebDistDir;
  const indexFile = path.join(distDir, 'index.html');

  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/', 302));

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', WEB_APP_CSP);
  });

  if (!fs.existsSync(indexFile)) {
    // The API still works without the front end (e.g. an image built without it); say what is missing.
    app.log.warn({ distDir }, 'web app not built: /app/ answers 503 (run `npm run build:web`)');
    app.get('/app/*', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(503)
        .header('cache-control', NO_CACHE)
        .type('text/plain; charset=utf-8')
        .send('The web app is not built. Run `npm run build:web` (npm start does it) and restart.\n'),
    );
    return;
  }

  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/app/',
    // Files are listed once at start-up, one route each; every other /app/ path is a page of the app (below).
    wildcard: false,
    index: false,
    cacheControl: false,
    etag: true,
    lastModified: true,
    setHeaders: (reply, filePath) => {
      const hashed = path.relative(distDir, filePath).startsWith(`assets${path.sep}`);
      reply.header('cache-control', hashed ? IMMUTABLE : NO_CACHE);
    },
    schemaHide: true,
  });

  // Deep links (/app/events/<id>, /app/tickets, …) are routes of the app: answer them with index.html. A missing
  // asset is a 404 rather than a page, so a stale cached index.html fails loudly instead of running HTML as script.
  const sendIndex = async (request: { url: string }, reply: import('fastify').FastifyReply) => {
    if (request.url.startsWith('/app/assets/')) {
      return reply.code(404).header('cache-control', NO_CACHE).send({ detail: 'Not found.', code: 'not_found' });
    }
    return reply.header('cache-control', NO_CACHE).sendFile('index.html', { cacheControl: false });
  };
  app.get('/app', { schema: { hide: true } }, sendIndex);
  app.get('/app/*', { schema: { hide: true } }, sendIndex);
};

export default webApp;

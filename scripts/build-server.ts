// Bundles the server (src/server.ts and what it imports from src/) into dist/start with esbuild, for `npm start`:
// Node then loads plain JavaScript instead of passing every module, the packages' included, through tsx's loader
// (issue 18: a cold start about 0.6 s sooner). The packages stay in node_modules. Built only when a source changed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { newestMtime } from './build-web.js';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Two folders below the root, as src/<folder>/ is: the modules' paths to drizzle/ and web/dist stay right. */
export const serverBundleDir = path.join(root, 'dist', 'start');
export const serverBundleEntry = path.join(serverBundleDir, 'server.js');
const inputs = ['src', 'package-lock.json', 'tsconfig.json'].map((entry) => path.join(root, entry));

/** True when the bundle is missing or any source changed after it was built. */
export function serverBuildIsStale(): boolean {
  if (!fs.existsSync(serverBundleEntry)) return true;
  const built = fs.statSync(serverBundleEntry).mtimeMs;
  return inputs.some((input) => newestMtime(input) > built);
}

export async function buildServer(): Promise<void> {
  fs.rmSync(serverBundleDir, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(root, 'src', 'server.ts')],
    outdir: serverBundleDir,
    bundle: true,
    // The modules server.ts imports once the database has started opening stay separate chunks, loaded then.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain && serverBuildIsStale()) await buildServer();

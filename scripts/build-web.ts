// Builds the web app into web/dist when it is missing or older than its sources (`npm start` runs this first).
// `--force` always builds; `--check` only says whether a build is needed (exit 1 if so).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = fileURLToPath(new URL('../web', import.meta.url));
const builtIndex = path.join(webDir, 'dist', 'index.html');
/** Everything the build reads besides node_modules: the sources, the page, the config, and the locked versions. */
const inputs = [
  path.join(webDir, 'src'),
  path.join(webDir, 'public'),
  path.join(webDir, 'index.html'),
  path.join(webDir, 'vite.config.ts'),
  fileURLToPath(new URL('../package-lock.json', import.meta.url)),
];

/** The newest modification time of a file, or of anything in a folder (0 when it does not exist). */
export function newestMtime(entry: string): number {
  if (!fs.existsSync(entry)) return 0;
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(entry).reduce((max, name) => Math.max(max, newestMtime(path.join(entry, name))), stat.mtimeMs);
}

/** True when web/dist is missing or any input changed after it was built. */
export function webBuildIsStale(): boolean {
  if (!fs.existsSync(builtIndex)) return true;
  const built = fs.statSync(builtIndex).mtimeMs;
  return inputs.some((input) => newestMtime(input) > built);
}

export async function buildWeb({ report = false } = {}): Promise<void> {
  const { build } = await import('vite');
  // Vite keeps a NODE_ENV it finds (the test runner sets `test`), which would bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(webDir, 'vite.config.ts'), mode: 'production', logLevel: report ? 'info' : 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const force = process.argv.includes('--force');
  if (process.argv.includes('--check')) {
    const stale = webBuildIsStale();
    console.log(stale ? 'web/dist is missing or stale' : 'web/dist is up to date');
    process.exit(stale ? 1 : 0);
  }
  if (force || webBuildIsStale()) {
    console.log('Building the web app (web/dist)…');
    // An explicit build (--force: `npm run build`, CI) lists the files with their gzip sizes.
    await buildWeb({ report: force });
    console.log('Web app built.');
  }
}

// `npm run dev`: the API with restart on change (tsx watch, port 8000) and the web app with hot reload (Vite,
// http://localhost:5173/app/), which forwards API paths to the local API.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const tsxCli = fileURLToPath(import.meta.resolve('tsx/cli'));
const api = spawn(process.execPath, [tsxCli, 'watch', 'src/server.ts'], { stdio: 'inherit' });
const vite = await createServer({ configFile: new URL('../web/vite.config.ts', import.meta.url).pathname });
await vite.listen();
vite.printUrls();

const stop = async () => {
  api.kill('SIGTERM');
  await vite.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
api.on('exit', (code) => {
  if (code !== null && code !== 0) void stop();
});

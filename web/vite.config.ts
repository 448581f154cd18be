import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The API the dev server forwards to (`npm run dev:web`); the built app is served by the API itself under /app/.
const api = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8000}`;
const apiPaths = ['/auth', '/events', '/categories', '/registrations', '/tickets', '/feedbacks', '/notifications', '/healthz'];

export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline <script>/<style> anywhere (the CSP forbids them): keep even tiny assets as files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(apiPaths.map((p) => [p, { target: api, changeOrigin: false }])),
  },
});

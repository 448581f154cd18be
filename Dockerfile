# syntax=docker/dockerfile:1
# Production image: compiled JavaScript, production dependencies only, runs as the unprivileged `node` user.

# 1. Compile TypeScript (needs the dev dependencies).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY drizzle ./drizzle
COPY web ./web
RUN npm run build

# 2. Production dependencies only.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. The runtime: dist/ holds src/, scripts/, drizzle/ (the migrations, applied at start-up) and web/dist (the app).
#    test/server-process.test.ts starts this same layout outside Docker: `node src/server.js`.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/ ./
# The embedded database (used when DATABASE_URL is not set) lives in /data; mount a volume there.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8000
# Slim images have no curl: ask Node itself.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server drains in-flight requests on SIGTERM and exits within 10 s; `docker stop` waits that long by default.
STOPSIGNAL SIGTERM
CMD ["node", "src/server.js"]

# Longrun's images, built from the repository root (compose.yaml builds them all):
#   docker build --target worker -t longrun-worker .
#   docker build --target web -t longrun-web .
# The worker image also runs the migrations (node dist/migrate.mjs) and the
# WebDAV server (node dist/webdav.mjs).

# Node 24, the current LTS (Node 20, which development machines may still run, is past its end of life).
FROM node:24-bookworm-slim AS base
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1

# Every dependency, to build with, exactly as the lockfile says.
FROM base AS deps
# patches/ holds patch-package's fixes to dependencies, applied by the postinstall script.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund

# The standalone web (needs no secrets to build) and the bundled worker commands. Each
# carries only the node_modules files traced from it (Next's standalone output; for the
# worker, scripts/build-worker.ts with @vercel/nft into dist/node_modules), copied from
# the node_modules above, where patch-package has applied patches/. The worker's trace
# leaves out the lockfile's dev-only packages and, as it imports nothing of them, the
# web's (next) and the embedded Postgres.
FROM deps AS build
COPY . .
RUN node node_modules/next/dist/bin/next build \
 && node --import tsx scripts/build-worker.ts dist

# The web: Next's standalone server, which carries the node_modules it traced.
FROM base AS web
ENV NODE_ENV=production PORT=3000 HOSTNAME=0.0.0.0
COPY --from=build /app/.next/standalone ./
COPY --from=build /app/.next/static ./.next/static
# (The repository has no public/ folder; were one added, it would be copied here too.)
USER node
EXPOSE 3000
# 200 when the web reaches the database, 503 otherwise (shell form: the shell fills in the port).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:${PORT}/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "server.js"]

# The worker: `docker run longrun-worker [--only large] [--concurrency N]`.
FROM base AS worker
ENV NODE_ENV=production WORKER_METRICS_PORT=9464
# The bundle, its render thread files and migrations, and dist/node_modules: nothing else.
COPY --from=build /app/dist ./dist
# Files stay root-owned: the worker reads them and writes nothing to disk.
USER node
EXPOSE 9464
# /health: 200 while its heartbeat is fresh and the database answers, 503 otherwise (the shell fills in the port).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:${WORKER_METRICS_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "dist/main.mjs"]

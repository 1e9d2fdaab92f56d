# syntax=docker/dockerfile:1
# The attributes subgraph: build with dev dependencies, run with production dependencies only,
# as the unprivileged `node` user. The same image runs the sample users subgraph (compose.yaml).
#
#   docker build -t attributes-subgraph .
#   docker run --rm -p 4001:4001 -e SANDBOX=true -e GRAPHIQL=true attributes-subgraph

# The Node line the tests run on (20.20 here; package.json engines: 20.19 or newer, or 22.13+).
ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script (package.json "allowScripts" allows none).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.image.json ./
COPY src ./src
# Only what the image runs (tsconfig.image.json: the subgraph, the worker, compose's sandboxes and users
# subgraph) and what they import, so no dev tooling that needs dev dependencies ships.
RUN npm run build:image

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# A ceiling on the heap. With the growth factor set in CMD, a 1M-id bulk job peaks at ~260-275 MB RSS with or
# without it (bench/RESULTS.md, session 10). Raise it with BULK_MAX_USER_IDS × BULK_JOB_CONCURRENCY: about 70 MB
# of heap per million ids being submitted; a running job holds its ids packed outside the heap, ~11-40 MB per million.
ENV NODE_OPTIONS=--max-old-space-size=256
WORKDIR /app
# Owned by root and read-only to the app: the process cannot change its own code.
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 4001
# Liveness only (/ready also probes vendors; orchestrators should use it as the readiness probe).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4001) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --no-memory-reducer: after ~8 s without traffic V8 shrinks the heap, and the next burst pays ~10-25% more CPU
# per request to grow it back (bench/RESULTS.md, session 5). Not allowed in NODE_OPTIONS, hence here and in `npm start`.
# --max-semi-space-size=16: Node's default on a 64-bit host, stated because Node sizing its heap from a container's
# memory limit (NODE_OPTIONS overridden) shrinks the young generation to ~1 MB semi-spaces, which cost a bulk
# job ~70% more CPU per vendor call (bench/RESULTS.md, session 10). On the command line, so it survives NODE_OPTIONS.
# --heap-growing-percent=100: the heap may double between full collections. V8's own factor is up to 4x on a large
# host (a 1M-id submission then peaked at 385 MB RSS, against 273 MB at 2x) and 1.3x under a 256 MB cap (a full
# collection every few hundred ms, ~15% more CPU per request). NODE_OPTIONS does not accept this flag.
CMD ["node", "--enable-source-maps", "--no-memory-reducer", "--max-semi-space-size=16", "--heap-growing-percent=100", "dist/main.js"]

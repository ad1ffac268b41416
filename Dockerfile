# Multi-stage image for the Node services of anomaly-exporter: the exporter, the demo service and
# the remediation receiver all run the one CLI (`anomaly-exporter run | demo-service | receiver`).
# Build: docker build -t anomaly-exporter:0.1.0 .

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts=false
COPY tsconfig.json tsconfig.build.json ./
COPY common ./common
COPY models ./models
COPY exporter ./exporter
COPY cli ./cli
COPY receiver ./receiver
COPY demo ./demo
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
# glibc: arrays of 8 KiB and more (a refit's training copies, answers, forests) get their own
# pages and go back to the system when freed, instead of staying with the allocator after each
# burst. bench:soak at 10,000 series: last hour's RSS 879 → 804 MiB, peak 885 → 837 MiB, the
# same cycle times (docs/scaling.md).
ENV MALLOC_MMAP_THRESHOLD_=8192
WORKDIR /app
COPY --from=build --chown=node:node /src/node_modules ./node_modules
COPY --from=build --chown=node:node /src/dist ./dist
COPY --chown=node:node package.json anomaly-exporter.yml ./
COPY --chown=node:node demo/anomaly-exporter.demo.yml ./demo/
COPY --chown=node:node receiver/receiver.example.yml ./receiver/
# Served at /runbooks: where the shipped rules' runbook_url points.
COPY --chown=node:node docs/runbooks.md ./docs/
RUN mkdir -p /app/state && chown node:node /app/state
# The official node image's unprivileged user.
USER node
# Each service sets HEALTHCHECK_URL to its own endpoint (see docker-compose.yml).
ENV HEALTHCHECK_URL=http://127.0.0.1:10190/healthz
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run", "--config", "anomaly-exporter.yml"]

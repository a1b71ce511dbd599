# syntax=docker/dockerfile:1
# TasksGodzilla server image: `serve` (API + console) by default, `worker` and `migrate` as commands.
#   docker build -t tasksgodzilla .
#   docker build --build-arg AGENT_CLIS="@openai/codex@0.169.0 @anthropic-ai/claude-code@2.1.197" -t tasksgodzilla:agents .
# Size and how it was estimated: README.md, "Container image".
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile the server (tsc) and the console (vite) with the dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
RUN npm run build

# ---- runtime: production dependencies only, non-root ----
FROM ${NODE_IMAGE} AS runtime
# Space-separated npm package specs installed globally (agent CLIs on PATH); empty by default:
# the `command` engine and agents mounted or installed by the operator work without them.
ARG AGENT_CLIS=""
ENV NODE_ENV=production \
    TASKSGODZILLA_DB_PATH=/data/tasksgodzilla.sqlite \
    TASKSGODZILLA_PROJECTS_ROOT=/data/projects \
    TASKSGODZILLA_LOGS_DIR=/data/logs \
    TASKSGODZILLA_API_PORT=8010
# git for the jobs, tini to reap agent grandchildren and forward signals (node is not a good PID 1).
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Build tools only for the case where better-sqlite3 has no prebuilt binary; removed in the same layer.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && npm ci --omit=dev --no-audit --no-fund \
 && if [ -n "$AGENT_CLIS" ]; then npm install -g --no-audit --no-fund $AGENT_CLIS; fi \
 && npm cache clean --force \
 && apt-get purge -y python3 make g++ && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/* /root/.npm /tmp/*
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY prompts ./prompts
COPY schemas ./schemas
COPY assets ./assets
COPY fixtures/agents ./fixtures/agents
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8010
# Liveness only (the process answers); readiness with its dependencies is /health/ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.TASKSGODZILLA_API_PORT||8010)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/tasksgodzilla.js"]
CMD ["serve"]

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * Every metric the process exposes, with the original names and label sets. One registry per
 * process: the API serves it on `/metrics`, a worker on its own `--metrics-port`.
 */
export interface Metrics {
  readonly registry: Registry
  readonly requestsTotal: Counter
  readonly requestDuration: Histogram<'path' | 'method' | 'status'>
  readonly webhooksTotal: Counter<'provider' | 'status'>
  readonly jobsProcessed: Counter<'job_type' | 'status'>
  readonly jobDuration: Histogram<'job_type' | 'status'>
  readonly queueDepth: Gauge<'queue' | 'state'>
  readonly codexTokensEstimated: Counter<'phase' | 'model'>
  readonly agentTokens: Counter<'engine' | 'model' | 'phase' | 'kind'>
  readonly qaVerdicts: Counter<'verdict'>
}

export const createMetrics = (): Metrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  return {
    registry,
    requestsTotal: new Counter({ name: 'requests_total', help: 'Total HTTP requests', registers }),
    requestDuration: new Histogram({
      name: 'requests_duration_seconds',
      help: 'Request duration seconds',
      labelNames: ['path', 'method', 'status'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10],
      registers,
    }),
    webhooksTotal: new Counter({
      name: 'webhooks_total',
      help: 'Total webhooks received',
      labelNames: ['provider', 'status'],
      registers,
    }),
    jobsProcessed: new Counter({
      name: 'jobs_processed_total',
      help: 'Total jobs processed',
      labelNames: ['job_type', 'status'],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'jobs_duration_seconds',
      help: 'Job duration seconds',
      labelNames: ['job_type', 'status'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'queue_depth',
      help: 'Jobs in the queue by state',
      labelNames: ['queue', 'state'],
      registers,
    }),
    codexTokensEstimated: new Counter({
      name: 'codex_token_estimated_total',
      help: 'Estimated Codex tokens sent (prompt-side) grouped by phase/model',
      labelNames: ['phase', 'model'],
      registers,
    }),
    agentTokens: new Counter({
      name: 'agent_tokens_total',
      help: 'Tokens used by agent engines, by engine, model, phase and kind (prompt/completion)',
      labelNames: ['engine', 'model', 'phase', 'kind'],
      registers,
    }),
    qaVerdicts: new Counter({
      name: 'qa_verdict_total',
      help: 'QA verdicts observed',
      labelNames: ['verdict'],
      registers,
    }),
  }
}

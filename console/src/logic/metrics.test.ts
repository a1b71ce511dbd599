import { describe, expect, it } from 'vitest'
import { jobOutcomes, parsePrometheus, qaSummary, tokenUsage } from './metrics.js'

const TEXT = `# HELP qa_verdict_total QA verdicts observed
# TYPE qa_verdict_total counter
qa_verdict_total{verdict="pass"} 3
qa_verdict_total{verdict="FAIL"} 1.0
codex_token_estimated_total{phase="exec",model="codex-5.1-max"} 1.2e+3
codex_token_estimated_total{model="gpt-5.1-high",phase="planning"} 800
codex_token_estimated_total{phase="exec",model="codex-5.1-max"} 300
agent_tokens_total{engine="command",model="",phase="exec",kind="input"} 50
jobs_processed_total{job_type="plan_protocol_job",status="completed"} 2
jobs_processed_total{job_type="execute_step_job",status="failed"} 1
requests_duration_seconds_bucket{le="+Inf",method="GET",path="/x",status="200"} 4
weird{label="with \\"quotes\\", commas, and \\\\ slashes"} NaN
broken{label="unterminated} 1
process_start_time_seconds 1.7954800173e+09 1700000000000
`

describe('metrics parsing', () => {
  const samples = parsePrometheus(TEXT)

  it('reads labels in any order, escapes, exponents, timestamps and special values; skips broken lines', () => {
    expect(samples.find((s) => s.name === 'weird')?.labels.label).toBe(
      'with "quotes", commas, and \\ slashes',
    )
    expect(samples.find((s) => s.name === 'process_start_time_seconds')?.value).toBeCloseTo(1795480017.3)
    expect(samples.find((s) => s.name === 'requests_duration_seconds_bucket')?.value).toBe(4)
    expect(samples.some((s) => s.name === 'broken')).toBe(false)
  })

  it('summarises QA verdicts with a pass rate, case-insensitively', () => {
    expect(qaSummary(samples)).toEqual({
      verdicts: [
        { verdict: 'pass', count: 3 },
        { verdict: 'fail', count: 1 },
      ],
      total: 4,
      passRate: 0.75,
    })
    expect(qaSummary([]).passRate).toBeUndefined()
  })

  it('adds token usage per phase and model, largest first', () => {
    const usage = tokenUsage(samples)
    expect(usage.estimated).toEqual([
      { phase: 'exec', model: 'codex-5.1-max', tokens: 1500 },
      { phase: 'planning', model: 'gpt-5.1-high', tokens: 800 },
    ])
    expect(usage.actual).toEqual([{ phase: 'exec', model: 'default', tokens: 50 }])
  })

  it('counts processed jobs by outcome', () => {
    expect(Object.fromEntries(jobOutcomes(samples))).toEqual({ completed: 2, failed: 1 })
  })
})

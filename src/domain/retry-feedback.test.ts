import { describe, expect, it } from 'vitest'
import {
  bindCiFailureToHead,
  QA_REPORT_KEEP_CHARS,
  qaFailureState,
  retryFeedbackSections,
} from './retry-feedback.js'

describe('retry feedback', () => {
  it('says nothing for a step with no recorded failure', () => {
    expect(retryFeedbackSections({ headSha: 'abc', runtimeState: { job_id: 'j' } })).toEqual([])
    expect(retryFeedbackSections({ headSha: null, runtimeState: null })).toEqual([])
  })

  it('keeps a CI failure that names no commit, and fences a log that contains backticks', () => {
    const [section] = retryFeedbackSections({
      headSha: 'abc123',
      runtimeState: {
        ci_failure: { provider: 'gitlab', job: 'lint', stage: 'test', log_excerpt: 'bad ```fence```' },
      },
    })
    expect(section?.[0]).toBe('CI failure on the previous attempt')
    expect(section?.[1]).toContain('- Job: lint\n- Stage: test')
    expect(section?.[1]).toContain('````text\nbad ```fence```\n````')
  })

  it('drops feedback about a commit the step has since moved past', () => {
    const runtimeState = {
      ci_failure: { sha: 'old0000', conclusion: 'failure' },
      qa_failure: qaFailureState('VERDICT: FAIL', 'old0000', '2026-01-01T00:00:00.000Z'),
    }
    expect(retryFeedbackSections({ headSha: 'old0000ffff', runtimeState })).toHaveLength(2)
    expect(retryFeedbackSections({ headSha: 'new1111', runtimeState })).toEqual([])
  })

  it('ties a CI failure that named no commit to the head it arrived on, then lets it go', () => {
    const reported = { headSha: 'aaa111', runtimeState: { ci_failure: { conclusion: 'failure' } } }
    const claimed = bindCiFailureToHead(reported)
    expect(claimed).toEqual({ ci_failure: { conclusion: 'failure', head_sha: 'aaa111' } })
    expect(retryFeedbackSections({ headSha: 'aaa111', runtimeState: claimed })).toHaveLength(1)
    expect(retryFeedbackSections({ headSha: 'bbb222', runtimeState: claimed })).toEqual([])
    // Bound once: a later claim on a newer head does not move it.
    expect(bindCiFailureToHead({ headSha: 'bbb222', runtimeState: claimed })).toBe(claimed)
  })

  it('keeps the end of a long QA report, where the verdict is', () => {
    const report = `${'x'.repeat(QA_REPORT_KEEP_CHARS)}\nVERDICT: FAIL`
    expect(qaFailureState(report, null, 'now').report).toMatch(/x\nVERDICT: FAIL$/)
    expect(String(qaFailureState(report, null, 'now').report)).toHaveLength(QA_REPORT_KEEP_CHARS)
  })
})

import type { CiNotice } from '../../src/domain/ci-notice.js'

/** A GitHub check suite that completed on `sha` with `conclusion`, as the webhook parses it. */
export const checkSuiteResult = (sha: string, conclusion: 'failure' | 'success'): CiNotice => ({
  provider: 'github',
  event: 'check_suite',
  action: 'completed',
  branch: null,
  sha,
  conclusion,
  status: 'completed',
  prNumber: null,
  checkName: 'ci',
  merged: false,
  repositoryUrls: [],
  details: {},
})

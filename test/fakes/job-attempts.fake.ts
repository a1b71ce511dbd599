import type { JobSettlement } from '../../src/app/job-claim.port.js'
import type { JobRepository, PrecheckFacts } from '../../src/app/ports.js'

/** The job runner's slice of JobRepository in memory: facts to answer, settlements recorded. */
export interface FakeJobAttempts extends Pick<JobRepository, 'precheckFacts' | 'settle'> {
  readonly settlements: { readonly jobId: string; readonly settlement: JobSettlement }[]
}

export const createFakeJobAttempts = (facts: Partial<PrecheckFacts> = {}): FakeJobAttempts => {
  const settlements: FakeJobAttempts['settlements'] = []
  return {
    settlements,
    precheckFacts: async () => ({
      runStatus: undefined,
      stepStatus: undefined,
      otherStartedForStep: 0,
      ...facts,
    }),
    settle: async (claim, settlement) => {
      settlements.push({ jobId: claim.jobId, settlement })
      return true
    },
  }
}

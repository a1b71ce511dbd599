import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventOut } from '../../support/agent-runs.js'
import { unavailable } from '../../support/databases.js'
import { git } from '../../support/git-repos.js'
import { backendUnavailable } from '../../support/queue-harness.js'
import { CRASH_SETUPS, crashHarness } from '../../support/worker-crash.js'

const HALFWAY_AGENT = fileURLToPath(new URL('../../fixtures/agents/halfway-agent.mjs', import.meta.url))

describe.each(CRASH_SETUPS)('a worker killed mid-step on the %s queue with %s', (backend, dialect) => {
  const harness = crashHarness()
  afterEach(harness.cleanUp)

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'leaves the next attempt the half-done worktree, tells it so, and commits both halves once',
    async () => {
      const { dir, worktree, runId, stepId, read } = await harness.crashStep([backend, dialect], {
        env: (root) => ({
          TASKSGODZILLA_COMMAND_ENGINE: HALFWAY_AGENT,
          TASKSGODZILLA_COMMAND_ENGINE_ARGS: `--state=${join(root, 'agent')}`,
          TASKSGODZILLA_DEFAULT_ENGINE: 'command',
        }),
      })

      // Both halves are in the one commit of the step; nothing was reset or committed twice.
      expect(git(worktree, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort()).toEqual(
        expect.arrayContaining(['work/part-1.txt', 'work/part-2.txt']),
      )
      const subjects = git(worktree, 'log', '--format=%s').trim().split('\n')
      expect(subjects.filter((s) => s === '[protocol-0001/00] Execute 00-only.md')).toHaveLength(1)
      expect(git(worktree, 'status', '--porcelain').trim()).toBe('')
      const secondPrompt = readFileSync(join(dir, 'agent', '0001-crash', 'prompt-2.txt'), 'utf8')
      expect(secondPrompt).toContain('## Previous attempt interrupted')
      expect(secondPrompt).toContain('This is attempt 2 of 3')
      const events = (await read<EventOut[]>(`/protocols/${runId}/events?limit=500`)).reverse()
      expect(events.find((e) => e.event_type === 'job_retry_scheduled')?.metadata).toMatchObject({
        error_category: 'worker_lost',
        attempts: 1,
      })
      expect(events.find((e) => e.event_type === 'execution_resumed')).toMatchObject({
        step_run_id: stepId,
        metadata: { attempt: 2, previous_attempt: 1, interrupted: true },
      })
    },
    180_000,
  )
})

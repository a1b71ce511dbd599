import { describe, expect, it } from 'vitest'
import { dispatchStep } from '../../../src/app/policy-dispatch.js'
import {
  AGENT_RUN_SETUPS,
  agentRunEnvPerTest,
  SCRIPTED_AGENT,
  setupUnavailable,
  until,
} from '../../support/agent-runs.js'
import { git } from '../../support/git-repos.js'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

describe.each(AGENT_RUN_SETUPS)('one writer per run worktree on %s with the %s queue', (dialect, backend) => {
  const envs = agentRunEnvPerTest({ dialect, backend })
  const skip = setupUnavailable(dialect, backend)
  const statusOf = async (runId: number, stepId: number) => (await envs.current.step(runId, stepId))?.status
  /** What the agent printed for a step so far (its execution and its QA). */
  const agentSaid = (stepId: number): string => {
    const path = join(envs.current.dir, 'logs', 'steps', `${stepId}.log`)
    return existsSync(path) ? readFileSync(path, 'utf8') : ''
  }

  it.skipIf(skip)(
    'of two concurrent starts of different steps one runs and the other is refused with 409 naming it',
    async () => {
      const env = await envs.start({ command: SCRIPTED_AGENT })
      const protocol = '0001-lease'
      env.script(protocol, '00-first.md.say', 'working\n')
      env.script(protocol, '01-second.md.say', 'working\n')
      const { runId, steps } = await env.plannedRun(protocol)
      const [first, second] = steps
      const answers = await Promise.all(
        [first!, second!].map((step) => env.call('POST', `/steps/${step.id}/actions/run`)),
      )
      const codes = answers.map((a) => a.status).sort()
      expect(codes).toEqual([200, 409])
      const winner = answers[0]!.status === 200 ? first! : second!
      const loser = winner === first ? second! : first!
      const refusal = (await answers.find((a) => a.status === 409)!.json()) as {
        detail: string
        code: string
      }
      expect(refusal.code).toBe('ORC_RUN_BUSY')
      expect(refusal.detail).toContain(`step ${winner.id} (${winner.step_name})`)
      expect(await statusOf(runId, loser.id)).toBe('pending')

      // A later start while the winner still runs is refused the same way; once it is done it goes.
      expect((await env.call('POST', `/steps/${loser.id}/actions/run`)).status).toBe(409)
      env.script(protocol, `${winner.step_name}.say`, 'working\nDONE\n')
      await until(async () => (await statusOf(runId, winner.id)) === 'needs_qa')
      expect((await env.call('POST', `/steps/${loser.id}/actions/run`)).status).toBe(200)
      env.script(protocol, `${loser.step_name}.say`, 'DONE\n')
      await until(async () => (await statusOf(runId, loser.id)) === 'needs_qa')
    },
    60_000,
  )

  it.skipIf(skip)(
    'a step a policy dispatches while another step runs waits queued, then runs once the worktree is free',
    async () => {
      const env = await envs.start({ command: SCRIPTED_AGENT })
      const protocol = '0002-wait'
      env.script(protocol, '00-first.md.say', 'working\n')
      const { runId, steps } = await env.plannedRun(protocol)
      const [first, second] = steps
      expect((await env.call('POST', `/steps/${first!.id}/actions/run`)).status).toBe(200)
      await until(
        async () =>
          (await env.events(runId)).some((e) => e.message.includes('executing 00-first')) ||
          (await statusOf(runId, first!.id)) === 'running',
      )

      // What a loop or trigger policy (or a CI result) does, in its own transaction.
      const { uow } = env.server.runtime.deps
      const job = await uow.run(async (tx) => {
        const run = (await tx.runs.findById(runId))!
        const step = (await tx.steps.findById(second!.id))!
        const event = { type: 'trigger_enqueued', message: 'Triggered by a test policy.' }
        return dispatchStep(tx, { maxAttempts: 2 }, run, { step, event, runtime: {}, origin: {} })
      })
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      const waiting = (await env.step(runId, second!.id))!
      expect(waiting.status).toBe('pending')
      expect(waiting.runtime_state).toMatchObject({ job_id: job.id, awaiting_worktree_of: first!.id })
      const row = await env.server.runtime.deps.repos.jobs.findById(job.id)
      expect(row).toMatchObject({ status: 'queued', attempts: 0 })
      const waitEvent = (await env.events(runId)).find((e) => e.event_type === 'step_waiting_for_worktree')
      expect(waitEvent).toMatchObject({ step_run_id: second!.id, metadata: { running_step_id: first!.id } })

      env.script(protocol, '00-first.md.say', 'working\nDONE\n')
      await until(async () => (await statusOf(runId, second!.id)) === 'needs_qa')
      expect(await statusOf(runId, first!.id)).toBe('needs_qa')
      const types = (await env.events(runId)).map((e) => e.event_type)
      expect(types).toContain('step_worktree_acquired')
      expect(types).not.toContain('job_failed')
      const done = await env.server.runtime.deps.repos.jobs.findById(job.id)
      expect(done).toMatchObject({ status: 'finished', attempts: 1 })
      // The two executions committed one after the other in the one worktree.
      const subjects = git(join(env.dir, 'worktrees', protocol), 'log', '--format=%s')
        .trim()
        .split('\n')
      expect(subjects.slice(0, 2)).toEqual([
        '[protocol-0002/01] Execute 01-second.md',
        '[protocol-0002/00] Execute 00-first.md',
      ])
    },
    60_000,
  )

  it.skipIf(skip)(
    'a QA agent has the worktree to itself: it waits for an executing step, and a start during it is refused',
    async () => {
      const env = await envs.start({ command: SCRIPTED_AGENT })
      const protocol = '0003-qa'
      env.script(protocol, 'steps', '00-first.md\n01-second.md\n02-third.md\n')
      env.script(protocol, '01-second.md.say', 'working\n')
      env.script(protocol, '00-first.md.qa-say', 'judging\n')
      const { runId, steps } = await env.plannedRun(protocol)
      const [first, second, third] = steps
      expect((await env.call('POST', `/steps/${first!.id}/actions/run`)).status).toBe(200)
      await until(async () => (await statusOf(runId, first!.id)) === 'needs_qa')
      expect((await env.call('POST', `/steps/${second!.id}/actions/run`)).status).toBe(200)
      await until(async () => agentSaid(second!.id).includes('executing 01-second.md'))

      // The first step's QA does not start while the second step executes in the worktree.
      expect((await env.call('POST', `/steps/${first!.id}/actions/run_qa`)).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect(agentSaid(first!.id)).not.toContain('reviewing')
      expect(await statusOf(runId, first!.id)).toBe('needs_qa')

      // Once the execution is done the QA runs; while it judges, a start is refused, naming it.
      env.script(protocol, '01-second.md.say', 'working\nDONE\n')
      await until(async () => agentSaid(first!.id).includes('judging'))
      expect(await statusOf(runId, second!.id)).toBe('needs_qa')
      const refusal = await env.call('POST', `/steps/${third!.id}/actions/run`)
      expect(refusal.status).toBe(409)
      expect(await refusal.json()).toMatchObject({
        code: 'ORC_RUN_BUSY',
        detail: expect.stringContaining(`step ${first!.id} (00-first.md) is under QA`),
      })

      env.script(protocol, '00-first.md.qa-say', 'judging\nDONE\n')
      await until(async () => (await statusOf(runId, first!.id)) === 'completed')
      expect((await env.call('POST', `/steps/${third!.id}/actions/run`)).status).toBe(200)
      await until(async () => (await statusOf(runId, third!.id)) === 'needs_qa')
      const types = (await env.events(runId)).map((e) => e.event_type)
      expect(types).not.toContain('job_failed')
    },
    60_000,
  )
})

// page.evaluate callbacks run in the browser, so this file also sees the DOM types.
/// <reference lib="dom" />
import { randomBytes } from 'node:crypto'
import { appendFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { git, makeOriginWithClone } from '../support/git-repos.js'
import { readUntil as until } from '../support/polling.js'
import {
  SKIP_REASON,
  chromiumAvailable,
  consoleSessionPerSuite,
  pageProblems,
  screenshot,
  startEngineConsoleServer,
  type EngineConsoleServer,
} from './support/console-harness.js'

if (!chromiumAvailable) console.warn(SKIP_REASON)

const unique = () => randomBytes(3).toString('hex')
const XSS = '<img src=x onerror="window.__xss=1">'

interface ProjectOut {
  id: number
  name: string
}
interface RunOut {
  id: number
  status: string
  protocol_name: string
}
interface StepOut {
  id: number
  status: string
  step_name: string
  head_sha: string | null
}

/**
 * The console against a server whose job runner is on, with the scripted fake agent as the
 * `command` engine: planning, execution and QA really run, and the pages must follow them live.
 */
describe.skipIf(!chromiumAvailable)('console with the engine (jobs on, scripted fake agent)', () => {
  let server: EngineConsoleServer
  let page: Page

  consoleSessionPerSuite(
    () =>
      startEngineConsoleServer({
        TASKSGODZILLA_REQUIRE_ONBOARDING_CLARIFICATIONS: 'true',
        TASKSGODZILLA_WEBHOOK_ALLOW_UNSIGNED: 'true',
      }),
    (session) => ({ server, page } = session),
  )

  /** Writes the agent's control files for one protocol (see scripted-agent.mjs). */
  const script = (protocol: string, files: Record<string, string>): void => {
    mkdirSync(join(server.control, protocol), { recursive: true })
    for (const [name, content] of Object.entries(files))
      writeFileSync(join(server.control, protocol, name), content)
  }
  const say = (protocol: string, step: string, lines: string): void =>
    appendFileSync(join(server.control, protocol, `${step}.say`), lines)

  /** A project on a fresh repository whose origin is a local bare repo. */
  const projectOnRepo = async (prefix: string) => {
    const root = join(server.dir, `${prefix}-${unique()}`)
    mkdirSync(root)
    const { origin, clone } = makeOriginWithClone(root)
    const project = await server.api<ProjectOut>('POST', '/projects', {
      name: `${prefix}-${unique()}`,
      git_url: origin,
      local_path: clone,
    })
    return { project, origin, clone }
  }

  const steps = (runId: number) => server.api<StepOut[]>('GET', `/protocols/${runId}/steps`)
  const run = (runId: number) => server.api<RunOut>('GET', `/protocols/${runId}`)

  /** Creates and starts a run through the API and waits until the planner has written its steps. */
  const plannedRun = async (projectId: number, name: string): Promise<RunOut> => {
    const created = await server.api<RunOut>('POST', `/projects/${projectId}/protocols`, {
      protocol_name: name,
      description: `Scripted ${name}`,
    })
    await server.api('POST', `/protocols/${created.id}/actions/start`)
    return until(
      () => run(created.id),
      (r) => r.status === 'planned',
      `${name} planned`,
    )
  }

  const stepRow = (id: number, status: string) =>
    page.locator(`tr[data-step-id="${id}"][data-status="${status}"]`)

  it('watches steps go running → needs_qa → completed without a reload, with the fake agent', async () => {
    const { project } = await projectOnRepo('live')
    const name = '0001-live-flow'
    script(name, { steps: '00-first.md\n01-second.md\n', '00-first.md.say': 'warming up\n' })
    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/new`)
    await page.getByLabel('Protocol name').fill(name)
    await page.getByLabel('Description').fill('Two scripted steps')
    await page.getByRole('button', { name: 'Create and start planning' }).click()
    await page.waitForURL(/#\/projects\/\d+\/runs\/\d+$/)
    const marker = await page.evaluate(
      () => ((window as unknown as { __marker: number }).__marker = Date.now()),
    )
    const runId = Number(/runs\/(\d+)$/.exec(page.url())?.[1])

    // The planner's steps appear by themselves once planning finishes.
    await page.locator('.page-head [data-status="planned"]').waitFor({ timeout: 30_000 })
    const [first, second] = await steps(runId)
    await stepRow(first!.id, 'pending').waitFor()
    await stepRow(second!.id, 'pending').waitFor()

    await page
      .getByRole('group', { name: 'Run actions' })
      .getByRole('button', { name: 'Run next step' })
      .click()
    await stepRow(first!.id, 'running').waitFor({ timeout: 20_000 })
    await page.locator('.page-head [data-status="running"]').waitFor()
    await screenshot(page, '20-engine-step-running')

    say(name, '00-first.md', 'DONE\n')
    await stepRow(first!.id, 'needs_qa').waitFor({ timeout: 20_000 })
    await stepRow(first!.id, 'needs_qa').getByRole('button', { name: 'Run QA' }).click()
    await stepRow(first!.id, 'completed').waitFor({ timeout: 20_000 })
    await page.locator('#run-events').getByText('QA passed.').first().waitFor()

    say(name, '01-second.md', 'DONE\n')
    await page
      .getByRole('group', { name: 'Run actions' })
      .getByRole('button', { name: 'Run next step' })
      .click()
    await stepRow(second!.id, 'needs_qa').waitFor({ timeout: 20_000 })
    await stepRow(second!.id, 'needs_qa').getByRole('button', { name: 'Run QA' }).click()
    await stepRow(second!.id, 'completed').waitFor({ timeout: 20_000 })
    await page.locator('.page-head [data-status="completed"]').waitFor()

    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(marker)
    expect((await run(runId)).status).toBe('completed')
    const row = page.locator(`tr[data-step-id="${first!.id}"]`)
    expect(await row.locator('td[data-label="Engine"]').textContent()).toBe('command')
    await screenshot(page, '21-engine-run-completed')
    expect(pageProblems(page)).toEqual([])
  })

  it('follows a running step’s agent log (GET /steps/{id}/logs?follow=1) and keeps the newest line in view', async () => {
    const { project } = await projectOnRepo('log')
    const name = '0002-log-follow'
    script(name, { steps: '00-talk.md\n', '00-talk.md.say': 'first line from the agent\n' })
    const planned = await plannedRun(project.id, name)
    await server.api('POST', `/protocols/${planned.id}/actions/run_next_step`)
    const [step] = await until(
      () => steps(planned.id),
      (s) => s[0]?.status === 'running',
      'a running step',
    )

    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/${planned.id}/steps/${step!.id}`)
    const log = page.locator('#log pre.log-text')
    await log.getByText('first line from the agent').waitFor({ timeout: 15_000 })
    await page.locator('#log .live-live').waitFor()

    say(name, '00-talk.md', `second line ${XSS}\n`)
    await log.getByText(`second line ${XSS}`).waitFor()
    expect(await page.locator('img').count()).toBe(0)

    const many = Array.from({ length: 80 }, (_, i) => `progress ${i + 1}/80`).join('\n')
    say(name, '00-talk.md', `${many}\n`)
    await log.getByText('progress 80/80').waitFor()
    // Follow mode: the newest line is scrolled into view as it arrives.
    await expect
      .poll(() => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight))
      .toBeLessThan(24)
    await screenshot(page, '22-engine-log-follow')

    say(name, '00-talk.md', 'DONE\n')
    await page.locator('.page-head [data-status="needs_qa"]').waitFor({ timeout: 20_000 })
    expect(await log.textContent()).toContain('progress 80/80')
    expect(pageProblems(page)).toEqual([])
  })

  it('renders the QA report (quality-report.md) of a failed step as markdown, as text only', async () => {
    const { project } = await projectOnRepo('qa')
    const name = '0003-qa-report'
    const report = [
      '# Review findings',
      '',
      `The change breaks the build: ${XSS} is echoed into the page.`,
      '',
      '- **Blocking**: `npm test` fails in `login.test.ts`',
      '- Minor: a typo in the README',
      '',
      'VERDICT: FAIL',
      '',
    ].join('\n')
    script(name, { steps: '00-check.md\n', '00-check.md.say': 'DONE\n', '00-check.md.qa': report })
    const planned = await plannedRun(project.id, name)
    await server.api('POST', `/protocols/${planned.id}/actions/run_next_step`)
    const [step] = await until(
      () => steps(planned.id),
      (s) => s[0]?.status === 'needs_qa',
      'a step awaiting QA',
    )

    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/${planned.id}/steps/${step!.id}`)
    const qa = page.locator('#qa-report')
    await qa.getByText('No QA verdict yet').waitFor()
    await page.getByRole('group', { name: 'Step actions' }).getByRole('button', { name: 'Run QA' }).click()
    await page.locator('.page-head [data-status="failed"]').waitFor({ timeout: 20_000 })
    await qa.getByRole('heading', { name: 'Review findings' }).waitFor()
    await qa.getByText('QA failed.').waitFor()
    expect(await qa.locator('li strong').textContent()).toBe('Blocking')
    expect(await qa.locator('li code').first().textContent()).toBe('npm test')
    expect(await qa.textContent()).toContain(`is echoed into the page`)
    expect(await qa.textContent()).toContain('VERDICT: FAIL')
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect((await run(planned.id)).status).toBe('blocked')
    // The QA agent's own lines join the step's log once QA has run.
    await page.locator('#log pre.log-text').getByText('scripted-agent: reviewing 00-check.md').waitFor()
    await screenshot(page, '23-engine-qa-report')

    // The dashboard reads the same verdict and the agents' token counts from /metrics.
    await page.goto(`${server.origin}/console/#/`)
    await page.locator('#qa .meter-label', { hasText: 'fail' }).waitFor()
    await page.locator('#tokens .meter-label', { hasText: 'qa' }).waitFor()
    await page.locator('#tokens').getByText('Reported by the engines.').waitFor()
    await screenshot(page, '29-engine-dashboard')
  })

  it('shows a CI failure reported by a GitHub webhook on the step: what failed, a link and the log', async () => {
    const { project } = await projectOnRepo('ci')
    const name = '0004-ci-details'
    script(name, { steps: '00-build.md\n', '00-build.md.say': 'DONE\n' })
    const planned = await plannedRun(project.id, name)
    await server.api('POST', `/protocols/${planned.id}/actions/run_next_step`)
    const [step] = await until(
      () => steps(planned.id),
      (s) => s[0]?.status === 'needs_qa',
      'an executed step',
    )

    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/${planned.id}/steps/${step!.id}`)
    await page.locator('#ci-details').getByText('No CI report for this step').waitFor()
    const delivery = await fetch(`${server.origin}/webhooks/github?protocol_run_id=${planned.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_run' },
      body: JSON.stringify({
        action: 'completed',
        workflow_run: {
          name: 'ci / unit tests',
          status: 'completed',
          conclusion: 'failure',
          head_branch: name,
          head_sha: step!.head_sha,
          html_url: 'https://github.example/acme/repo/actions/runs/42',
        },
        log_excerpt: `FAIL login.test.ts\n  expected 200, got 500 ${XSS}`,
      }),
    })
    expect(delivery.status).toBe(200)
    const ci = page.locator('#ci-details')
    await page.locator('.page-head [data-status="failed"]').waitFor()
    await ci.getByText('ci / unit tests', { exact: true }).waitFor()
    expect(await ci.getByRole('link', { name: /actions\/runs\/42/ }).getAttribute('href')).toBe(
      'https://github.example/acme/repo/actions/runs/42',
    )
    expect(await ci.getByLabel('CI log excerpt').textContent()).toContain('expected 200, got 500')
    await ci.getByText(/CI failed on step 00-build\.md/).waitFor()
    expect(await page.locator('img').count()).toBe(0)
    await screenshot(page, '24-engine-ci-failure')
  })

  it('lists remote branches of a local bare repo and deletes one after confirming', async () => {
    const { project, origin, clone } = await projectOnRepo('branches')
    git(clone, 'push', 'origin', 'HEAD:refs/heads/feature/old-work')
    git(clone, 'push', 'origin', 'HEAD:refs/heads/keep-me')
    await page.goto(`${server.origin}/console/#/projects/${project.id}`)
    const panel = page.locator('#branches')
    await panel.getByRole('button', { name: 'List remote branches' }).click()
    const item = panel.locator('li', { hasText: 'feature/old-work' })
    await item.waitFor()
    await panel.locator('li', { hasText: 'keep-me' }).waitFor()
    const base = panel.locator('li', { hasText: 'main' }).getByRole('button', { name: 'Delete' })
    expect(await base.getAttribute('aria-disabled')).toBe('true')
    await screenshot(page, '25-engine-branches')

    await item.getByRole('button', { name: 'Delete' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText(/feature\/old-work/).waitFor()
    await screenshot(page, '26-engine-branch-confirm')
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await item.waitFor({ state: 'detached' })
    await page.getByText('Deleted feature/old-work.').waitFor()
    const remote = git(origin, 'for-each-ref', '--format=%(refname:short)', 'refs/heads')
    expect(remote.split('\n').filter(Boolean).sort()).toEqual(['keep-me', 'main'])
    await page.locator('#project-events').getByText('branch_deleted').first().waitFor()
  })

  it('unblocks a setup run waiting for clarifications once they are answered', async () => {
    const { project } = await projectOnRepo('setup')
    await page.goto(`${server.origin}/console/#/projects/${project.id}`)
    const onboarding = page.locator('#onboarding')
    await onboarding.locator('[data-status="blocked"]').waitFor({ timeout: 20_000 })
    await onboarding.getByText('waiting for the answers below').waitFor()
    const form = page.getByRole('form', { name: 'Onboarding clarifications' })
    await form.getByLabel(/Which CI runs on this repository/).fill('github')
    await form.getByLabel(/pull requests open as drafts/).fill('drafts, opened after the last step')
    await screenshot(page, '27-engine-setup-blocked')
    await form.getByRole('button', { name: 'Save answers' }).click()
    await page.getByText('Answers recorded.').waitFor()

    // The answer re-enqueues the setup job, which now completes; the card follows without a reload.
    await onboarding.locator('[data-status="completed"]').waitFor({ timeout: 20_000 })
    const saved = await server.api<{ clarifications: Record<string, unknown> }>(
      'GET',
      `/projects/${project.id}`,
    )
    expect(saved.clarifications).toEqual({
      ci_provider: 'github',
      pr_policy: 'drafts, opened after the last step',
    })
    await page.locator('#project-events').getByText('setup_completed').first().waitFor()
    await screenshot(page, '28-engine-setup-unblocked')
    expect(pageProblems(page)).toEqual([])
  })
})

const CODEMACHINE_FIXTURES = fileURLToPath(new URL('../fixtures/codemachine/', import.meta.url))

/**
 * CodeMachine import from the console's form, on a server that wants an API token, into a project
 * protected by its own token, with the job runner on so the enqueued import really runs.
 */
describe.skipIf(!chromiumAvailable)('console CodeMachine import (API token, project token, jobs on)', () => {
  const API_TOKEN = `api-${unique()}-secret`
  const PROJECT_TOKEN = `proj-${unique()}-token`
  let server: EngineConsoleServer
  let page: Page
  let project: ProjectOut
  let clone: string

  consoleSessionPerSuite(
    () => startEngineConsoleServer({ TASKSGODZILLA_API_TOKEN: API_TOKEN }),
    (session) => ({ server, page } = session),
  )

  beforeAll(async () => {
    const root = join(server.dir, `cm-${unique()}`)
    mkdirSync(root)
    ;({ clone } = makeOriginWithClone(root))
    project = await server.api<ProjectOut>('POST', '/projects', {
      name: `cm-${unique()}`,
      git_url: clone,
      local_path: clone,
      secrets: { api_token: PROJECT_TOKEN },
    })
    // Both tokens go in through the console itself: settings, then the project's token form.
    await page.goto(`${server.origin}/console/#/settings`)
    await page.getByLabel('API token').fill(API_TOKEN)
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText(/Connected: \d+ project/).waitFor()
    await page.goto(`${server.origin}/console/#/projects/${project.id}`)
    await page.getByRole('textbox', { name: 'Project token' }).fill(PROJECT_TOKEN)
    await page.getByRole('button', { name: 'Save token' }).click()
    await page.locator('#settings').getByText('required').waitFor()
  }, 120_000)

  /** A copy of a fixture workspace inside the project's checkout. */
  const workspace = (fixture: string): string => {
    const path = join(clone, `${fixture}-${unique()}`)
    cpSync(join(CODEMACHINE_FIXTURES, fixture), path, { recursive: true })
    return path
  }
  const runsOfProject = () =>
    server.api<RunOut[]>('GET', `/projects/${project.id}/protocols`, undefined, PROJECT_TOKEN)

  /** Opens the import form from the project page and fills it. */
  const fillImport = async (name: string, path: string, enqueue: boolean) => {
    await page.goto(`${server.origin}/console/#/projects/${project.id}`)
    await page.getByRole('link', { name: 'Import CodeMachine' }).click()
    const form = page.getByRole('form', { name: 'Import CodeMachine workspace' })
    await form.getByLabel('Protocol name').fill(name)
    await form.getByLabel('Workspace path on the server').fill(path)
    await form.getByLabel('Description').fill(`Imported ${name}`)
    await form.getByLabel(/Import in the background/).setChecked(enqueue)
    return form
  }

  /** The run page of an import: planned, one pending step per main agent, the import event. */
  const expectImportedRun = async (name: string) => {
    await page.waitForURL(/#\/projects\/\d+\/runs\/\d+$/)
    const runId = Number(/runs\/(\d+)$/.exec(page.url())?.[1])
    await page.getByRole('heading', { name }).waitFor()
    // An enqueued import starts as planning; the page follows the job to planned by itself.
    await page.locator('.page-head [data-status="planned"]').waitFor({ timeout: 30_000 })
    const rows = page.locator('tr[data-step-id]')
    await expect.poll(() => rows.count()).toBe(3)
    expect(await page.locator('tr[data-step-id][data-status="pending"]').count()).toBe(3)
    for (const step of ['00-plan', '01-build', '02-review']) await rows.getByText(step).waitFor()
    await page.locator('#run-events').getByText('codemachine_imported').first().waitFor()
    return runId
  }

  it('imports a workspace inline and lands on its planned run with one step per main agent', async () => {
    const name = '0001-cm-inline'
    const form = await fillImport(name, workspace('esm-camel'), false)
    await screenshot(page, '30-import-form')
    await form.getByRole('button', { name: 'Import' }).click()
    await page.getByText('Imported CodeMachine workspace.').waitFor()
    const runId = await expectImportedRun(name)
    await screenshot(page, '31-import-inline-run')
    const run = await server.api<RunOut & { description: string | null }>(
      'GET',
      `/protocols/${runId}`,
      undefined,
      PROJECT_TOKEN,
    )
    expect(run).toMatchObject({ protocol_name: name, status: 'planned', description: `Imported ${name}` })
  })

  it('imports a workspace through a job (enqueue) and follows the run until it is planned', async () => {
    const name = '0002-cm-enqueued'
    const form = await fillImport(name, workspace('esm-camel'), true)
    await form.getByRole('button', { name: 'Import' }).click()
    await page.getByText('Enqueued CodeMachine import job.').waitFor()
    const runId = await expectImportedRun(name)
    await page.locator('#run-events').getByText('codemachine_import_enqueued').first().waitFor()
    await screenshot(page, '32-import-enqueued-run')
    const events = await server.api<{ event_type: string }[]>(
      'GET',
      `/protocols/${runId}/events`,
      undefined,
      PROJECT_TOKEN,
    )
    expect(events.map((e) => e.event_type)).toEqual(
      expect.arrayContaining(['codemachine_import_enqueued', 'codemachine_imported']),
    )
  })

  it('shows the config error with file:line:col in the form and creates no run', async () => {
    const name = '0003-cm-broken'
    const form = await fillImport(name, workspace('function-call'), false)
    await form.getByRole('button', { name: 'Import' }).click()
    const alert = form.getByRole('alert')
    await alert.getByText('Error 400').waitFor()
    expect(await alert.textContent()).toMatch(
      /Config error: \.codemachine\/config\/main\.agents\.js:2:26: unsupported function call/,
    )
    expect(page.url()).toMatch(/#\/projects\/\d+\/import$/)
    await screenshot(page, '33-import-config-error')
    expect((await runsOfProject()).map((r) => r.protocol_name)).not.toContain(name)
    expect(pageProblems(page)).toEqual([])
  })
})

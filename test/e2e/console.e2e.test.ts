// page.evaluate callbacks run in the browser, so this file also sees the DOM types.
/// <reference lib="dom" />
import { randomBytes } from 'node:crypto'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import {
  SKIP_REASON,
  chromiumAvailable,
  consoleSessionPerSuite,
  launchBrowser,
  pageProblems,
  screenshot,
  startConsoleServer,
  startPrefixProxy,
  type Browser,
  type ConsoleServer,
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
}
interface StepOut {
  id: number
  status: string
}

/** Fills the onboarding form and lands on the new project's page. */
const onboard = async (page: Page, origin: string, name: string, extra: { token?: string } = {}) => {
  await page.goto(`${origin}/console/#/projects/new`)
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Git URL or local path').fill('/srv/repos/demo')
  await page.getByLabel('CI provider').selectOption('github')
  await page.getByLabel('Default models (JSON)').fill('{"planning": "gpt-5.1-high"}')
  if (extra.token) await page.getByLabel('Project token (optional)').fill(extra.token)
  await page.getByRole('button', { name: 'Create project' }).click()
  await page.waitForURL(/#\/projects\/\d+$/)
  return Number(/projects\/(\d+)$/.exec(page.url())?.[1])
}

describe.skipIf(!chromiumAvailable)('console in a real browser (auth off)', () => {
  let server: ConsoleServer
  let browser: Browser
  let page: Page

  consoleSessionPerSuite(
    () => startConsoleServer(),
    (session) => ({ server, browser, page } = session),
  )

  it('serves the SPA at /console with a strict CSP, and / redirects there', async () => {
    const root = await fetch(`${server.origin}/`, { redirect: 'manual' })
    expect(root.status).toBe(302)
    const response = await page.goto(`${server.origin}/`)
    expect(page.url()).toBe(`${server.origin}/console/`)
    const csp = response?.headers()['content-security-policy'] ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).not.toContain('unsafe')
    await expect(page.getByRole('heading', { name: 'Dashboard' }).isVisible()).resolves.toBe(true)
    await page.getByText('No projects yet.').waitFor()
    await screenshot(page, '01-dashboard-empty')
    expect(pageProblems(page)).toEqual([])
  })

  it('onboards a project whose name is an XSS payload and renders it as text', async () => {
    const name = `${XSS} ${unique()}`
    const id = await onboard(page, server.origin, name)
    await page.getByRole('heading', { name }).waitFor()
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined()
    await page.getByText(`setup-${id}`).first().waitFor()
    await screenshot(page, '03-project')
    await page.goto(`${server.origin}/console/#/projects`)
    await page.getByRole('link', { name }).waitFor()
    await screenshot(page, '02-projects')
  })

  it('edits a project through PATCH and shows the new settings', async () => {
    const project = await server.api<ProjectOut>('POST', '/projects', {
      name: `edit-${unique()}`,
      git_url: '/srv/x',
      engines: [{ engine: 'codex', model: 'gpt-5.1-codex' }, { engine: 'claude' }],
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}`)
    await expect
      .poll(() => page.getByTestId('engine-chain').textContent())
      .toBe('codex (gpt-5.1-codex) → claude')
    await page.goto(`${server.origin}/console/#/projects/${project.id}/edit`)
    await expect.poll(() => page.getByLabel('Name').inputValue()).toBe(project.name)
    await page.getByLabel('Base branch').fill('develop')
    await page.getByLabel('CI provider').selectOption('gitlab')
    await screenshot(page, '04-project-edit')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.waitForURL(new RegExp(`#/projects/${project.id}$`))
    await page.locator('#settings').getByText('develop').waitFor()
    expect(await page.locator('#settings').textContent()).toContain('gitlab')
  })

  it('shows invalid JSON in default models in place instead of dropping it', async () => {
    await page.goto(`${server.origin}/console/#/projects/new`)
    await page.getByLabel('Name').fill('bad-json')
    await page.getByLabel('Git URL or local path').fill('/srv/y')
    await page.getByLabel('Default models (JSON)').fill('{planning: nope')
    await page.getByRole('button', { name: 'Create project' }).click()
    await page.getByText(/Not valid JSON/).waitFor()
  })

  it('creates a protocol as pending and starts it, so planning is really enqueued', async () => {
    const project = await server.api<ProjectOut>('POST', '/projects', {
      name: `p-${unique()}`,
      git_url: '/srv/z',
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/new`)
    await page.getByLabel('Protocol name').fill('0001-add-login')
    await page.getByLabel('Description').fill('Add a login page')
    await screenshot(page, '05-new-protocol')
    await page.getByRole('button', { name: 'Create and start planning' }).click()
    await page.waitForURL(/#\/projects\/\d+\/runs\/\d+$/)
    await page.locator('.page-head [data-status="planning"]').waitFor()
    await page.locator('#run-events').getByText('planning_enqueued').waitFor()
    const runs = await server.api<RunOut[]>('GET', `/projects/${project.id}/protocols`)
    expect(runs.find((r) => r.status === 'planning')).toBeDefined()
  })

  it('updates a run page live as steps change, without a reload, and approves from the page', async () => {
    const project = await server.api<ProjectOut>('POST', '/projects', {
      name: `live-${unique()}`,
      git_url: '/srv/l',
    })
    const run = await server.api<RunOut>('POST', `/projects/${project.id}/protocols`, {
      protocol_name: '0001-live',
      status: 'planned',
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/${run.id}`)
    await page.getByText('No steps yet.').waitFor()
    await page.locator('.live-live').first().waitFor()
    const marker = await page.evaluate(
      () => ((window as unknown as { __marker: number }).__marker = Date.now()),
    )

    const first = await server.api<StepOut>('POST', `/protocols/${run.id}/steps`, {
      step_index: 0,
      step_name: '00-setup.md',
      step_type: 'setup',
    })
    await server.api('POST', `/protocols/${run.id}/steps`, {
      step_index: 1,
      step_name: XSS,
      step_type: 'work',
    })
    await server.api('POST', `/protocols/${run.id}/actions/run_next_step`)
    // Steps are not announced by events, but the run_next_step event is; the table follows it.
    await page.locator(`tr[data-step-id="${first.id}"][data-status="running"]`).waitFor()
    await page.locator('.page-head [data-status="running"]').waitFor()
    await server.api('POST', `/steps/${first.id}/actions/run_qa`)
    await page.locator(`tr[data-step-id="${first.id}"][data-status="needs_qa"]`).waitFor()
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(marker)

    const row = page.locator(`tr[data-step-id="${first.id}"]`)
    await row.getByRole('button', { name: 'Approve' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Approve' }).click()
    await page.locator(`tr[data-step-id="${first.id}"][data-status="completed"]`).waitFor()
    await page.locator('#run-events').getByText('manual_approval').waitFor()
    expect(await page.locator('img').count()).toBe(0)
    await screenshot(page, '06-run')

    await page.setViewportSize({ width: 390, height: 844 })
    await screenshot(page, '10-run-phone')
    await page.setViewportSize({ width: 1280, height: 860 })

    await row.getByRole('link', { name: '00-setup.md' }).click()
    await page.waitForURL(/steps\/\d+$/)
    await page.getByRole('heading', { name: '00-setup.md' }).waitFor()
    await page.locator('#step-events').getByText('manual_approval').waitFor()
    await screenshot(page, '07-step')
  })

  it('answers onboarding clarifications in a form, pre-filled with the recommendations', async () => {
    const project = await server.api<ProjectOut>('POST', '/projects', {
      name: `clar-${unique()}`,
      git_url: '/srv/c',
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}`)
    await page.locator('#onboarding').getByText(`setup-${project.id}`).waitFor()
    const runs = await server.api<(RunOut & { protocol_name: string })[]>(
      'GET',
      `/projects/${project.id}/protocols`,
    )
    const setup = runs.find((r) => r.protocol_name === `setup-${project.id}`)
    // Until the onboarding job lands on main, the event it writes is appended through the app's unit of work.
    await server.running.runtime.deps.uow.run((repos) =>
      repos.events.append({
        projectId: project.id,
        protocolRunId: setup?.id ?? null,
        eventType: 'setup_clarifications',
        message: 'Review onboarding clarifications and confirm settings.',
        metadata: {
          blocking: true,
          questions: [
            {
              key: 'ci_provider',
              question: 'Which CI provider?',
              recommended: 'github',
              options: ['github', 'gitlab'],
            },
            { key: 'pr_policy', question: 'PR policy?', recommended: { mode: 'draft', auto_assign: false } },
          ],
        },
      }),
    )
    const form = page.getByRole('form', { name: 'Onboarding clarifications' })
    await form.waitFor()
    expect(await form.getByLabel('PR policy?').inputValue()).toBe('{"mode":"draft","auto_assign":false}')
    await form.getByLabel('Which CI provider?').selectOption('gitlab')
    await screenshot(page, '14-clarifications')
    await form.getByRole('button', { name: 'Save answers' }).click()
    await page.getByText('Answers recorded.').waitFor()
    const saved = await server.api<{ clarifications: Record<string, unknown> }>(
      'GET',
      `/projects/${project.id}`,
    )
    expect(saved.clarifications).toMatchObject({
      ci_provider: 'gitlab',
      pr_policy: { mode: 'draft', auto_assign: false },
    })
  })

  it('pauses, resumes and cancels from the run page, explaining disabled actions', async () => {
    const project = await server.api<ProjectOut>('POST', '/projects', {
      name: `act-${unique()}`,
      git_url: '/srv/a',
    })
    const run = await server.api<RunOut>('POST', `/projects/${project.id}/protocols`, {
      protocol_name: '0002-actions',
      status: 'pending',
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/${run.id}`)
    const resume = page.getByRole('button', { name: 'Resume' })
    await resume.waitFor()
    expect(await resume.getAttribute('aria-disabled')).toBe('true')
    expect(await resume.getAttribute('title')).toBe('Only a paused run can be resumed')

    await page.getByRole('button', { name: 'Pause' }).click()
    await page.locator('.page-head [data-status="paused"]').waitFor()
    expect(await page.getByRole('button', { name: 'Start planning' }).getAttribute('title')).toMatch(/resume/)
    await resume.click()
    await page.locator('.page-head [data-status="running"]').waitFor()
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Keep it' }).click()
    await page.locator('.page-head [data-status="running"]').waitFor()
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel run' }).click()
    await page.locator('.page-head [data-status="cancelled"]').waitFor()
  })

  it('shows a refused action’s detail in place', async () => {
    const project = await server.api<ProjectOut>('POST', '/projects', {
      name: `ref-${unique()}`,
      git_url: '/srv/r',
    })
    const run = await server.api<RunOut>('POST', `/projects/${project.id}/protocols`, {
      protocol_name: '0003-refused',
      status: 'pending',
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}/runs/${run.id}`)
    await page.getByRole('button', { name: 'Start planning' }).waitFor()
    // Someone else starts it meanwhile; the page still offers Start until the event arrives.
    await page.route('**/events/stream**', (route) => route.abort())
    await page.reload()
    await page.getByRole('button', { name: 'Start planning' }).waitFor()
    await server.api('POST', `/protocols/${run.id}/actions/start`)
    await page.getByRole('button', { name: 'Start planning' }).click()
    await page
      .getByRole('alert')
      .getByText(/Error 409/)
      .waitFor()
    await page.unroute('**/events/stream**')
  })

  it('shows the dashboard, queue and settings pages with data', async () => {
    await page.goto(`${server.origin}/console/#/`)
    await page.locator('#recent-events .event').first().waitFor()
    await page
      .locator('#queue-stats')
      .getByText(/Backend/)
      .waitFor()
    await screenshot(page, '00-dashboard')
    await page.goto(`${server.origin}/console/#/queue`)
    await page.getByRole('table', { name: 'Jobs' }).waitFor()
    await screenshot(page, '08-queue')
    await page.goto(`${server.origin}/console/#/settings`)
    await screenshot(page, '09-settings')
    expect(pageProblems(page)).toEqual([])
  })

  it('works behind a path prefix', async () => {
    const name = `prefixed-${unique()}`
    await server.api('POST', '/projects', { name, git_url: '/srv/p' })
    const proxy = await startPrefixProxy(server.origin, 'tgz')
    try {
      const redirect = await fetch(`${proxy.origin}/tgz/`, { redirect: 'manual' })
      expect(new URL(redirect.headers.get('location') ?? '', `${proxy.origin}/tgz/`).href).toBe(
        `${proxy.origin}/tgz/console/`,
      )
      const prefixed = await browser.newPage()
      await prefixed.goto(`${proxy.origin}/tgz/console/#/projects`)
      // Assets and API calls both go through the prefix; the proxy adds a hop, so allow it time.
      await prefixed.getByRole('link', { name }).waitFor({ timeout: 30_000 })
      expect(pageProblems(prefixed)).toEqual([])
      await prefixed.close()
    } finally {
      await proxy.close()
    }
  })

  it('follows the system dark mode', async () => {
    const dark = await launchBrowser({ colorScheme: 'dark' })
    try {
      const darkPage = await dark.newPage()
      await darkPage.goto(`${server.origin}/console/#/`)
      await darkPage.locator('#recent-events .event').first().waitFor()
      const background = await darkPage.evaluate(() => getComputedStyle(document.body).backgroundColor)
      expect(background).toBe('rgb(15, 20, 27)')
      await screenshot(darkPage, '11-dashboard-dark')
    } finally {
      await dark.close()
    }
  })
})

describe.skipIf(!chromiumAvailable)('console in a real browser (API token and project tokens)', () => {
  const API_TOKEN = `api-${unique()}-secret`
  let server: ConsoleServer
  let page: Page

  consoleSessionPerSuite(
    () => startConsoleServer({ TASKSGODZILLA_API_TOKEN: API_TOKEN }),
    (session) => ({ server, page } = session),
  )

  it('asks for the API token, keeps it in sessionStorage by default and localStorage when remembered', async () => {
    await page.goto(`${server.origin}/console/#/projects`)
    await page.getByRole('alert').getByText('Error 401').waitFor()
    await screenshot(page, '12-unauthorized')
    await page.getByRole('link', { name: 'Open settings' }).click()
    await page.getByLabel('API token').fill(API_TOKEN)
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText(/Connected: \d+ project/).waitFor()
    const stored = await page.evaluate(() => [
      sessionStorage.getItem('tgz_token'),
      localStorage.getItem('tgz_token'),
    ])
    expect(stored).toEqual([API_TOKEN, null])

    await page.getByLabel(/Remember me/).check()
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText(/Connected/).waitFor()
    const remembered = await page.evaluate(() => [
      sessionStorage.getItem('tgz_token'),
      localStorage.getItem('tgz_token'),
    ])
    expect(remembered).toEqual([null, API_TOKEN])
  })

  it('sends a project token to that project’s routes only', async () => {
    const projectToken = `proj-${unique()}-token`
    const other = await server.api<ProjectOut>('POST', '/projects', {
      name: `open-${unique()}`,
      git_url: '/srv/o',
    })
    const requests: { url: string; token: string | undefined }[] = []
    page.on('request', (request) =>
      requests.push({ url: request.url(), token: request.headers()['x-project-token'] }),
    )

    const id = await onboard(page, server.origin, `locked-${unique()}`, { token: projectToken })
    await page.locator('#settings').getByText('required').waitFor()
    await page.reload()
    await page.locator('#runs').getByText(`setup-${id}`).waitFor()

    // Forget it: the project's data is refused in place, with the reason.
    await page.getByRole('button', { name: 'Change or forget it' }).click()
    await page.getByRole('button', { name: 'Forget token' }).click()
    await page
      .getByRole('alert')
      .first()
      .getByText(/Project access denied/)
      .waitFor()
    await screenshot(page, '13-project-token-needed')
    await page.getByRole('textbox', { name: 'Project token' }).fill(projectToken)
    await page.getByRole('button', { name: 'Save token' }).click()
    await page.locator('#runs').getByText(`setup-${id}`).waitFor()

    await page.goto(`${server.origin}/console/#/projects/${other.id}`)
    await page.locator('#runs').getByText(`setup-${other.id}`).waitFor()
    await page.goto(`${server.origin}/console/#/`)
    await page.locator('#recent-events .event').first().waitFor()

    const withToken = requests.filter((r) => r.token !== undefined)
    expect(withToken.length).toBeGreaterThan(0)
    for (const r of withToken) {
      expect(r.token).toBe(projectToken)
      expect(r.url).toMatch(new RegExp(`/projects/${id}(/|$|\\?)|project_id=${id}|/protocols/\\d+`))
    }
    const leaked = requests.filter(
      (r) =>
        r.token !== undefined &&
        (/\/projects$|\/queues|\/metrics/.test(r.url) || r.url.includes(`/projects/${other.id}`)),
    )
    expect(leaked).toEqual([])
  })
})

/*
 * The cases that need real jobs (live run with the fake agent, log follow, QA report, CI details,
 * branches, setup unblock, CodeMachine import inline and enqueued) live in
 * console-engine.e2e.test.ts, on a server with its job runner on.
 */

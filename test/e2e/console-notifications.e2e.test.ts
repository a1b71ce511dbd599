import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { startNotifyReceiver, type NotifyReceiver } from '../support/notify-receiver.js'
import {
  SKIP_REASON,
  chromiumAvailable,
  consoleSessionPerSuite,
  pageProblems,
  startEngineConsoleServer,
  type EngineConsoleServer,
} from './support/console-harness.js'

if (!chromiumAvailable) console.warn(SKIP_REASON)

const SECRET = 'console-receiver-secret-31'

describe.skipIf(!chromiumAvailable)('console notifications page in a real browser', () => {
  let server: EngineConsoleServer
  let receiver: NotifyReceiver
  let page: Page

  consoleSessionPerSuite(
    () => startEngineConsoleServer({ TASKSGODZILLA_ALLOW_PRIVATE_NOTIFY_HOSTS: 'true' }),
    (session) => ({ server, page } = session),
  )

  beforeAll(async () => {
    receiver = await startNotifyReceiver(SECRET)
  }, 120_000)

  afterAll(async () => {
    await receiver?.close()
  })

  it('adds a signed receiver, test-sends to it and shows the delivery, never the secret', async () => {
    const project = await server.api<{ id: number }>('POST', '/projects', {
      name: `notify-${Date.now().toString(36)}`,
      git_url: '/srv/repos/demo',
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}`)
    await page.getByRole('link', { name: 'Notifications' }).click()
    await page.getByRole('heading', { name: 'Notifications' }).waitFor()
    await page.getByLabel('URL').fill(receiver.url)
    await page.getByLabel('Signing secret (write-only)').fill(SECRET)
    await page.getByLabel('Format').selectOption('slack')
    await page.getByRole('button', { name: 'Add receiver' }).click()
    await page.getByText('signed').first().waitFor()
    await page.getByRole('button', { name: 'Test-send', exact: true }).click()
    await expect
      .poll(() => receiver.received.filter((r) => r.body.type === 'test').length, { timeout: 15_000 })
      .toBe(1)
    const sent = receiver.received.find((r) => r.body.type === 'test')!
    expect(sent.signatureValid).toBe(true)
    expect(sent.body.text).toEqual(expect.stringContaining('test'))
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click()
          return page.getByRole('table', { name: 'Deliveries' }).innerText()
        },
        { timeout: 15_000 },
      )
      .toContain('delivered')
    expect(await page.content()).not.toContain(SECRET)
    expect(pageProblems(page)).toEqual([])
  }, 60_000)

  it('shows the refusal of a receiver URL with credentials and adds nothing', async () => {
    const project = await server.api<{ id: number }>('POST', '/projects', {
      name: `notify-bad-${Date.now().toString(36)}`,
      git_url: '/srv/repos/demo',
    })
    await page.goto(`${server.origin}/console/#/projects/${project.id}/notifications`)
    await page.getByLabel('URL').fill('http://user:pw@127.0.0.1:9/hook')
    await page.getByRole('button', { name: 'Add receiver' }).click()
    await page.getByText(/must not carry credentials/).waitFor()
    await page.getByText('No receiver yet for this project.').waitFor()
  }, 60_000)
})

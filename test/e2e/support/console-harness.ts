import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer, request as httpRequest, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { loadConfig } from '../../../src/config.js'
import { createLogger } from '../../../src/logging.js'
import { startServer, type RunningServer } from '../../../src/composition/index.js'
import { afterAll, beforeAll } from 'vitest'

/** Debian's Chromium; CI installs it (`.ci/run`), a developer machine may not have it. */
export const CHROMIUM = '/usr/bin/chromium'
export const chromiumAvailable = existsSync(CHROMIUM)
export const SKIP_REASON = `console e2e skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`

const REPO = resolve(import.meta.dirname, '../../..')
export const SCREENSHOTS = join(REPO, 'test-results', 'console')

/** Builds the console once if `npm run build` has not, so the e2e suite runs from a fresh clone. */
export const ensureConsoleBuilt = async (): Promise<void> => {
  if (existsSync(join(REPO, 'dist/console/index.html'))) return
  const { build } = await import('vite')
  await build({ configFile: join(REPO, 'console/vite.config.ts'), logLevel: 'warn' })
}

export interface ConsoleServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly running: RunningServer
  /** Calls the API directly (not through the browser), for arranging state. */
  api<T>(method: string, path: string, body?: unknown, projectToken?: string): Promise<T>
  stop(): Promise<void>
}

const silent = new Writable({ write: (_chunk, _encoding, done) => done() })

/** A real server on a fresh SQLite file, listening on an ephemeral port, with no job runner. */
export const startConsoleServer = async (env: Record<string, string> = {}): Promise<ConsoleServer> => {
  const dir = mkdtempSync(join(tmpdir(), 'tgz-console-e2e-'))
  // These tests move runs and steps through the API to watch the page follow; no worker may race them.
  return listen(dir, env, false)
}

export const SCRIPTED_AGENT = join(REPO, 'test/fixtures/agents/scripted-agent.mjs')

export interface EngineConsoleServer extends ConsoleServer {
  /** Where the scripted agent reads its per-protocol control files (see scripted-agent.mjs). */
  readonly control: string
  /** The scratch folder for repositories the test creates (removed on stop). */
  readonly dir: string
}

/**
 * A real server with its job runner on (embedded queue): the scripted fake agent as the default
 * `command` engine, QA only when asked, projects cloned under a temporary root.
 */
export const startEngineConsoleServer = async (
  env: Record<string, string> = {},
): Promise<EngineConsoleServer> => {
  const dir = mkdtempSync(join(tmpdir(), 'tgz-console-engine-'))
  const control = join(dir, 'control')
  mkdirSync(control)
  const server = await listen(
    dir,
    {
      TASKSGODZILLA_PROJECTS_ROOT: join(dir, 'projects'),
      TASKSGODZILLA_LOGS_DIR: join(dir, 'logs'),
      TASKSGODZILLA_COMMAND_ENGINE: SCRIPTED_AGENT,
      TASKSGODZILLA_COMMAND_ENGINE_ARGS: `--control=${control}`,
      TASKSGODZILLA_DEFAULT_ENGINE: 'command',
      TASKSGODZILLA_AUTO_QA_AFTER_EXEC: 'false',
      ...env,
    },
    true,
  )
  return { ...server, control, dir }
}

const listen = async (dir: string, env: Record<string, string>, runJobs: boolean): Promise<ConsoleServer> => {
  const config = loadConfig(
    { TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'), TASKSGODZILLA_LOG_JSON: '1', ...env },
    dir,
  )
  const running = await startServer(config, createLogger(config, silent), {
    host: '127.0.0.1',
    port: 0,
    runJobs,
  })
  const origin = running.address.replace('localhost', '127.0.0.1')
  const token = env.TASKSGODZILLA_API_TOKEN
  return {
    origin,
    running,
    async api<T>(method: string, path: string, body?: unknown, projectToken?: string): Promise<T> {
      const headers: Record<string, string> = {}
      if (token) headers.Authorization = `Bearer ${token}`
      if (projectToken) headers['X-Project-Token'] = projectToken
      if (body !== undefined) headers['Content-Type'] = 'application/json'
      const response = await fetch(origin + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`)
      return (text ? JSON.parse(text) : undefined) as T
    },
    async stop() {
      await running.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A reverse proxy that serves the whole server under `/<prefix>/`, as a front proxy would,
 * to prove the console works behind a path prefix.
 */
export const startPrefixProxy = async (
  target: string,
  prefix: string,
): Promise<{ origin: string; close(): Promise<void> }> => {
  const upstream = new URL(target)
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (!url.startsWith(`/${prefix}/`)) return void res.writeHead(404).end()
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: url.slice(prefix.length + 1),
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    forward.on('error', () => res.writeHead(502).end())
    req.pipe(forward)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

export interface Browser {
  readonly context: BrowserContext
  newPage(): Promise<Page>
  close(): Promise<void>
}

/** Chromium with a fresh profile, headless, no network besides what the page asks for. */
export const launchBrowser = async (options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Browser> => {
  const profile = mkdtempSync(join(tmpdir(), 'tgz-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
    colorScheme: options.colorScheme ?? 'light',
  })
  return {
    context,
    newPage: async () => {
      const page = await context.newPage()
      // Fail on the waiting line, well before the test's own timeout.
      page.setDefaultTimeout(10_000)
      const problems: string[] = []
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
          problems.push(`csp: ${message.text()}`)
      })
      ;(page as Page & { problems: string[] }).problems = problems
      return page
    },
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Errors thrown in the page and CSP violations seen so far. */
export const pageProblems = (page: Page): string[] => (page as Page & { problems?: string[] }).problems ?? []

/** A full-page screenshot under `test-results/console/<name>.png`. */
export const screenshot = async (page: Page, name: string): Promise<void> => {
  await mkdir(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** What a console suite drives: its server and one page of a browser of its own. */
export interface ConsoleSession<S extends ConsoleServer> {
  readonly server: S
  readonly browser: Browser
  readonly page: Page
}

/**
 * For the calling suite, before its tests: the console is built, `start` starts its server and a
 * browser opens one page, then `opened` gets them (to keep in the suite's own variables); after
 * its tests both are closed.
 */
export const consoleSessionPerSuite = <S extends ConsoleServer>(
  start: () => Promise<S>,
  opened: (session: ConsoleSession<S>) => void,
): void => {
  let server: S | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    await ensureConsoleBuilt()
    server = await start()
    browser = await launchBrowser()
    opened({ server, browser, page: await browser.newPage() })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })
}

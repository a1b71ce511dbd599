import { execFile } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import type {
  CodeHost,
  CodeHostProvider,
  HostRepository,
  PipelineSpec,
  PullRequestRef,
} from '../../app/code-host.port.js'
import { HOST_CLIS_BY_PROVIDER as HOST_CLIS } from '../../app/code-host-target.js'

const CLI_TIMEOUT_MS = 120_000
const ERROR_EXCERPT_CHARS = 400

export interface CliHostOptions {
  readonly provider: CodeHostProvider
  /** Absolute path of `gh` / `glab`. */
  readonly executable: string
  /** The CLI's environment; TasksGodzilla's own variables are removed from it. */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** The first executable file called `name` on a PATH-style search path, if any. */
export const findExecutable = (name: string, searchPath: string | undefined): string | undefined => {
  for (const dir of (searchPath ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not here; keep looking
    }
  }
  return undefined
}

/**
 * A code host driven through `gh` or `glab` (argv arrays, never a shell): the fallback when no API
 * token is configured. Each call names the repository explicitly, so no checkout is needed.
 */
export const createCliHost = (options: CliHostOptions): CodeHost => {
  const run = (args: string[], signal: AbortSignal) => runCli(options, args, signal)
  return options.provider === 'github' ? githubCli(run) : gitlabCli(run)
}

type Run = (args: string[], signal: AbortSignal) => Promise<string>

const githubCli = (run: Run): CodeHost => ({
  provider: 'github',
  via: 'cli',
  async findOpen(spec, signal) {
    const args = ['pr', 'list', '--repo', ghRepo(spec), '--head', spec.head, '--state', 'open']
    const out = await run([...args, '--json', 'number,url', '--limit', '1'], signal)
    const first = (parseJson(out) as Array<{ number: number; url: string }>)[0]
    return first ? { number: first.number, url: first.url } : null
  },
  async createDraft(spec, signal) {
    const out = await run(
      ['pr', 'create', '--repo', ghRepo(spec), '--head', spec.head, '--base', spec.base, '--draft'].concat([
        '--title',
        spec.title,
        '--body',
        spec.body,
      ]),
      signal,
    )
    return pullRequestFromOutput(out, /\/pull\/(\d+)/)
  },
  async triggerPipeline(spec, signal) {
    await run(['workflow', 'run', spec.workflow, '--repo', ghRepo(spec), '--ref', spec.ref], signal)
    return { id: null, url: null }
  },
})

const gitlabCli = (run: Run): CodeHost => ({
  provider: 'gitlab',
  via: 'cli',
  async findOpen(spec, signal) {
    // `glab api` answers the REST JSON on every glab version; `mr list`'s JSON flag changed name.
    const path = encodeURIComponent(spec.repository.join('/'))
    const query = `source_branch=${encodeURIComponent(spec.head)}&state=opened`
    const args = ['api', `projects/${path}/merge_requests?${query}`]
    const out = await run(spec.hostName ? [...args, '--hostname', spec.hostName] : args, signal)
    const first = (parseJson(out) as Array<{ iid: number; web_url: string }>)[0]
    return first ? { number: first.iid, url: first.web_url } : null
  },
  async createDraft(spec, signal) {
    const out = await run(
      [
        'mr',
        'create',
        '--repo',
        glabRepo(spec),
        '--source-branch',
        spec.head,
        '--target-branch',
        spec.base,
      ].concat(['--title', spec.title, '--description', spec.body, '--draft', '--yes']),
      signal,
    )
    return pullRequestFromOutput(out, /\/merge_requests\/(\d+)/)
  },
  async triggerPipeline(spec: PipelineSpec, signal) {
    const out = await run(['ci', 'run', '--repo', glabRepo(spec), '--branch', spec.ref], signal)
    const id = /\bid:\s*(\d+)/.exec(out)?.[1]
    const url = /https?:\/\/\S+\/-\/pipelines\/\d+/.exec(out)?.[0]
    return { id: id ? Number(id) : null, url: url ?? null }
  },
})

/** `gh` takes `[HOST/]OWNER/REPO`. */
const ghRepo = (spec: HostRepository): string =>
  [spec.hostName && spec.hostName !== 'github.com' ? spec.hostName : undefined, ...spec.repository]
    .filter(Boolean)
    .join('/')

/** `glab` takes a full URL, which also names a self-hosted instance. */
const glabRepo = (spec: HostRepository): string =>
  spec.hostName ? `https://${spec.hostName}/${spec.repository.join('/')}` : spec.repository.join('/')

const pullRequestFromOutput = (out: string, numberPattern: RegExp): PullRequestRef => {
  const url = out
    .split('\n')
    .map((line) => line.trim())
    .reverse()
    .find((line) => /^https?:\/\//.test(line))
  const number = url ? numberPattern.exec(url)?.[1] : undefined
  if (!url || !number)
    throw new Error(`Unexpected CLI output, no PR/MR URL in: ${out.slice(0, ERROR_EXCERPT_CHARS)}`)
  return { number: Number(number), url }
}

const parseJson = (out: string): unknown => {
  try {
    return JSON.parse(out)
  } catch {
    throw new Error(`Unexpected CLI output, not JSON: ${out.slice(0, ERROR_EXCERPT_CHARS)}`)
  }
}

const runCli = (options: CliHostOptions, args: string[], signal: AbortSignal): Promise<string> =>
  new Promise((resolve, reject) => {
    const name = HOST_CLIS[options.provider]
    execFile(
      options.executable,
      args,
      { env: cliEnv(options.env), signal, timeout: CLI_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout)
        const said = (stderr || stdout).trim().slice(0, ERROR_EXCERPT_CHARS)
        reject(new Error(`${name} ${args.slice(0, 2).join(' ')} failed${said ? `: ${said}` : ''}`))
      },
    )
  })

/** The CLIs never see TasksGodzilla's secrets; prompts are off so a missing login fails instead of waiting. */
const cliEnv = (env: CliHostOptions['env']): Record<string, string> => {
  const kept = Object.entries(env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('TASKSGODZILLA_'),
  )
  return { ...Object.fromEntries(kept), GH_PROMPT_DISABLED: '1', NO_PROMPT: '1' }
}

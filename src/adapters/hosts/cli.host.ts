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
import { LOCALE_AND_XDG_PREFIXES, NETWORK_AND_LOCALE, pickEnv, type Env } from '../child-env.js'

const CLI_TIMEOUT_MS = 120_000
const ERROR_EXCERPT_CHARS = 400

export interface CliHostOptions {
  readonly provider: CodeHostProvider
  /** Absolute path of `gh` / `glab`. */
  readonly executable: string
  /** The environment to pick the CLI's variables from (never passed whole). */
  readonly env: Env
  /**
   * The host the provider's token variables belong to (default github.com / gitlab.com): they
   * reach the CLI only when a project's git URL names that host.
   */
  readonly tokenHost?: string
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
  const run: Run = (args, target, signal) => runCli(options, args, target, signal)
  return options.provider === 'github' ? githubCli(run) : gitlabCli(run)
}

type Run = (args: string[], target: HostRepository, signal: AbortSignal) => Promise<string>

const githubCli = (run: Run): CodeHost => ({
  provider: 'github',
  via: 'cli',
  async findOpen(spec, signal) {
    const args = ['pr', 'list', '--repo', ghRepo(spec), '--head', spec.head, '--state', 'open']
    const out = await run([...args, '--json', 'number,url', '--limit', '1'], spec, signal)
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
      spec,
      signal,
    )
    return pullRequestFromOutput(out, /\/pull\/(\d+)/)
  },
  async triggerPipeline(spec, signal) {
    await run(['workflow', 'run', spec.workflow, '--repo', ghRepo(spec), '--ref', spec.ref], spec, signal)
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
    const out = await run(spec.hostName ? [...args, '--hostname', spec.hostName] : args, spec, signal)
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
      spec,
      signal,
    )
    return pullRequestFromOutput(out, /\/merge_requests\/(\d+)/)
  },
  async triggerPipeline(spec: PipelineSpec, signal) {
    const out = await run(['ci', 'run', '--repo', glabRepo(spec), '--branch', spec.ref], spec, signal)
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

const runCli = (
  options: CliHostOptions,
  args: string[],
  target: HostRepository,
  signal: AbortSignal,
): Promise<string> =>
  new Promise((resolve, reject) => {
    const name = HOST_CLIS[options.provider]
    execFile(
      options.executable,
      args,
      { env: cliEnv(options, target), signal, timeout: CLI_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout)
        const said = (stderr || stdout).trim().slice(0, ERROR_EXCERPT_CHARS)
        reject(new Error(`${name} ${args.slice(0, 2).join(' ')} failed${said ? `: ${said}` : ''}`))
      },
    )
  })

const PUBLIC_HOSTS: Record<CodeHostProvider, string> = { github: 'github.com', gitlab: 'gitlab.com' }

const CONFIG_DIRS: Record<CodeHostProvider, string> = { github: 'GH_CONFIG_DIR', gitlab: 'GLAB_CONFIG_DIR' }

/** The token variables the CLI reads for `host`: gh takes the enterprise ones off github.com. */
const tokenVariables = (provider: CodeHostProvider, host: string): readonly string[] => {
  if (provider === 'gitlab') return ['GITLAB_TOKEN']
  return host === PUBLIC_HOSTS.github
    ? ['GH_TOKEN', 'GITHUB_TOKEN']
    : ['GH_ENTERPRISE_TOKEN', 'GITHUB_ENTERPRISE_TOKEN']
}

/**
 * Only what the CLI needs: PATH, HOME, XDG folders, its config folder, proxies and locale, and its
 * token when the repository is on the host that token belongs to (a token for one host is never
 * sent to another). Database URLs, model API keys and our own variables never reach it. Prompts
 * are off so a missing login fails instead of waiting.
 */
const cliEnv = (options: CliHostOptions, target: HostRepository): Record<string, string> => {
  const { provider, env } = options
  const names = new Set<string>([...NETWORK_AND_LOCALE, CONFIG_DIRS[provider]])
  const picked = pickEnv(env, names, LOCALE_AND_XDG_PREFIXES)
  const tokenHost = (options.tokenHost ?? PUBLIC_HOSTS[provider]).toLowerCase()
  const targetHost = (target.hostName ?? PUBLIC_HOSTS[provider]).toLowerCase()
  if (targetHost === tokenHost)
    for (const name of tokenVariables(provider, tokenHost)) {
      const value = env[name]
      if (value !== undefined) picked[name] = value
    }
  return { ...picked, GH_PROMPT_DISABLED: '1', NO_PROMPT: '1' }
}

import { AppError } from '../../domain/app-error.js'
import { redactUrlsInText } from '../../domain/git-url.js'
import { LAUNCHER_LOST, launch, type LaunchResult } from './process-launcher.js'

/** Default wall-clock limit for one git command; clones and fetches get longer. */
export const GIT_TIMEOUT_MS = 120_000
export const GIT_NETWORK_TIMEOUT_MS = 600_000
/** Default limit for one clone (`TASKSGODZILLA_GIT_CLONE_TIMEOUT_SECONDS`). */
export const GIT_CLONE_TIMEOUT_MS = 120_000
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024

/** Parent variables git may see: where to find things, identity, SSH agent, proxies, locale. */
const PASSED_ENV =
  /^(PATH|HOME|USER|LOGNAME|TMPDIR|TZ|SSH_AUTH_SOCK|GIT_SSH|GIT_SSH_COMMAND|GIT_AUTHOR_\w+|GIT_COMMITTER_\w+|GIT_CONFIG_GLOBAL|GIT_CONFIG_NOSYSTEM|XDG_CONFIG_HOME|SSL_CERT_FILE|SSL_CERT_DIR|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/

export interface GitRunOptions {
  readonly cwd?: string
  readonly signal: AbortSignal
  readonly timeoutMs?: number
  /** Protocols git may use for remotes: always https and ssh, plus file when local repos are allowed. */
  readonly allowFileProtocol: boolean
}

export interface GitOutput {
  readonly stdout: string
  readonly stderr: string
}

/**
 * Settings that keep a repository's own configuration from running programs as the server user:
 * hooks (post-checkout, post-commit…), an fsmonitor command, and an sshCommand. Command-line `-c`
 * outranks every config file; GIT_SSH_COMMAND/GIT_SSH from the operator's environment still win
 * over `core.sshCommand`, so an operator's SSH setup keeps working. Transport helpers (`ext::`,
 * `fd::`) are refused as a second line behind URL validation.
 */
export const HARDENING_ARGS: readonly string[] = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.sshCommand=ssh',
  '-c',
  'protocol.ext.allow=never',
  '-c',
  'protocol.fd.allow=never',
]

/**
 * Runs `git <args>` without a shell, hardened by HARDENING_ARGS; prompts for credentials are
 * disabled so a job never hangs. Failures become ORC_GIT_FAILED with credentials masked.
 */
export const runGit = async (args: readonly string[], options: GitRunOptions): Promise<GitOutput> => {
  const { error, stdout, stderr } = await launch('git', [...HARDENING_ARGS, ...args], {
    cwd: options.cwd,
    env: gitEnv(options.allowFileProtocol),
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? GIT_TIMEOUT_MS,
    maxBuffer: MAX_OUTPUT_BYTES,
  })
  if (error) throw gitError(args, error, stderr, options.signal)
  return { stdout, stderr }
}

/** Like runGit, but a non-zero exit is an answer (`false`), not an error. */
export const gitSucceeds = async (args: readonly string[], options: GitRunOptions): Promise<boolean> => {
  try {
    await runGit(args, options)
    return true
  } catch (error) {
    if (options.signal.aborted) throw error
    if (error instanceof AppError && error.details?.exitCode !== undefined) return false
    throw error
  }
}

/** Like runGit's stdout, but a non-zero exit is an answer (`undefined`), not an error. */
export const gitOutputIfSucceeds = async (
  args: readonly string[],
  options: GitRunOptions,
): Promise<string | undefined> => {
  try {
    return (await runGit(args, options)).stdout
  } catch (error) {
    if (options.signal.aborted) throw error
    if (error instanceof AppError && error.details?.exitCode !== undefined) return undefined
    throw error
  }
}

const gitEnv = (allowFile: boolean): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (PASSED_ENV.test(key)) env[key] = value
  env.GIT_TERMINAL_PROMPT = '0'
  env.GIT_ALLOW_PROTOCOL = allowFile ? 'https:ssh:file' : 'https:ssh'
  env.LC_ALL = 'C'
  return env
}

const gitError = (
  args: readonly string[],
  error: NonNullable<LaunchResult['error']>,
  stderr: string,
  signal: AbortSignal,
): AppError => {
  const command = redactUrlsInText(`git ${args.slice(0, 3).join(' ')}`)
  if (signal.aborted) return new AppError('ORC_GIT_FAILED', `${command} was cancelled`)
  const { code, killed } = error
  if (code === 'ENOENT') return new AppError('ORC_GIT_FAILED', 'The git executable was not found on PATH')
  if (code === LAUNCHER_LOST)
    return new AppError('ORC_GIT_FAILED', `${command} did not finish: ${error.message}`)
  if (killed === true) return new AppError('ORC_GIT_FAILED', `${command} timed out`)
  const detail = redactUrlsInText(stderr.trim().split('\n').slice(-3).join(' | ')).slice(0, 500)
  // Only an exit code is git's answer; a signal, an output cap or a refused start is a failure.
  if (typeof code !== 'number')
    return new AppError(
      'ORC_GIT_FAILED',
      `${command} failed (${String(code ?? error.signal ?? 'no exit code')}): ${detail}`,
    )
  return new AppError('ORC_GIT_FAILED', `${command} failed (exit ${code}): ${detail}`, { exitCode: code })
}

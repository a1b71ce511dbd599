import type { CodeHosts } from '../app/code-host.port.js'
import type { Assets } from '../app/assets.port.js'
import type { ContainedFiles } from '../app/contained-files.js'
import { createContainedFiles } from '../adapters/files/contained-files.adapter.js'
import { createPackageAssets } from '../adapters/files/package-assets.adapter.js'
import type { EngineRegistry } from '../app/engine.port.js'
import type { GitClient } from '../app/git.port.js'
import { createBuiltInRegistry } from '../adapters/engines/engine.registry.js'
import type { BaseSync } from '../app/protocol-merge/base-sync.port.js'
import { createBaseSync } from '../adapters/git/base-sync.js'
import { createGitClient } from '../adapters/git/git.client.js'
import { createCodeHosts } from '../adapters/hosts/code-hosts.js'
import type { Config } from '../config.js'
import { packageRoot } from './package-root.js'

/** The adapters behind the app's outward ports, built once per process and shared by API and jobs. */
export interface OutwardAdapters {
  readonly git: GitClient
  /** GitHub/GitLab through their APIs when a token is set, else `gh`/`glab` found on this process's PATH. */
  readonly codeHosts: CodeHosts
  /** codex, claude, opencode, plus `command` when TASKSGODZILLA_COMMAND_ENGINE is set. */
  readonly engines: EngineRegistry
  /** Repository- and agent-controlled files, read and written only inside their workspace. */
  readonly files: ContainedFiles
  /** Our own packaged files (prompts, schemas, starter assets) under the one package root. */
  readonly assets: Assets
  /** Rebases a run's branch on its moved base, pushing with a lease. */
  readonly baseSync: BaseSync
}

export const buildOutwardAdapters = (config: Config): OutwardAdapters => {
  const command = config.engines.command
  return {
    git: createGitClient({ ...gitPolicy(config), ...commitIdentity(config) }),
    codeHosts: createCodeHosts({ ...config.hosts, cli: { searchPath: process.env.PATH, env: process.env } }),
    engines: createBuiltInRegistry({
      commands: [
        ...(command ? [{ id: 'command', command, args: config.engines.commandArgs }] : []),
        ...config.engines.commandEngines,
      ],
      ...(config.engines.defaultId ? { defaultId: config.engines.defaultId } : {}),
    }),
    files: createContainedFiles({ maxBytes: config.files.containedMaxBytes }),
    assets: createPackageAssets(packageRoot()),
    baseSync: createBaseSync(gitPolicy(config)),
  }
}

/** Where clones go, what they may reach, how long they may take, and what commits leave out. */
export const gitPolicy = ({ repos, files }: Config) => ({
  projectsRoot: repos.projectsRoot,
  allowLocalRepos: repos.allowLocalRepos,
  allowPrivateHosts: repos.allowPrivateGitHosts,
  cloneTimeoutMs: repos.cloneTimeoutSeconds * 1000,
  commitMaxFileBytes: files.commitMaxFileBytes,
})

const commitIdentity = ({ repos }: Config) => ({
  authorInEnvironment: repos.gitAuthorInEnvironment,
  ...(repos.gitUser && repos.gitEmail ? { identity: { name: repos.gitUser, email: repos.gitEmail } } : {}),
})

import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { configError } from '../../domain/codemachine/config-error.js'
import {
  buildCodeMachineSpec,
  checkPromptPaths,
  codeMachinePayload,
  unattachedModules,
  type CodeMachineWorkspace,
} from '../../domain/codemachine/import-spec.js'
import { readModules } from '../../domain/codemachine/module-policies.js'
import {
  readAgents,
  readPlaceholders,
  readTemplate,
  type ConfigSource,
} from '../../domain/codemachine/workspace-config.js'
import type { JsonObject } from '../../domain/json.js'
import { expandPlaceholders, resolveSpecPath, type SpecRoots } from '../../domain/spec-paths.js'
import type { ProtocolSpec } from '../../domain/spec.js'
import { assertInsideWorkspace, isPathOutsideWorkspace } from '../contained-files.js'
import { FS_PROBE, isDirectory } from '../jobs/protocol-files.js'
import { validateProtocolSpec } from '../spec-validation.js'
import { parseConfigModule, parseJsonFile } from './js-literal.js'

/** A workspace read and mapped, with the spec built from it and that spec's validation errors. */
export interface LoadedCodeMachine {
  readonly workspacePath: string
  /** `<workspace>/.codemachine`, or the workspace itself when it has no such folder. */
  readonly root: string
  readonly spec: ProtocolSpec
  /** `template_config` without `protocol_spec` / `spec_meta`. */
  readonly payload: JsonObject
  readonly template: JsonObject
  /** Spec validation problems (prompt files missing, schema): the run is blocked, not refused. */
  readonly errors: readonly string[]
  readonly unattachedModules: readonly string[]
}

const CONFIG_FILES = {
  main: 'config/main.agents.js',
  sub: 'config/sub.agents.js',
  modules: 'config/modules.js',
  placeholders: 'config/placeholders.js',
} as const

/**
 * Reads a CodeMachine workspace without running any of it. A missing or non-folder workspace is
 * ORC_WORKSPACE_NOT_FOUND; an unreadable config (syntax, code instead of data, wrong types, a
 * prompt path leaving the workspace, no `main.agents.js`) is a ConfigError with file:line:col.
 * Placeholders are expanded before paths are validated (the original validated them raw).
 */
export const loadCodeMachineWorkspace = (workspacePath: string): LoadedCodeMachine => {
  if (!isDirectory(workspacePath))
    throw new AppError(
      'ORC_WORKSPACE_NOT_FOUND',
      `Workspace ${workspacePath} does not exist or is not a folder`,
      {
        workspace_path: workspacePath,
      },
    )
  const dotRoot = join(workspacePath, '.codemachine')
  const root = isDirectory(dotRoot) ? dotRoot : workspacePath
  const source = (path: string): ConfigSource => readSource(workspacePath, join(root, path), 'module')
  const mainSource = source(CONFIG_FILES.main)
  if (mainSource.value === undefined)
    throw configError(display(workspacePath, join(root, CONFIG_FILES.main)), undefined, 'file is missing')
  const workspace: CodeMachineWorkspace = {
    main: readAgents(mainSource, 'main'),
    sub: readAgents(source(CONFIG_FILES.sub), 'sub'),
    modules: readModules(source(CONFIG_FILES.modules)),
    placeholders: readPlaceholders(source(CONFIG_FILES.placeholders)),
    template: readTemplate(readSource(workspacePath, join(root, 'template.json'), 'json')),
  }
  const roots: SpecRoots = { protocolRoot: root, workspace: workspacePath }
  const fileOf = (kind: 'main' | 'sub') => display(workspacePath, join(root, CONFIG_FILES[kind]))
  checkPromptPaths(workspace, roots, fileOf)
  checkNoSymlinkEscape(workspace, roots, fileOf('main'))
  const spec = buildCodeMachineSpec(workspace)
  return {
    workspacePath,
    root,
    spec,
    payload: codeMachinePayload(workspace),
    template: workspace.template,
    errors: validateProtocolSpec(spec, { roots, probe: FS_PROBE }),
    unattachedModules: unattachedModules(workspace),
  }
}

const readSource = (workspacePath: string, path: string, kind: 'module' | 'json'): ConfigSource => {
  const file = display(workspacePath, path)
  insideOrConfigError(workspacePath, path, file, 'links outside the workspace')
  if (!existsSync(path)) return { file, value: undefined, locate: () => undefined }
  const text = readFileSync(path, 'utf8')
  const parsed = kind === 'module' ? parseConfigModule(file, text) : parseJsonFile(file, text)
  return { file, ...parsed }
}

/** A prompt inside the workspace by name may still be a symlink to elsewhere: refuse that too. */
const checkNoSymlinkEscape = (workspace: CodeMachineWorkspace, roots: SpecRoots, file: string): void => {
  for (const { agent, at } of workspace.main) {
    const resolved = resolveSpecPath(
      expandPlaceholders(agent.prompt_path, workspace.placeholders),
      roots,
      FS_PROBE,
    )
    if ('error' in resolved) continue
    const problem = `prompt path of agent ${agent.id} links outside the workspace`
    insideOrConfigError(roots.workspace, resolved.path, file, problem, at)
  }
}

const insideOrConfigError = (
  workspacePath: string,
  path: string,
  file: string,
  problem: string,
  at?: Parameters<typeof configError>[1],
): void => {
  try {
    assertInsideWorkspace(workspacePath, path)
  } catch (error) {
    if (isPathOutsideWorkspace(error)) throw configError(file, at, problem)
    throw error
  }
}

const display = (workspacePath: string, path: string): string => relative(workspacePath, path) || path

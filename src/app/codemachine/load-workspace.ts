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
import { isPathOutsideWorkspace, PATH_OUTSIDE_WORKSPACE, type ContainedFiles } from '../contained-files.js'
import { validateProtocolSpec } from '../spec-validation.js'
import type { Assets } from '../assets.port.js'
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
export const loadCodeMachineWorkspace = (
  { files, assets }: { readonly files: ContainedFiles; readonly assets: Assets },
  workspacePath: string,
): LoadedCodeMachine => {
  if (!files.isDirectory(workspacePath))
    throw new AppError(
      'ORC_WORKSPACE_NOT_FOUND',
      `Workspace ${workspacePath} does not exist or is not a folder`,
      {
        workspace_path: workspacePath,
      },
    )
  const dotRoot = join(workspacePath, '.codemachine')
  const root = files.isDirectory(dotRoot) ? dotRoot : workspacePath
  const source = (path: string): ConfigSource => readSource(files, workspacePath, join(root, path), 'module')
  const mainSource = source(CONFIG_FILES.main)
  if (mainSource.value === undefined)
    throw configError(display(workspacePath, join(root, CONFIG_FILES.main)), undefined, 'file is missing')
  const workspace: CodeMachineWorkspace = {
    main: readAgents(mainSource, 'main'),
    sub: readAgents(source(CONFIG_FILES.sub), 'sub'),
    modules: readModules(source(CONFIG_FILES.modules)),
    placeholders: readPlaceholders(source(CONFIG_FILES.placeholders)),
    template: readTemplate(readSource(files, workspacePath, join(root, 'template.json'), 'json')),
  }
  const roots: SpecRoots = { protocolRoot: root, workspace: workspacePath }
  const fileOf = (kind: 'main' | 'sub') => display(workspacePath, join(root, CONFIG_FILES[kind]))
  checkPromptPaths(workspace, roots, fileOf)
  checkNoSymlinkEscape(files, workspace, roots, fileOf('main'))
  const spec = buildCodeMachineSpec(workspace)
  return {
    workspacePath,
    root,
    spec,
    payload: codeMachinePayload(workspace),
    template: workspace.template,
    errors: validateProtocolSpec(assets, spec, { roots, probe: files }),
    unattachedModules: unattachedModules(workspace),
  }
}

/**
 * One config file through the contained reader: a link outside, a FIFO or device, or a file over
 * the size cap is a config error naming the file, and nothing waits on a FIFO.
 */
const readSource = (
  files: ContainedFiles,
  workspacePath: string,
  path: string,
  kind: 'module' | 'json',
): ConfigSource => {
  const file = display(workspacePath, path)
  const text = refusedAsConfigError(file, undefined, () => files.readText(workspacePath, path, NO_FILE))
  if (text === NO_FILE) return { file, value: undefined, locate: () => undefined }
  const parsed = kind === 'module' ? parseConfigModule(file, text) : parseJsonFile(file, text)
  return { file, ...parsed }
}

/** A prompt inside the workspace by name may still be a symlink to elsewhere: refuse that too. */
const checkNoSymlinkEscape = (
  files: ContainedFiles,
  workspace: CodeMachineWorkspace,
  roots: SpecRoots,
  file: string,
): void => {
  for (const { agent, at } of workspace.main) {
    const resolved = resolveSpecPath(
      expandPlaceholders(agent.prompt_path, workspace.placeholders),
      roots,
      files,
    )
    if ('error' in resolved) continue
    const problem = `prompt path of agent ${agent.id} links outside the workspace`
    refusedAsConfigError(file, at, () => files.assertInside(roots.workspace, resolved.path), problem)
  }
}

/** Marks a config file that is absent, as opposed to one that is empty. */
const NO_FILE = '\0absent'

/** Runs `work`; a contained-files refusal becomes a config error on `file` (`problem`, or its reason). */
const refusedAsConfigError = <T>(
  file: string,
  at: Parameters<typeof configError>[1],
  work: () => T,
  problem?: string,
): T => {
  try {
    return work()
  } catch (error) {
    if (!isPathOutsideWorkspace(error)) throw error
    const outside = error.details?.cause === PATH_OUTSIDE_WORKSPACE
    throw configError(
      file,
      at,
      problem ?? (outside ? 'links outside the workspace' : refusalReason(error.message, file)),
    )
  }
}

/** The refusal's reason without the path it starts with (the config error names the file). */
const refusalReason = (message: string, file: string): string => {
  const at = message.indexOf(' is ')
  return at >= 0 ? message.slice(at + 1) : `${file} was refused`
}

const display = (workspacePath: string, path: string): string => relative(workspacePath, path) || path

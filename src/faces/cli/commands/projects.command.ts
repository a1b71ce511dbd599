import { InvalidArgumentError, Option, type Command } from 'commander'
import { writeFileSync } from 'node:fs'
import { REVIEW_MODES, type ReviewMode } from '../../../domain/review-mode.js'
import type { ProjectOut } from '../api-types.js'
import { contextOf, emit, example, argId, parseJsonObject, UsageError } from '../context.js'
import { cell, formatTime } from '../output/style.js'
import { renderFields, renderTable } from '../output/table.js'
import { projectColumns } from '../output/views.js'
import { registerProjectBranches } from './project-branches.command.js'

export const registerProjects = (program: Command): void => {
  const projects = program
    .command('projects')
    .alias('project')
    .description('List, create, inspect and update projects (git repositories)')
    .addHelpText('after', example('tasksgodzilla projects list', 'tasksgodzilla projects show 3 --json'))

  projects
    .command('list')
    .alias('ls')
    .description('List projects')
    .addHelpText('after', example('tasksgodzilla projects list'))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const list = await ctx.client.get<ProjectOut[]>('/projects')
      emit(ctx, list, () => renderTable(projectColumns(), list, ctx.style, 'No projects.'))
    })

  projects
    .command('show <id>')
    .description('Show one project')
    .addHelpText('after', example('tasksgodzilla projects show 3'))
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const project = await ctx.client.get<ProjectOut>(`/projects/${argId(id)}`)
      emit(ctx, project, () => projectDetail(project, ctx.style))
    })

  registerCreate(projects)
  registerUpdate(projects)
  registerProjectBranches(projects)
}

interface CreateOptions {
  name: string
  gitUrl: string
  baseBranch: string
  localPath?: string
  ciProvider?: string
  defaultModels?: Record<string, unknown>
  reviewMode?: ReviewModeChoice
  engines?: EngineEntry[]
}

interface UpdateOptions {
  name?: string
  baseBranch?: string
  localPath?: string
  ciProvider?: string
  defaultModels?: Record<string, unknown>
  engines?: EngineEntry[]
  clearEngines?: boolean
  rotateApiToken?: boolean
  saveToken?: string
  clearApiToken?: boolean
  reviewMode?: ReviewModeChoice
}

/** `default` clears the project's mode, so the server's (TASKSGODZILLA_REVIEW_MODE) applies. */
type ReviewModeChoice = ReviewMode | 'default'

const reviewModeOption = () =>
  new Option(
    '--review-mode <mode>',
    'what PR/MR review comments do to runs (default: the server setting)',
  ).choices([...REVIEW_MODES, 'default'])

const reviewModeBody = (mode: ReviewModeChoice | undefined) =>
  mode === undefined ? {} : { review_mode: mode === 'default' ? null : mode }

const registerUpdate = (projects: Command): void => {
  projects
    .command('update <id>')
    .description('Change project settings; a rotated project token is written to a file, never printed')
    .option('--name <name>', 'new name')
    .option('--base-branch <branch>', 'new base branch')
    .option('--local-path <path>', 'new checkout path')
    .addOption(new Option('--ci-provider <provider>', 'CI provider').choices(['github', 'gitlab']))
    .option('--default-models <json>', 'default models per phase, as a JSON object', parseJsonObject)
    .option('--engines <list>', ENGINES_HELP, parseEngines)
    .option('--clear-engines', 'remove the engine fallback chain')
    .option('--rotate-api-token', 'generate a new project token (needs --save-token)')
    .option('--save-token <file>', 'file to write the generated project token to (mode 600)')
    .option('--clear-api-token', 'remove the project token')
    .addOption(reviewModeOption())
    .addHelpText(
      'after',
      example(
        'tasksgodzilla projects update 3 --base-branch develop',
        'tasksgodzilla projects update 3 --review-mode new_step',
        'tasksgodzilla projects update 3 --rotate-api-token --save-token ~/.tgz-project-3',
      ),
    )
    .action(async (id: string, options: UpdateOptions, command: Command) => {
      if (options.engines && options.clearEngines)
        throw new UsageError('Give either --engines or --clear-engines')
      if (options.rotateApiToken && !options.saveToken) {
        throw new UsageError('--rotate-api-token needs --save-token <file>: tokens are never printed')
      }
      const ctx = contextOf(command)
      const body = {
        name: options.name,
        base_branch: options.baseBranch,
        local_path: options.localPath,
        ci_provider: options.ciProvider,
        default_models: options.defaultModels,
        ...reviewModeBody(options.reviewMode),
        engines: options.clearEngines ? null : options.engines,
        ...(options.rotateApiToken ? { rotate_api_token: true } : {}),
        ...(options.clearApiToken ? { api_token: null } : {}),
      }
      const { api_token: token, ...project } = await ctx.client.patch<ProjectOut & { api_token?: string }>(
        `/projects/${argId(id)}`,
        body,
      )
      if (token !== undefined && options.saveToken)
        writeFileSync(options.saveToken, `${token}\n`, { mode: 0o600 })
      const saved =
        token !== undefined && options.saveToken ? ` New project token saved to ${options.saveToken}.` : ''
      emit(ctx, project, () => `Updated project ${project.id} (${project.name}).${saved}\n`)
    })
}

export const projectDetail = (p: ProjectOut, style: Parameters<typeof renderFields>[1]): string =>
  renderFields(
    [
      ['ID', String(p.id)],
      ['Name', p.name],
      ['Git URL', p.git_url],
      ['Local path', cell(p.local_path)],
      ['Base branch', p.base_branch],
      ['CI provider', cell(p.ci_provider)],
      ['Default models', cell(p.default_models)],
      [
        'Engines',
        p.engines
          ? p.engines.map(({ engine, model }) => (model ? `${engine}:${model}` : engine)).join(' → ')
          : '-',
      ],
      ['Project token', p.has_api_token ? 'set' : 'none'],
      ['Review mode', p.review_mode ?? 'server default'],
      ['Clarifications', cell(p.clarifications)],
      ['Created', formatTime(p.created_at)],
      ['Updated', formatTime(p.updated_at)],
    ],
    style,
  )

const registerCreate = (projects: Command): void => {
  projects
    .command('create')
    .description('Register a project; the server enqueues its setup run')
    .requiredOption('--name <name>', 'project name')
    .requiredOption('--git-url <url>', 'git URL or local path of the repository')
    .option('--base-branch <branch>', 'base branch', 'main')
    .option('--local-path <path>', 'where the server keeps the checkout')
    .addOption(new Option('--ci-provider <provider>', 'CI provider').choices(['github', 'gitlab']))
    .option('--default-models <json>', 'default models per phase, as a JSON object', parseJsonObject)
    .addOption(reviewModeOption())
    .option('--engines <list>', ENGINES_HELP, parseEngines)
    .addHelpText(
      'after',
      example('tasksgodzilla projects create --name demo --git-url https://github.com/acme/demo.git'),
    )
    .action(async (options: CreateOptions, command: Command) => {
      const ctx = contextOf(command)
      const project = await ctx.client.post<ProjectOut>('/projects', {
        name: options.name,
        git_url: options.gitUrl,
        base_branch: options.baseBranch,
        local_path: options.localPath,
        ci_provider: options.ciProvider,
        default_models: options.defaultModels,
        ...reviewModeBody(options.reviewMode),
        engines: options.engines,
      })
      emit(ctx, project, () => `Created project ${project.id} (${project.name}). Setup job enqueued.\n`)
    })
}

interface EngineEntry {
  readonly engine: string
  readonly model: string | null
}

const ENGINES_HELP =
  'engine fallback chain, comma-separated engine[:model] entries tried in order (e.g. codex:gpt-5.1-codex,claude)'

/** `codex:gpt-5,claude` → entries; the model is everything after the first colon (models may hold one). */
const parseEngines = (value: string): EngineEntry[] => {
  const entries = value.split(',').map((item) => item.trim())
  if (entries.some((item) => item === '' || item.startsWith(':')))
    throw new InvalidArgumentError('expected comma-separated engine[:model] entries')
  return entries.map((item) => {
    const colon = item.indexOf(':')
    return colon < 0
      ? { engine: item, model: null }
      : { engine: item.slice(0, colon), model: item.slice(colon + 1) }
  })
}

import type { Command } from 'commander'
import type { ProjectOut } from '../api-types.js'
import { contextOf, emit, example, argId, UsageError } from '../context.js'

/** `projects branches|delete-branch|answer`: the repository and onboarding side of a project. */
export const registerProjectBranches = (projects: Command): void => {
  projects
    .command('branches <id>')
    .description("List the remote branches of a project's repository")
    .addHelpText('after', example('tasksgodzilla projects branches 3'))
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const reply = await ctx.client.get<{ branches: string[] }>(`/projects/${argId(id)}/branches`)
      emit(ctx, reply, () =>
        reply.branches.length === 0 ? 'No branches.\n' : reply.branches.map((b) => `${b}\n`).join(''),
      )
    })

  projects
    .command('delete-branch <id> <branch>')
    .description('Delete a remote branch (asks for --yes: this cannot be undone)')
    .option('-y, --yes', 'confirm the deletion')
    .addHelpText('after', example('tasksgodzilla projects delete-branch 3 0007-old-task --yes'))
    .action(async (id: string, branch: string, options: { yes?: boolean }, command: Command) => {
      const projectId = argId(id)
      if (!options.yes) throw new UsageError(`deleting remote branch ${branch} needs --yes`)
      const ctx = contextOf(command)
      const path = `/projects/${projectId}/branches/${branch.split('/').map(encodeURIComponent).join('/')}/delete`
      const reply = await ctx.client.post<{ deleted: boolean; branch: string }>(path, { confirm: true })
      emit(ctx, reply, () => `Deleted remote branch ${reply.branch}.\n`)
    })

  projects
    .command('answer <id>')
    .description("Answer a project's setup clarifications (KEY=VALUE pairs; values may be JSON)")
    .argument('<answers...>', 'answers as KEY=VALUE')
    .addHelpText('after', example('tasksgodzilla projects answer 3 test_command="npm test" use_ci=true'))
    .action(async (id: string, answers: string[], _options: unknown, command: Command) => {
      const projectId = argId(id)
      const body = { answers: Object.fromEntries(answers.map(parseAnswer)) }
      const ctx = contextOf(command)
      const project = await ctx.client.post<ProjectOut>(`/projects/${projectId}/clarifications`, body)
      emit(ctx, project, () => `Recorded ${answers.length} answer(s) for project ${project.id}.\n`)
    })
}

/** `key=value`; the value is parsed as JSON when it is valid JSON (true, 3, {"a":1}), else kept as text. */
export const parseAnswer = (pair: string): [string, unknown] => {
  const eq = pair.indexOf('=')
  if (eq <= 0) throw new UsageError(`expected KEY=VALUE, got "${pair}"`)
  const raw = pair.slice(eq + 1)
  try {
    return [pair.slice(0, eq), JSON.parse(raw)]
  } catch {
    return [pair.slice(0, eq), raw]
  }
}

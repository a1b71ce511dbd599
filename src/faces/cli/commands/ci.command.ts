import { readClientConfig } from '../client-config.js'
import { Option, type Command } from 'commander'
import { ApiError, UnreachableError } from '../api-client.js'
import { CI_REPORT_PROVIDERS, ciReportRequest, resolveCiReport, type CiReportFlags } from '../ci-report.js'
import { argId, contextOf, emit, example, parseId, UsageError } from '../context.js'

interface ReportOptions extends CiReportFlags {
  bestEffort?: boolean
  apiBase?: string
}

interface TriggerReply {
  message: string
  provider: string
  via: string
  ref: string
  workflow: string | null
  url: string | null
}

/** `ci report|trigger`: the CI side of the feedback loop, for pipelines and for people. */
export const registerCi = (program: Command): void => {
  const ci = program
    .command('ci')
    .description('Report CI results to TasksGodzilla and trigger CI for a run')
    .addHelpText(
      'after',
      example('tasksgodzilla ci report failure --log-file test.log', 'tasksgodzilla ci trigger 12'),
    )

  ci.command('report')
    .description('Report a CI result (what scripts/ci/report.sh sends; skipped without an API base)')
    .argument(
      '[status]',
      'success | failure | pending | running | failed | … as the provider says',
      'success',
    )
    .addOption(
      new Option(
        '--provider <name>',
        'payload style (env TASKSGODZILLA_CI_PROVIDER, default github)',
      ).choices(CI_REPORT_PROVIDERS),
    )
    .option(
      '--branch <name>',
      'branch (env TASKSGODZILLA_BRANCH, CI_COMMIT_REF_NAME, GITHUB_HEAD_REF, GITHUB_REF_NAME, git HEAD)',
    )
    .option('--sha <commit>', 'commit (env TASKSGODZILLA_COMMIT_SHA, GITHUB_SHA, CI_COMMIT_SHA, git HEAD)')
    .option(
      '--target-url <url>',
      'link to the CI run (env TASKSGODZILLA_TARGET_URL, CI_JOB_URL, GitHub run URL)',
    )
    .option('--log-file <path>', `attach the log's last 200 lines (env TASKSGODZILLA_CI_LOG_FILE)`)
    .option('--run <id>', 'protocol run id (env TASKSGODZILLA_PROTOCOL_RUN_ID)', parseId)
    .option(
      '--best-effort',
      'warn instead of failing when the report is not accepted (exit 0, like the original reporter)',
    )
    .addHelpText(
      'after',
      [
        example(
          'TASKSGODZILLA_API_BASE=https://tgz.example.com tasksgodzilla ci report failure --log-file test.log',
          'tasksgodzilla ci report success --provider gitlab --run 12 --best-effort',
        ),
        '\nSigns GitHub-style reports with TASKSGODZILLA_WEBHOOK_TOKEN (X-Hub-Signature-256) and sends it as',
        'X-Gitlab-Token for GitLab. Exit codes: 0 accepted or skipped, 1 refused by the server, 2 usage,',
        '3 server unreachable; --best-effort turns 1 and 3 into a warning on stderr and exit 0.',
      ].join('\n'),
    )
    .action(async (status: string, options: ReportOptions, command: Command) => {
      const globals = command.optsWithGlobals<ReportOptions>()
      const client = readClientConfig()
      if (!globals.apiBase && !client.apiBase) {
        process.stderr.write('tasksgodzilla: CI report skipped: TASKSGODZILLA_API_BASE is not set\n')
        return
      }
      const report = resolveOrUsage(status, options, client.ciEnvironment)
      const request = ciReportRequest(report, client.webhookToken)
      const ctx = contextOf(command)
      try {
        const reply = await ctx.client.postRaw<{ message: string }>(
          request.path,
          request.body,
          request.headers,
        )
        emit(
          ctx,
          reply,
          () => `${reply.message}: ${report.status} on ${report.branch} (${report.provider}).\n`,
        )
      } catch (error) {
        if (!options.bestEffort || !(error instanceof ApiError || error instanceof UnreachableError))
          throw error
        process.stderr.write(`tasksgodzilla: warning: CI report not delivered: ${error.message}\n`)
      }
    })

  ci.command('trigger <protocol_run_id>')
    .description("Trigger the project's CI on a run's branch (the server uses its host token, else gh/glab)")
    .option(
      '--workflow <file>',
      "GitHub workflow file or id (default: the server's TASKSGODZILLA_CI_WORKFLOW)",
    )
    .addHelpText(
      'after',
      example('tasksgodzilla ci trigger 12', 'tasksgodzilla ci trigger 12 --workflow tests.yml'),
    )
    .action(async (id: string, options: { workflow?: string }, command: Command) => {
      const runId = argId(id)
      const ctx = contextOf(command)
      const body = options.workflow === undefined ? {} : { workflow: options.workflow }
      const reply = await ctx.client.post<TriggerReply>(`/protocols/${runId}/actions/trigger_ci`, body)
      emit(ctx, reply, () => `${reply.message}${reply.url ? ` ${reply.url}` : ''}\n`)
    })
}

const resolveOrUsage = (
  status: string,
  options: ReportOptions,
  ciEnvironment: Readonly<Record<string, string | undefined>>,
) => {
  try {
    return resolveCiReport(status, options, ciEnvironment)
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message)
    throw error
  }
}

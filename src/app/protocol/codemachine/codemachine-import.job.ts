import { isAppError } from '../../../domain/app-error.js'
import type { JsonObject } from '../../../domain/json.js'
import { loadCodeMachineWorkspace, type LoadedCodeMachine } from '../../codemachine/load-workspace.js'
import { recordImport } from '../../codemachine/record-import.js'
import type { JobHandler } from '../../queue-runtime/job-handler.js'
import { PermanentJobError } from '../../queue-runtime/job-handler.js'
import { blockRun } from '../block-run.js'
import { jobContext } from '../job-origin.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'

/**
 * codemachine_import_job: imports the workspace into a run the API left in `planning`. A config
 * error or a vanished workspace records `codemachine_import_failed`, blocks the run and fails the
 * job without retry; an invalid spec is an outcome (run blocked), not a job failure. A run that
 * is no longer planning (done already, cancelled) is left alone.
 */
export const createCodeMachineImportHandler =
  (deps: ProtocolJobDeps): JobHandler<'codemachine_import_job'> =>
  async (payload, job): Promise<JsonObject> => {
    const ctx = jobContext(job.jobId)
    const run = await deps.uow.run((tx) => tx.runs.findById(payload.protocol_run_id))
    if (!run || run.status !== 'planning') return { skipped: `run is ${run?.status ?? 'gone'}` }
    let loaded: LoadedCodeMachine
    try {
      loaded = loadCodeMachineWorkspace(deps, payload.workspace_path)
    } catch (error) {
      const known =
        isAppError(error) &&
        ['ORC_CODEMACHINE_CONFIG_INVALID', 'ORC_WORKSPACE_NOT_FOUND'].includes(error.code)
      const message = known ? (error as Error).message : `Unexpected error: ${(error as Error).message}`
      const event = {
        type: 'codemachine_import_failed',
        message,
        metadata: { workspace: payload.workspace_path },
      }
      await deps.uow.run((tx) => blockRun(tx, run.id, event, ctx))
      throw new PermanentJobError(message, 'config')
    }
    const outcome = await deps.uow.run((tx) => recordImport(tx, run.id, 'planning', loaded, ctx))
    return { ...outcome, errors: 'errors' in outcome ? [...outcome.errors] : [] }
  }

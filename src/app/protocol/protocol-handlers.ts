import { createCodeMachineImportHandler } from './codemachine/codemachine-import.job.js'
import { createExecuteStepHandler } from './execution/execute-step.job.js'
import { createOpenPrHandler } from './pr/open-pr.job.js'
import type { JobHandlers } from '../queue-runtime/job-handler.js'
import { createPlanProtocolHandler } from './planning/plan-protocol.job.js'
import { createProjectSetupHandler } from './setup/project-setup.job.js'
import { createSpecAuditHandler } from '../specs/spec-audit.job.js'
import type { ProtocolJobDeps } from './protocol-job-deps.js'
import { createRunQualityHandler } from './qa/run-quality.job.js'
import { createDeliverNotificationHandler } from '../notifications/deliver-notification.job.js'
import { createReviewFollowupHandler } from '../reviews/review-followup.job.js'
import { createBaseSyncHandler } from '../protocol-merge/base-sync.job.js'

/**
 * The handlers of every job type, over one set of deps (one per worker). The queue calls them;
 * each is idempotent and records its outcome through the transition table.
 */
export const createProtocolJobHandlers = (deps: ProtocolJobDeps): JobHandlers => ({
  plan_protocol_job: createPlanProtocolHandler(deps),
  execute_step_job: createExecuteStepHandler(deps),
  run_quality_job: createRunQualityHandler(deps),
  open_pr_job: createOpenPrHandler(deps),
  project_setup_job: createProjectSetupHandler(deps),
  spec_audit_job: createSpecAuditHandler(deps),
  codemachine_import_job: createCodeMachineImportHandler(deps),
  deliver_notification_job: createDeliverNotificationHandler({ uow: deps.uow, ...deps.notifier }),
  review_followup_job: createReviewFollowupHandler(deps),
  base_sync_job: createBaseSyncHandler(deps),
})

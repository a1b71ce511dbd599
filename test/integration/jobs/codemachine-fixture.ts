import { cpSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createContainedFiles } from '../../../src/adapters/files/contained-files.adapter.js'
import { loadCodeMachineWorkspace } from '../../../src/app/codemachine/load-workspace.js'
import { recordImport } from '../../../src/app/codemachine/record-import.js'
import { seedProject } from '../../support/fixtures.js'
import { packageAssets } from '../../support/package-assets.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/codemachine/', import.meta.url))
/** The CodeMachine stand-in agent: answers with its model and the whole prompt it was given. */
export const CM_AGENT = fileURLToPath(new URL('../../fixtures/agents/codemachine-agent.mjs', import.meta.url))

/** A copy of the esm-camel workspace imported (inline) as a planned run of a fresh project. */
export const importWorkspace = async (
  handle: DatabaseHandle,
  root: string,
  prepare: (workspace: string) => void = () => undefined,
  name = '0001-cm',
) => {
  const workspace = join(root, 'ws')
  cpSync(join(FIXTURES, 'esm-camel'), workspace, { recursive: true })
  prepare(workspace)
  const loaded = loadCodeMachineWorkspace({ files: createContainedFiles(), assets: packageAssets }, workspace)
  return createUnitOfWork(handle.db).run(async (tx) => {
    const project = await seedProject(tx, {
      name: `cm-${Math.random().toString(16).slice(2, 8)}`,
      gitUrl: workspace,
      localPath: workspace,
    })
    const run = await tx.runs.create({
      projectId: project.id,
      protocolName: name,
      status: 'planned',
      baseBranch: 'main',
      worktreePath: workspace,
      protocolRoot: loaded.root,
    })
    await recordImport(tx, run.id, 'planned', loaded, {})
    return { workspace, run: (await tx.runs.findById(run.id))!, steps: await tx.steps.listByRun(run.id) }
  })
}

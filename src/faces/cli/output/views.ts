import type { EventOut, JobOut, ProjectOut, RunOut, StepOut } from '../api-types.js'
import { cell, formatTime, paint, statusCell, type Style } from './style.js'
import type { Column } from './table.js'

export const projectColumns = (): Column<ProjectOut>[] => [
  { header: 'ID', value: (p) => String(p.id), right: true },
  { header: 'Name', value: (p) => p.name },
  { header: 'Base', value: (p) => p.base_branch },
  { header: 'Git', value: (p) => p.git_url },
  { header: 'CI', value: (p) => cell(p.ci_provider) },
  { header: 'Updated', value: (p) => formatTime(p.updated_at) },
]

export const runColumns = (style: Style): Column<RunOut>[] => [
  { header: 'ID', value: (r) => String(r.id), right: true },
  { header: 'Name', value: (r) => r.protocol_name },
  { header: 'Status', value: (r) => statusCell(style, r.status) },
  { header: 'Base', value: (r) => r.base_branch },
  { header: 'Spec', value: (r) => cell(r.spec_hash) },
  { header: 'SpecValid', value: (r) => cell(r.spec_validation_status) },
  { header: 'Updated', value: (r) => formatTime(r.updated_at) },
]

export const stepColumns = (style: Style): Column<StepOut>[] => [
  { header: 'ID', value: (s) => String(s.id), right: true },
  { header: 'Idx', value: (s) => String(s.step_index), right: true },
  { header: 'Name', value: (s) => s.step_name },
  { header: 'Status', value: (s) => statusCell(style, s.status) },
  { header: 'Engine', value: (s) => cell(s.engine_id) },
  { header: 'Model', value: (s) => cell(s.model) },
  { header: 'Retries', value: (s) => String(s.retries), right: true },
  { header: 'Updated', value: (s) => formatTime(s.updated_at) },
]

export const eventColumns = (): Column<EventOut>[] => [
  { header: 'ID', value: (e) => String(e.id), right: true },
  { header: 'Time', value: (e) => formatTime(e.created_at) },
  { header: 'Type', value: (e) => e.event_type },
  { header: 'Protocol', value: (e) => cell(e.protocol_name ?? e.protocol_run_id) },
  { header: 'Step', value: (e) => cell(e.step_run_id) },
  { header: 'Message', value: (e) => e.message },
]

export const jobColumns = (style: Style): Column<JobOut>[] => [
  { header: 'ID', value: (j) => j.job_id },
  { header: 'Type', value: (j) => j.job_type },
  { header: 'Status', value: (j) => statusCell(style, j.status) },
  { header: 'Queue', value: (j) => j.queue },
  { header: 'Attempts', value: (j) => String(j.attempts), right: true },
  { header: 'Created', value: (j) => formatTime(j.created_at) },
  { header: 'Error', value: (j) => cell(j.error) },
]

/** One streamed event: `[time] #id type run=N step=N :: message`. */
export const eventLine = (event: EventOut, style: Style): string => {
  const scope = [
    event.protocol_run_id === null ? '' : `run=${event.protocol_run_id}`,
    event.step_run_id === null ? '' : `step=${event.step_run_id}`,
  ]
    .filter(Boolean)
    .join(' ')
  const spec = typeof event.metadata?.spec_hash === 'string' ? ` [spec:${event.metadata.spec_hash}]` : ''
  const time = paint(style, 'gray', `[${formatTime(event.created_at)}]`)
  return `${time} #${event.id} ${paint(style, 'cyan', event.event_type)}${scope ? ` ${scope}` : ''}${spec} :: ${event.message}`
}

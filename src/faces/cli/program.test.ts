import { execFileSync } from 'node:child_process'
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { bashScript, zshScript } from './commands/completion.command.js'
import { buildProgram } from './program.js'

const helpOf = (command: Command): string => {
  let text = ''
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) })
  command.outputHelp()
  return text
}

const leaves = (command: Command, path: string[] = []): Array<[string, Command]> =>
  command.commands.flatMap((c) =>
    c.name() === 'help'
      ? []
      : [[[...path, c.name()].join(' '), c] as [string, Command], ...leaves(c, [...path, c.name()])],
  )

describe('the command tree', () => {
  it('shows an example in the help of the program and of every command', () => {
    const program = buildProgram()
    expect(helpOf(program)).toMatch(/Examples:\n {2}\$ tasksgodzilla /)
    const missing = leaves(program).filter(([, c]) => !/Examples?:\n {2}\$ /.test(helpOf(c)))
    expect(missing.map(([name]) => name)).toEqual([])
  })

  it('has every command issue 9 asks for, plus the original names as aliases', () => {
    const program = buildProgram()
    const names = new Set(
      leaves(program).flatMap(([name, c]) => [name, ...c.aliases().map((a) => name.replace(/\S+$/, a))]),
    )
    const wanted = [
      ...['list', 'show', 'create', 'update', 'branches', 'delete-branch', 'answer'].map(
        (c) => `projects ${c}`,
      ),
      ...[
        'list',
        'show',
        'create',
        'start',
        'pause',
        'resume',
        'cancel',
        'run-next',
        'retry',
        'open-pr',
        'spec',
      ]
        .concat(['import-codemachine', 'watch', 'create-and-start', 'retry-latest'])
        .map((c) => `protocols ${c}`),
      ...['list', 'show', 'run', 'qa', 'approve', 'logs', 'run-qa'].map((c) => `steps ${c}`),
      'events list',
      'events recent',
      'events watch',
      'queues stats',
      'queues jobs',
      'specs audit',
      'specs validate',
      'codemachine import',
      'ci report',
      'ci trigger',
      'completion',
    ]
    expect(wanted.filter((name) => !names.has(name))).toEqual([])
  })

  it('generates completion scripts that bash accepts and that name every group', () => {
    const program = buildProgram()
    const bash = bashScript(program)
    execFileSync('bash', ['-n'], { input: bash })
    expect(bash).toContain('complete -F _tasksgodzilla tasksgodzilla')
    expect(bash).toMatch(/projects\|project\) words="[^"]*delete-branch/)
    expect(zshScript(program)).toContain('bashcompinit')
  })
})

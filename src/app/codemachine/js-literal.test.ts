import { describe, expect, it } from 'vitest'
import { parseConfigModule, parseJsonFile } from './js-literal.js'

const value = (text: string) => parseConfigModule('c.js', text).value
const errorOf = (text: string): string => {
  try {
    parseConfigModule('c.js', text)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('parsed without an error')
}

describe('parseConfigModule', () => {
  it('reads literals: negative numbers, plain template strings, quoted and numeric keys, comments', () => {
    const text = `/* agents */\nexport default { a: -2, 'b-c': \`x\ny\`, 3: [true, null, 1.5], // note\n d: "it's" }`
    expect(value(text)).toEqual({ a: -2, 'b-c': 'x\ny', 3: [true, null, 1.5], d: "it's" })
  })

  it('reads module.exports with a trailing semicolon and a const it names', () => {
    expect(value('module.exports = [1];')).toEqual([1])
    expect(value('const x = { k: "v" };\nmodule.exports = x;')).toEqual({ k: 'v' })
    expect(value('const x = ["a"]\nexport default x')).toEqual(['a'])
  })

  it('never confuses data with code: the words true, false and null inside strings stay as written', () => {
    expect(value('export default { d: "returns true or null" }')).toEqual({ d: 'returns true or null' })
  })

  it.each([
    ['export default [/x/]', '1:17: unsupported literal'],
    ['export default [...a]', '1:17: unsupported array hole or spread'],
    ['const a = 1\nexport default { a }', '2:18: unsupported property'],
    ['export default { get a() { return 1 } }', '1:18: unsupported property'],
    ['export default { [k]: 1 }', '1:18: unsupported computed key'],
    ['export default [1 + 2]', '1:17: unsupported expression (BinaryExpression)'],
    ['export default [!0]', '1:17: unsupported expression (!)'],
    ['export default (() => [])()', '1:16: unsupported function call'],
    ['module.exports = []\nmodule.exports = []', '2:1: unsupported statement'],
    ['export function f() {}', '1:1: unsupported statement (ExportNamedDeclaration)'],
    ['let a = []\nexport default a', '1:1: unsupported statement (VariableDeclaration)'],
    ['', 'c.js:1:1: no `export default` or `module.exports =`'],
    ['export default [', 'c.js:1:17: syntax error'],
    ['export default { a: 1,\n  __proto__: { polluted: true } }', 'c.js:2:3: unsupported key __proto__'],
    ['export default [{ "__proto__": { admin: true } }]', 'c.js:1:19: unsupported key __proto__'],
  ])('refuses %j with file, line and column', (text, expected) => {
    expect(errorOf(text)).toContain(expected)
  })
})

describe('parseJsonFile', () => {
  it('refuses a __proto__ key with file, line and column', () => {
    expect(() => parseJsonFile('t.json', '{\n  "qa": { "__proto__": { "policy": "skip" } }\n}')).toThrow(
      't.json:2:11: unsupported key __proto__',
    )
  })

  it('reads a JSON object and points at trailing garbage', () => {
    expect(parseJsonFile('t.json', '{"a": [1, {"b": null}]}\n').value).toEqual({ a: [1, { b: null }] })
    expect(() => parseJsonFile('t.json', '{"a": 1}\n  x')).toThrow(
      't.json:2:3: unexpected text after the JSON value',
    )
  })
})

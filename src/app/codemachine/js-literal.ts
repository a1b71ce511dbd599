import { parse, parseExpressionAt, type Expression, type Node, type Program, type Property } from 'acorn'
import { configError, type SourcePosition, type ValueLocator } from '../../domain/codemachine/config-error.js'
import type { JsonObject, JsonValue } from '../../domain/json.js'

/** A config file's value, plus where each object and array of it starts (for later errors). */
export interface ParsedConfig {
  readonly value: JsonValue
  readonly locate: ValueLocator
}

type Spots = WeakMap<object, SourcePosition>

/**
 * Reads a CodeMachine config module as data, never running it: the module must be one
 * `export default <literal>` or `module.exports = <literal>` (optionally through one
 * `const x = <literal>` declared before it), and the literal may only hold objects, arrays,
 * strings, substitution-free template strings, numbers (a leading minus allowed), booleans and
 * null. Anything else is a ConfigError naming the file, line and column.
 */
export const parseConfigModule = (file: string, text: string): ParsedConfig => {
  const program = parseProgram(file, text, 'module')
  const spots: Spots = new WeakMap()
  const constants = new Map<string, Expression>()
  let exported: Expression | undefined
  for (const statement of program.body) {
    const candidate = exportedExpression(statement)
    if (candidate && !exported) exported = candidate
    else if (statement.type === 'VariableDeclaration' && statement.kind === 'const' && !exported)
      for (const declarator of statement.declarations) {
        if (declarator.id.type !== 'Identifier' || !declarator.init)
          throw refuse(file, declarator, 'declaration')
        constants.set(declarator.id.name, declarator.init)
      }
    else throw refuse(file, statement, `statement (${statement.type})`)
  }
  if (!exported) throw configError(file, { line: 1, column: 1 }, 'no `export default` or `module.exports =`')
  if (exported.type === 'Identifier') {
    const bound = constants.get(exported.name)
    if (!bound) throw refuse(file, exported, `identifier ${exported.name}`)
    exported = bound
  }
  return { value: literalOf(file, exported, spots), locate: (value) => spots.get(value) }
}

/** Reads a JSON file (template.json) through the same literal rules, so errors carry line and column. */
export const parseJsonFile = (file: string, text: string): ParsedConfig => {
  let expression: Expression
  try {
    expression = parseExpressionAt(text, 0, { ecmaVersion: 'latest', locations: true })
  } catch (error) {
    throw syntaxError(file, error)
  }
  const rest = text.slice(expression.end)
  if (rest.trim() !== '') {
    const before = text.slice(0, expression.end + rest.search(/\S/))
    const line = before.split('\n').length
    const column = before.length - before.lastIndexOf('\n')
    throw configError(file, { line, column }, 'unexpected text after the JSON value')
  }
  const spots: Spots = new WeakMap()
  return { value: literalOf(file, expression, spots), locate: (value) => spots.get(value) }
}

const parseProgram = (file: string, text: string, sourceType: 'module' | 'script'): Program => {
  try {
    return parse(text, { ecmaVersion: 'latest', sourceType, locations: true })
  } catch (error) {
    throw syntaxError(file, error)
  }
}

const syntaxError = (file: string, error: unknown) => {
  const loc = (error as { loc?: { line: number; column: number } }).loc
  const message = (error as Error).message.replace(/\s*\(\d+:\d+\)$/, '')
  return configError(
    file,
    { line: loc?.line ?? 1, column: (loc?.column ?? 0) + 1 },
    `syntax error: ${message}`,
  )
}

const exportedExpression = (statement: Program['body'][number]): Expression | undefined => {
  if (statement.type === 'ExportDefaultDeclaration') {
    const declaration = statement.declaration
    return declaration.type.endsWith('Declaration') ? undefined : (declaration as Expression)
  }
  if (statement.type !== 'ExpressionStatement') return undefined
  const expression = statement.expression
  if (expression.type !== 'AssignmentExpression' || expression.operator !== '=') return undefined
  const target = expression.left
  const isModuleExports =
    target.type === 'MemberExpression' &&
    target.object.type === 'Identifier' &&
    target.object.name === 'module' &&
    !target.computed &&
    target.property.type === 'Identifier' &&
    target.property.name === 'exports'
  return isModuleExports ? expression.right : undefined
}

const literalOf = (file: string, node: Node, spots: Spots): JsonValue => {
  const expression = node as Expression
  switch (expression.type) {
    case 'Literal':
      if (expression.value === null || ['string', 'number', 'boolean'].includes(typeof expression.value))
        return expression.value as string | number | boolean | null
      throw refuse(file, expression, 'literal (regular expressions and bigints are not data)')
    case 'TemplateLiteral':
      if (expression.expressions.length > 0) throw refuse(file, expression, 'template string with ${…}')
      return expression.quasis.map((quasi) => quasi.value.cooked ?? quasi.value.raw).join('')
    case 'UnaryExpression':
      if (expression.operator === '-' && expression.argument.type === 'Literal')
        if (typeof expression.argument.value === 'number') return -expression.argument.value
      throw refuse(file, expression, `expression (${expression.operator})`)
    case 'ArrayExpression':
      return remember(
        spots,
        expression,
        expression.elements.map((element) => {
          if (!element || element.type === 'SpreadElement')
            throw refuse(file, element ?? expression, 'array hole or spread')
          return literalOf(file, element, spots)
        }),
      )
    case 'ObjectExpression':
      return remember(spots, expression, objectOf(file, expression.properties, spots))
    default:
      throw refuse(file, expression, describe(expression))
  }
}

const objectOf = (file: string, properties: ReadonlyArray<Property | Node>, spots: Spots): JsonObject => {
  const out: JsonObject = {}
  for (const node of properties) {
    const property = node as Property
    if (property.type !== 'Property' || property.kind !== 'init' || property.method || property.shorthand)
      throw refuse(file, node, 'property (only `key: value` pairs are data)')
    if (property.computed) throw refuse(file, property, 'computed key')
    const key = property.key.type === 'Identifier' ? property.key.name : literalKey(file, property.key)
    // In a literal `__proto__: x` replaces the prototype instead of naming a field; no config has one.
    if (key === '__proto__') throw refuse(file, property.key, 'key __proto__ (it would set the prototype)')
    out[key] = literalOf(file, property.value, spots)
  }
  return out
}

const literalKey = (file: string, key: Node): string => {
  const literal = key as Expression
  if (literal.type === 'Literal' && (typeof literal.value === 'string' || typeof literal.value === 'number'))
    return String(literal.value)
  throw refuse(file, key, 'key')
}

const remember = <T extends object>(spots: Spots, node: Node, value: T): T => {
  if (node.loc) spots.set(value, { line: node.loc.start.line, column: node.loc.start.column + 1 })
  return value
}

const describe = (expression: Expression): string => {
  if (expression.type === 'Identifier') return `identifier ${expression.name}`
  if (expression.type === 'CallExpression') return 'function call'
  return `expression (${expression.type})`
}

const refuse = (file: string, node: Node, what: string) =>
  configError(
    file,
    { line: node.loc?.start.line ?? 1, column: (node.loc?.start.column ?? 0) + 1 },
    `unsupported ${what}; config files are read as data, never run`,
  )

// Layering is enforced here: imports point inward only (see docs/architecture.md).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
})

/**
 * The same rule for `import()`, which no-restricted-imports does not see. A selector's regex ends at
 * its first slash, so the pattern's slashes are spelled as escapes.
 */
const restrictDynamic = (pattern, message) => ({
  'no-restricted-syntax': [
    'error',
    { selector: `ImportExpression[source.value=/${pattern.source.replaceAll('\\/', '\\u002F')}/]`, message },
  ],
})

const OUTER = ['**/adapters/**', '**/faces/**', '**/composition/**']
const APP_LAYERING = {
  group: [...OUTER, 'fastify*', 'kysely', 'pg', 'better-sqlite3', 'bullmq', 'ioredis'],
  message: 'app/ owns the ports; adapters and faces implement or call them, never the reverse.',
}
const CROSS_CUTTING = ['**/config.js', '**/logging.js', '**/metrics.js']

export default tseslint.config(
  // CodeMachine fixtures include deliberately malformed and "executable" configs the loader must refuse.
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'console/dist/**',
      'test-results/**',
      'test/fixtures/codemachine/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // More than five positional arguments is a scope or options object waiting to be named.
      'max-params': ['error', 5],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: restrict(
      [
        '**/app/**',
        ...OUTER,
        ...CROSS_CUTTING,
        'node:*',
        'fastify*',
        'kysely',
        'pg',
        'better-sqlite3',
        'bullmq',
        'ioredis',
      ],
      'domain/ is pure: it imports nothing from outer layers and does no I/O.',
    ),
  },
  {
    files: ['src/app/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [APP_LAYERING] }] },
  },
  {
    // Tests may set files up on disk; the app itself reaches files only through its ports.
    files: ['src/app/**/*.ts'],
    ignores: ['src/app/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            APP_LAYERING,
            {
              group: ['node:fs', 'node:fs/*', 'fs', 'fs/*'],
              message:
                'app/ reaches files through its ports: ContainedFiles (src/app/contained-files.ts) for repository- and agent-controlled files, Assets (src/app/assets.port.ts) for our packaged prompts, schemas and starter files.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: restrict(
      ['**/faces/**', '**/composition/**'],
      'adapters/ implement app ports; they never reach into faces/ or the composition root.',
    ),
  },
  {
    files: ['src/faces/**/*.ts'],
    rules: restrict(
      ['**/adapters/**', '**/composition/**'],
      'faces/ talk to app/ only; src/composition wires adapters.',
    ),
  },
  {
    // The CLI's serve/worker/migrate/demo commands start processes through the composition root's entry points.
    files: ['src/faces/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**'],
              message: 'faces/ talk to app/ only; src/composition wires adapters.',
            },
            {
              group: ['**/composition/**', '!**/composition/index.js'],
              message: 'faces/cli reaches the composition root through src/composition/index.ts only.',
            },
          ],
        },
      ],
    },
  },
  // no-restricted-imports sees only static imports; the layers hold for import() too.
  {
    files: ['src/app/**/*.ts'],
    rules: restrictDynamic(
      /\/(adapters|faces|composition)\//,
      'app/ owns the ports; it never loads outer layers.',
    ),
  },
  {
    files: ['src/faces/**/*.ts'],
    rules: restrictDynamic(
      /\/(adapters|composition)\//,
      'faces/ talk to app/ only; src/composition wires adapters.',
    ),
  },
  {
    files: ['src/faces/cli/**/*.ts'],
    rules: restrictDynamic(
      /\/adapters\/|\/composition\/(?!index\.js$)/,
      'faces/cli reaches adapters only through src/composition/index.ts.',
    ),
  },
  {
    files: ['src/*.ts'],
    rules: restrict(
      OUTER,
      'Cross-cutting modules (config, logging, metrics) sit below the composition root and import no layer above app/.',
    ),
  },
  {
    files: ['console/**/*.{ts,tsx}'],
    rules: {
      ...restrict(
        [
          '**/src/domain/**',
          '**/src/app/**',
          '**/src/adapters/**',
          '**/src/faces/**',
          '**/src/*.js',
          'fastify*',
          'node:*',
        ],
        'console/ talks to the server over HTTP only; it imports nothing from src/.',
      ),
      'no-restricted-syntax': [
        'error',
        {
          selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
          message: 'Render server data as text (or through the Markdown component), never as HTML.',
        },
        {
          selector: 'MemberExpression[property.name=/^(innerHTML|outerHTML|insertAdjacentHTML)$/]',
          message: 'Render server data as text, never as HTML.',
        },
        { selector: "CallExpression[callee.name='eval']", message: 'The CSP forbids eval.' },
      ],
    },
  },
  {
    files: ['console/vite.config.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
)

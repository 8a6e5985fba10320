// @ts-check
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import reactHooks from 'eslint-plugin-react-hooks'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const rawTransaction = {
  selector: "CallExpression[callee.property.name='transaction']",
  message:
    'Use writeTransaction(db, body) from src/store/database.ts: a deferred transaction that reads before it writes fails with "database is locked" when another connection commits in between.',
}

/** An SQL statement: a string or a template's first part that starts with one. */
const SQL_START = String.raw`/^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH|REPLACE|VACUUM|BEGIN|COMMIT)\s/`
const sqlOutsideStore = [
  `Literal[value=${SQL_START}]`,
  `TemplateLiteral > TemplateElement:first-child[value.raw=${SQL_START}]`,
].map((selector) => ({
  selector,
  message:
    'SQL belongs in src/store: add a repository method whose name says what it answers, and call that.',
}))

/** Code in one process must not import another process's code: the contract lives in src/shared. */
const boundary = (patterns, message) => ['error', { patterns: [{ group: patterns, message }] }]

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'node_modules/**',
      'coverage/**',
      'playwright-report/**',
      'test-results/**',
      'docs/**',
      // scripts/gpu-device/pack.sh's output: a bundle and binaries, not source.
      '.device/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
      'no-restricted-syntax': ['error', rawTransaction],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: globals.browser },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': boundary(
        ['**/main/**', '**/worker/**', '**/store/**', '**/cli/**', 'node:*', 'electron'],
        'The renderer talks to the backend only through the API contract in src/shared.',
      ),
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': boundary(
        [
          '**/main/**',
          '**/worker/**',
          '**/store/**',
          '**/renderer/**',
          '**/cli/**',
          'node:*',
          'electron',
          'react',
        ],
        'src/shared is imported by every process: it may depend on zod only.',
      ),
    },
  },
  {
    // The store owns its SQL: nothing outside src/store may hold a statement.
    files: ['src/**/*.ts'],
    ignores: ['src/store/**'],
    rules: { 'no-restricted-syntax': ['error', rawTransaction, ...sqlOutsideStore] },
  },
  {
    files: ['src/worker/**/*.ts', 'src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': boundary(
        ['**/main/**', '**/renderer/**', 'electron'],
        'Workers and the store run under plain Node: no Electron, no main-process code.',
      ),
    },
  },
  prettier,
)

// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'web/dist/', 'node_modules/', 'bench-results/', 'test-artifacts/', '.tmp/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Type-aware rules: a promise nobody awaits loses its rejection (an unhandled rejection ends
    // the process, or an error never reaches errors.ts), and a promise where a void callback is
    // expected (an onClick, a Fastify hook) runs unobserved. projectService finds each file's
    // tsconfig (web/tsconfig.json for the UI, with the DOM).
    files: ['src/**/*.ts', 'web/src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test/suite return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: [
                'describe',
                'it',
                'test',
                'suite',
                'before',
                'after',
                'beforeEach',
                'afterEach',
              ],
              package: 'node:test',
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['web/src/**/*.ts'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        HTMLElement: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLSelectElement: 'readonly',
        URLSearchParams: 'readonly',
        Event: 'readonly',
        Node: 'readonly',
      },
    },
  },
  {
    // STYLE.md: services.ts is the one facade. Only it (and storage/ itself) sees the store;
    // everyone else (http/, cli/, serve*.ts, main.ts) calls a named use case. The blocks below
    // for domain/, http/ and storage/ repeat this rule in their own lists (a later block's
    // no-restricted-imports replaces an earlier one's for the files both match). Unit tests
    // under src/ that run domain code against a real store disable it per import, saying why.
    files: ['src/**/*.ts'],
    ignores: ['src/services.ts', 'src/storage/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/storage/**'],
              message: 'only services.ts and storage/ import storage/: call a Services method',
            },
          ],
        },
      ],
    },
  },
  {
    // STYLE.md dependency rule: the domain knows nothing of HTTP, SQL, Redis or configuration.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/http/**', '**/storage/**', '**/config/**', '**/cli/**'],
              message: 'domain/ must not import http/, storage/, config/ or cli/',
            },
            {
              group: ['fastify', '@fastify/*', 'kysely', 'better-sqlite3', 'pg', 'ioredis'],
              message: 'domain/ is free of HTTP and storage libraries',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'domain/ takes settings as arguments, never from process' },
      ],
    },
  },
  {
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/storage/**'], message: 'http/ and storage/ never import each other' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/storage/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/http/**'], message: 'http/ and storage/ never import each other' },
          ],
        },
      ],
    },
  },
);

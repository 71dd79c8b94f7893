// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'contracts/hardhat/**',
      '.hearth/**',
      'coverage/**',
      '**/*.mjs',
      '**/*.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      // Nest providers are classes whose methods are passed around as callbacks on purpose.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // node:test's describe/it return promises the runner tracks itself.
    files: [
      '**/*.spec.ts',
      '**/*.medium-spec.ts',
      '**/*.medium-cases.ts',
      '**/*.e2e-spec.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
    ],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    // Apps reach data through the repositories of libs/db only: no TypeORM, no driver, no SQL of their own.
    files: ['apps/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.medium-spec.ts', '**/*.medium-cases.ts', '**/*.e2e-spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'typeorm', message: 'Data access goes through a repository of @hearth/db.' },
            { name: '@nestjs/typeorm', message: 'Data access goes through a repository of @hearth/db.' },
            { name: 'pg', message: 'Data access goes through a repository of @hearth/db.' },
            {
              name: '@hearth/db',
              importNames: ['prepared', 'columnsOf', 'createDataSource', 'dataSourceOptions'],
              message: 'SQL belongs in a repository of @hearth/db.',
            },
            {
              name: '@hearth/blobs',
              importNames: ['PostgresBlobStore'],
              message: 'Read chunks through FileRepository (or inject BLOB_STORE from @hearth/db).',
            },
          ],
          patterns: [
            { group: ['typeorm/*', 'pg/*'], message: 'Data access goes through a repository of @hearth/db.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='query']",
          message: 'No SQL in apps: add a repository method in libs/db.',
        },
        {
          selector:
            'CallExpression[callee.property.name=/^(getRepository|withRepository|createQueryBuilder|createQueryRunner)$/]',
          message: 'No TypeORM in apps: add a repository method in libs/db.',
        },
        {
          selector:
            'Literal[value=/^\\s*(SELECT|INSERT\\s+INTO|UPDATE\\s+\\w+\\s+SET|DELETE\\s+FROM|WITH\\s+\\w+\\s+AS)\\s/]',
          message: 'No SQL in apps: add a repository method in libs/db.',
        },
        {
          selector:
            'TemplateElement[value.raw=/^\\s*(SELECT|INSERT\\s+INTO|UPDATE\\s+\\w+\\s+SET|DELETE\\s+FROM|WITH\\s+\\w+\\s+AS)\\s/]',
          message: 'No SQL in apps: add a repository method in libs/db.',
        },
      ],
    },
  },
  prettier,
);

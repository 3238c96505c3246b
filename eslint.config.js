// One linter for the whole repository: typescript-eslint's recommended rules on top of ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'coverage/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Small modules and functions one can hold in one's head: a file that grows past these is split.
    files: ['functions/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
      // Schemas use functions/zod.ts (zod/mini with English messages, imported as a namespace):
      // the classic 'zod' entry adds about 450 KB to every Lambda bundle.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'zod', message: "import * as z from '../zod.js' (zod/mini) instead" },
            { name: 'zod/v4', message: "import * as z from '../zod.js' (zod/mini) instead" },
          ],
        },
      ],
    },
  },
);

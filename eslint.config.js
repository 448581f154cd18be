// ESLint flat config: typescript-eslint's type-aware recommended rules over the TypeScript sources.
// Formatting is Prettier's job (npm run format), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // web/ has its own toolchain (Vite, React) and its own lint set-up.
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', 'drizzle/', 'web/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Fastify's contract is async functions: a plugin or a handler is async so that Fastify awaits it (a handler
      // returns its reply body), whether or not it awaits anything itself.
      '@typescript-eslint/require-await': 'off',
      // A variable a cleanup closure reads is declared before the code that may run that closure, then assigned.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_name` marks a parameter or binding kept on purpose (a positional argument, a key left out of a rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read responses with light-my-request's `res.json()`, typed `any` on purpose: the assertions that
      // follow are what checks the shape, so typing every body first would only repeat them.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    // Plain JavaScript config files: no type information.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);

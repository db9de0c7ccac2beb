// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', '.package/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // Type-aware rules read the TypeScript program that tsconfig.json describes (the project service finds it).
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Tests read parsed JSON/CSV and use vitest's asymmetric matchers (typed `any`); their assertions check the values.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // Formatting is Prettier's (npm run format); turn off the stylistic rules that would fight it.
  prettier,
  {
    // The Azurite wrapper and the dependency-cruiser rules are plain CommonJS read by node directly.
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { process: 'readonly', require: 'readonly', module: 'writable' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The admin console: plain ES modules run by the browser (console/index.html), not by Node.
    files: ['console/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'sessionStorage',
          'fetch',
          'URL',
          'URLSearchParams',
          'Blob',
          'Node',
          'Event',
          'setTimeout',
          'setInterval',
          'clearInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    rules: {
      // `async` without `await` is how fakes and handlers implement Promise-returning ports: a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // Ports are interfaces with method syntax implemented by closures (no `this`); the rule cannot tell them apart.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Last, so no rule set above turns a type-aware rule back on for them.
  {
    // Plain JavaScript and the vitest configs are outside tsconfig.json, so they get no type-aware rules.
    files: ['**/*.{js,mjs,cjs}', '*.config.mts'],
    ...tseslint.configs.disableTypeChecked,
  },
);

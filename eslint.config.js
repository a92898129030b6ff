import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', {
        paths: [{ name: '@kubernetes/client-node', message: 'Only src/cluster/ talks to Kubernetes.' }],
      }],
    },
  },
  {
    files: ['src/cluster/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);

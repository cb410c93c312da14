import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Architecture rules as lint rules: each heavy dependency has one home. */
const only = (name, home) => ({
  name,
  message: `${name} is used only in ${home} (see ARCHITECTURE.md).`,
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', URLSearchParams: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            only('ioredis', 'src/store/'),
            only('prom-client', 'src/metrics/'),
            only('nodemailer', 'src/alerts/'),
            only('uWebSockets.js', 'src/server/'),
          ],
        },
      ],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config/ only.' }],
    },
  },
  { files: ['src/store/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [only('prom-client', 'src/metrics/'), only('nodemailer', 'src/alerts/'), only('uWebSockets.js', 'src/server/')] }] } },
  { files: ['src/server/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [only('ioredis', 'src/store/'), only('prom-client', 'src/metrics/'), only('nodemailer', 'src/alerts/')] }] } },
  { files: ['src/metrics/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [only('ioredis', 'src/store/'), only('nodemailer', 'src/alerts/'), only('uWebSockets.js', 'src/server/')] }] } },
  { files: ['src/alerts/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [only('ioredis', 'src/store/'), only('prom-client', 'src/metrics/'), only('uWebSockets.js', 'src/server/')] }] } },
  { files: ['src/config/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.test.ts'], rules: { 'no-console': 'off' } },
);

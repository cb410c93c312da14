import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { FLOORS, ROOT_FILES } from './docs/floors.js';
import crs from './ops/lint/no-import-cycle.js';

/** Architecture rules as lint rules: each heavy dependency has one home. */
const only = (name, home) => ({
  name,
  message: `${name} is used only in ${home} (see docs/ARCHITECTURE.md).`,
});

const HOMES = {
  ioredis: 'src/store/',
  'prom-client': 'src/metrics/',
  nodemailer: 'src/alerts/',
  'uWebSockets.js': 'src/server/',
};

/**
 * The floors: a folder of src/ may import only the folders its row of docs/floors.js names
 * (the "may use" column of docs/ARCHITECTURE.md), so a change that inverts a floor fails lint.
 * Relative imports are matched by the folder they name: `../relay/…`, `../../relay/…`.
 */
function floorRule(folder) {
  const mayUse = new Set(FLOORS[folder]);
  const forbidden = Object.keys(FLOORS).filter((other) => other !== folder && !mayUse.has(other));
  const rootFiles = ROOT_FILES.filter((f) => f !== folder && !mayUse.has(f));
  return [
    'error',
    {
      paths: Object.entries(HOMES)
        .filter(([, home]) => home !== `src/${folder}/`)
        .map(([name, home]) => only(name, home)),
      patterns: [
        ...forbidden.map((other) => ({
          group: [`../${other}/*`, `../../${other}/*`, `../../../${other}/*`],
          message: `src/${folder}/ may not use src/${other}/ (floors: docs/floors.js, docs/ARCHITECTURE.md).`,
        })),
        ...rootFiles.map((file) => ({
          group: [`../${file}.js`, `../../${file}.js`, `../../../${file}.js`],
          message: `src/${folder}/ may not use src/${file}.ts (floors: docs/floors.js, docs/ARCHITECTURE.md).`,
        })),
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      // Prettier wraps code at 120; this catches what it leaves (comments), strings may run on.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
    },
  },
  {
    // No import circles, type-only ones included: every file of src/ stands on the ones it imports.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    plugins: { crs },
    rules: { 'crs/no-import-cycle': 'error' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: Object.entries(HOMES).map(([name, home]) => only(name, home)) }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config/ only.' },
      ],
    },
  },
  ...Object.keys(FLOORS).map((folder) => ({
    files: [`src/${folder}/**/*.ts`, ...(ROOT_FILES.includes(folder) ? [`src/${folder}.ts`] : [])],
    ignores: ['src/**/*.test.ts'],
    rules: { 'no-restricted-imports': floorRule(folder) },
  })),
  { files: ['src/config/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.test.ts'], rules: { 'no-console': 'off' } },
);

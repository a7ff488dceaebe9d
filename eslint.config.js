// ESLint (flat config) for the JavaScript of the repository: the npm package's facade
// (pkg/src, browser page and Worker), the crate's JS snippets (crate/src, Workers the Rust
// side starts), the demo page (www), the tests and benchmarks (Node,
// driving pages whose code they also hold) and the scripts. Formatting is Prettier's job
// (.prettierrc.json); `make lint` runs both.
import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    ignores: ['pkg/wasm/', 'target/', 'node_modules/', 'bench/src/', 'tests/bundlers/*/dist/', 'examples/*/wasm/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
  },
  {
    // The facade and the crate's snippets run on the page and in module Workers; the demo, the
    // bench page and the example apps' pages on the page.
    files: [
      'pkg/src/**/*.js',
      'crate/src/**/*.js',
      'www/**/*.js',
      'bench/web/**/*.js',
      'examples/**/*.js',
      'tests/**/*.js',
    ],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
  },
  {
    // Node scripts; tests and the bench runner also hold functions that run in the page.
    files: ['tests/**/*.mjs', 'bench/**/*.mjs', 'scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];

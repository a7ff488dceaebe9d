// A webpack 5 app that uses gort: no loader or plugin, only the headers that make its pages
// cross-origin isolated, in `devServer` (webpack serve). A production host must send them too.
// The build emits the package's Worker as its own chunk and its wasm binary as an asset.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  context: fileURLToPath(new URL('.', import.meta.url)),
  entry: './src/main.js',
  output: { path: fileURLToPath(new URL('dist', import.meta.url)), clean: true },
  // gort's wasm binary (about 0.6 MB) is over webpack's size hint for an asset.
  performance: { assetFilter: (file) => !file.endsWith('.wasm') },
  devServer: {
    static: '.',
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
};

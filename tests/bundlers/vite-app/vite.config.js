// A Vite app that uses gort: no plugin, only the headers that make its pages cross-origin
// isolated, in `server` (vite) and `preview` (vite preview). A production host must send them
// too. The build emits the package's Worker (bundled) and its wasm binary as assets.
const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default {
  server: { headers },
  preview: { headers },
};

// A Vite app that uses gort: no plugin, only the headers that make its pages cross-origin
// isolated, in `server` (vite) and `preview` (vite preview). A production host must send them
// too. The build emits the package's Worker (bundled), its wasm binaries and the app's module
// task as assets.
const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default {
  server: { headers },
  preview: { headers },
  // Module tasks are loaded by URL: emit them as files, never inlined as data: URLs, which a
  // CSP such as script-src 'self' refuses.
  build: { assetsInlineLimit: (file) => (file.endsWith('.js') ? false : undefined) },
};

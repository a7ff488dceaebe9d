// A small static file server for the repository root, with the headers that make a page
// cross-origin isolated (COOP + COEP), without which SharedArrayBuffer and a shared
// WebAssembly.Memory do not exist. A request whose query has `isolated=0` gets none of them:
// a page that is not cross-origin isolated, for the tests of that mode. No dependencies: used
// by `make demo` and by the tests.
//
// Under `/csp/` it serves the same files with a strict Content-Security-Policy as well
// (`STRICT_CSP`: no 'unsafe-eval', no inline scripts), as a site that sends it with every
// response does: `/csp/tests/pages/csp.html` is that site's page, and the Workers and modules
// it loads from `/csp/…` run under the policy too.
//
//   import { serve } from './scripts/serve.mjs';
//   const { url, close } = await serve({ root, port: 0 });   // port 0: a free port
//   serve({ root, headers: { 'Cross-Origin-Embedder-Policy': 'credentialless' } })  // overrides
//
// Run as a script it serves the repository root on $PORT (default 8080).

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** The policy of everything under `/csp/`: what a strict site allows, and gort needs. */
export const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
const CSP_PREFIX = '/csp/';

export function mimeType(file) {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

// Maps a request target to a file under root, or returns an HTTP status for refusals.
function targetPath(root, rawUrl) {
  let pathname = rawUrl.split(/[?#]/, 1)[0];
  try {
    pathname = decodeURIComponent(pathname);
  } catch {
    return 400;
  }
  if (!pathname.startsWith('/') || pathname.includes('\0')) return 400;
  const file = resolve(root, '.' + pathname);
  if (file !== root && !file.startsWith(root + sep)) return 403;
  return { file, dirSlash: pathname.endsWith('/') };
}

const CROSS_ORIGIN = /^cross-origin-/i; // the headers an `isolated=0` request goes without

async function handle(root, headers, req, res) {
  const isolated = new URLSearchParams(req.url.split('?')[1]?.split('#')[0]).get('isolated') !== '0';
  for (const [k, v] of Object.entries(headers)) if (isolated || !CROSS_ORIGIN.test(k)) res.setHeader(k, v);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
  }
  let url = req.url;
  if (url.startsWith(CSP_PREFIX)) {
    res.setHeader('Content-Security-Policy', STRICT_CSP);
    url = url.slice(CSP_PREFIX.length - 1);
  }
  const target = targetPath(root, url);
  if (typeof target === 'number') return send(res, target, `${target}\n`);
  let { file } = target;
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    if (!target.dirSlash) {
      const [path, query = ''] = req.url.split(/\?(.*)/s);
      return send(res, 301, 'moved\n', { Location: path + '/' + (query ? '?' + query : '') });
    }
    file = join(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) return send(res, 404, 'not found\n');
  res.writeHead(200, { 'Content-Type': mimeType(file), 'Content-Length': info.size });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/**
 * Serves `root` over HTTP on 127.0.0.1 (and so on http://localhost). `headers` are sent with
 * every response, beside (or instead of) the isolation headers.
 * @param {{ root?: string, port?: number, host?: string, headers?: Record<string, string> }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export function serve({ root = process.cwd(), port = 8080, host = '127.0.0.1', headers = {} } = {}) {
  const base = resolve(root);
  const sent = { ...ISOLATION_HEADERS, ...headers };
  const sockets = new Set();
  const server = createServer((req, res) => {
    handle(base, sent, req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, `internal error: ${err.message}\n`);
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const actual = server.address().port;
      ok({
        url: `http://localhost:${actual}/`,
        port: actual,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const port = Number(process.env.PORT ?? 8080);
  const { url, close } = await serve({ root, port });
  console.log(`gort demo: ${url}`);
  const stop = () => close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

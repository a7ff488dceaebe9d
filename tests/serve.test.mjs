// scripts/serve.mjs: isolation headers on every response, MIME types, refusals.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serve } from '../scripts/serve.mjs';

let dir, server;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gort-serve-'));
  await mkdir(join(dir, 'root', 'sub'), { recursive: true });
  await writeFile(join(dir, 'secret.txt'), 'outside the root');
  const files = {
    'index.html': '<!doctype html><title>home</title>',
    'sub/index.html': '<!doctype html><title>sub</title>',
    'a.wasm': Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    'a.js': 'export {}',
    'a.mjs': 'export {}',
    'a.css': 'body {}',
    'a.json': '{}',
    'a.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'a.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  };
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, 'root', name), body);
  server = await serve({ root: join(dir, 'root'), port: 0 });
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

// Raw requests: fetch() would normalize the dot segments this test needs to send.
function get(path, method = 'GET') {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

function assertIsolated(res) {
  assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(res.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
  assert.equal(res.headers['cache-control'], 'no-store');
}

test('url is on localhost with the chosen port', () => {
  assert.equal(server.url, `http://localhost:${server.port}/`);
  assert.ok(server.port > 0);
});

test('/ serves index.html, a directory its index.html', async () => {
  const res = await get('/');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/html/);
  assert.match(res.body.toString(), /home/);
  assertIsolated(res);
  assert.match((await get('/sub/?x=1')).body.toString(), /sub/);
  const moved = await get('/sub?x=1');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, '/sub/?x=1');
});

test('MIME types', async () => {
  const want = {
    '/a.wasm': 'application/wasm',
    '/a.js': 'text/javascript',
    '/a.mjs': 'text/javascript',
    '/a.css': 'text/css',
    '/a.json': 'application/json',
    '/a.svg': 'image/svg+xml',
    '/a.png': 'image/png',
    '/index.html?v=2': 'text/html',
  };
  for (const [path, type] of Object.entries(want)) {
    const res = await get(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers['content-type'].split(';')[0], type, path);
    assertIsolated(res);
  }
  const head = await get('/a.wasm', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '8');
  assert.equal(head.body.length, 0);
});

test('paths escaping the root are refused, missing files are 404, all isolated', async () => {
  for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt']) {
    const res = await get(path);
    assert.equal(res.status, 403, path);
    assert.doesNotMatch(res.body.toString(), /outside the root/);
    assertIsolated(res);
  }
  const missing = await get('/nope.js');
  assert.equal(missing.status, 404);
  assertIsolated(missing);
  assert.equal((await get('/%E0%A4%A')).status, 400);
  assert.equal((await get('/', 'POST')).status, 405);
});

test('headers given to serve() are sent beside, or instead of, the isolation headers', async () => {
  const other = await serve({
    root: join(dir, 'root'),
    port: 0,
    headers: { 'Cross-Origin-Embedder-Policy': 'credentialless', 'Access-Control-Allow-Origin': '*' },
  });
  try {
    const res = await fetch(`${other.url}a.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'credentialless');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
  } finally {
    await other.close();
  }
});

// The reference: Go's own runtime running the anchor program (bench.go), built
// natively and for GOOS=js GOARCH=wasm with the machine's `go` (Debian golang-go).
//
// The read-only anchor folder is copied into target/go-ref/ (refreshed when its
// content changes) and built there; the wasm build is served from
// target/go-ref/site/ together with the anchor's page and Go's wasm_exec.js.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { runProcess, tail } from './proc.mjs';

const SKIP = new Set(['node_modules', 'build', 'results', 'site']);

export function anchorDir(root) {
  const dir = path.resolve(process.env.GO_ANCHOR_DIR || path.join(root, '..', 'shared', 'anchors', 'go-wasm'));
  if (!fs.existsSync(path.join(dir, 'bench.go'))) {
    throw new Error(
      `Go anchor not found: expected ${path.join(dir, 'bench.go')}\n` +
        `  (the reference lives at ../shared/anchors/go-wasm relative to the repo root; ` +
        `set GO_ANCHOR_DIR to point elsewhere, or use --skip-go with a cached target/bench/go-cache.json)`,
    );
  }
  return dir;
}

function listFiles(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (SKIP.has(e.name) && rel === '') continue;
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** Content hash of the anchor folder (file names + bytes). */
export function anchorHash(dir) {
  const h = crypto.createHash('sha256');
  for (const f of listFiles(dir)) {
    h.update(f + '\0');
    h.update(fs.readFileSync(path.join(dir, f)));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Copy the anchor into `dest` unless the copy already has the same content. */
function syncCopy(src, dest, hash) {
  const stamp = path.join(dest, '.anchor-hash');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === hash) return false;
  for (const f of listFiles(dest).filter((f) => !f.startsWith('.'))) fs.rmSync(path.join(dest, f), { force: true });
  for (const f of listFiles(src)) {
    const to = path.join(dest, f);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.writeFileSync(to, fs.readFileSync(path.join(src, f)));
    fs.chmodSync(to, f.endsWith('.sh') ? 0o755 : 0o644); // the anchor's files are read-only
  }
  fs.rmSync(path.join(dest, 'build'), { recursive: true, force: true });
  fs.writeFileSync(stamp, hash + '\n');
  return true;
}

export function findGo() {
  for (const c of ['go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go']) {
    try {
      const v = execFileSync(c, ['version'], { encoding: 'utf8', timeout: 60000 }).trim();
      return { go: c, version: v };
    } catch {
      /* try next */
    }
  }
  throw new Error(
    "Go not found: install Debian's golang-go (scripts/setup.sh --bench, or apt-get install -y golang-go)",
  );
}

function wasmExecPath(go) {
  const goroot = execFileSync(go, ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
  for (const c of ['misc/wasm/wasm_exec.js', 'lib/wasm/wasm_exec.js']) {
    const p = path.join(goroot, c);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`wasm_exec.js not found under ${goroot}/misc/wasm or ${goroot}/lib/wasm`);
}

/**
 * Copy + build. Returns { dir, native, site, goVersion, hash, wasmExec, wasmBytes }.
 * `site` holds index.html (the anchor's page), bench.wasm and wasm_exec.js.
 */
export async function prepareGoRef(root, log) {
  const src = anchorDir(root);
  const hash = anchorHash(src);
  const dir = path.join(root, 'target', 'go-ref');
  fs.mkdirSync(dir, { recursive: true });
  if (syncCopy(src, dir, hash)) log(`copied ${src} -> ${path.relative(root, dir)}`);

  const { go, version } = findGo();
  const wasmExec = wasmExecPath(go);
  const build = path.join(dir, 'build');
  const native = path.join(build, 'bench_native');
  const wasm = path.join(build, 'bench.wasm');
  const buildStamp = path.join(build, '.stamp');
  const want = `${hash} ${version}`;
  if (!(
    fs.existsSync(buildStamp) &&
    fs.readFileSync(buildStamp, 'utf8').trim() === want &&
    fs.existsSync(native) &&
    fs.existsSync(wasm)
  )) {
    fs.mkdirSync(build, { recursive: true });
    const env = { ...process.env, GOTOOLCHAIN: 'local' };
    log(`building the Go reference with ${version}`);
    for (const [extra, out] of [
      [{}, native],
      [{ GOOS: 'js', GOARCH: 'wasm' }, wasm],
    ]) {
      const r = await runProcess(go, ['build', '-o', out, '.'], { cwd: dir, env: { ...env, ...extra } });
      if (r.code !== 0) throw new Error(`go build ${extra.GOOS ? '(js/wasm) ' : ''}failed:\n${tail(r.stderr)}`);
    }
    fs.writeFileSync(buildStamp, want + '\n');
  }
  const site = path.join(dir, 'site');
  fs.mkdirSync(site, { recursive: true });
  fs.copyFileSync(path.join(dir, 'web', 'index.html'), path.join(site, 'index.html'));
  fs.copyFileSync(wasm, path.join(site, 'bench.wasm'));
  fs.copyFileSync(wasmExec, path.join(site, 'wasm_exec.js'));
  return { dir, native, site, goVersion: version, hash, wasmExec, wasmBytes: fs.statSync(wasm).size };
}

/**
 * The hog workload's Go program (bench/go/hog/hog.go: not part of the anchor), built like the
 * anchor into target/go-ref/hog/. Returns { native, site } (`site`: the anchor's page with
 * hog.wasm as its bench.wasm). Rebuilt when the source or the Go version changes.
 */
export async function prepareGoHog(root, goRef, log) {
  const src = path.join(root, 'bench', 'go', 'hog');
  const dir = path.join(root, 'target', 'go-ref', 'hog');
  const native = path.join(dir, 'hog_native');
  const wasm = path.join(dir, 'hog.wasm');
  const stamp = path.join(dir, '.stamp');
  const want = `${anchorHash(src)} ${goRef.goVersion}`;
  fs.mkdirSync(dir, { recursive: true });
  if (!(
    fs.existsSync(stamp) &&
    fs.readFileSync(stamp, 'utf8').trim() === want &&
    fs.existsSync(native) &&
    fs.existsSync(wasm)
  )) {
    const { go } = findGo();
    log('building the Go hog program (bench/go/hog)');
    const env = { ...process.env, GOTOOLCHAIN: 'local' };
    for (const [extra, out] of [
      [{}, native],
      [{ GOOS: 'js', GOARCH: 'wasm' }, wasm],
    ]) {
      const r = await runProcess(go, ['build', '-o', out, '.'], { cwd: src, env: { ...env, ...extra } });
      if (r.code !== 0)
        throw new Error(`go build of bench/go/hog ${extra.GOOS ? '(js/wasm) ' : ''}failed:\n${tail(r.stderr)}`);
    }
    fs.writeFileSync(stamp, want + '\n');
  }
  const site = path.join(dir, 'site');
  fs.mkdirSync(site, { recursive: true });
  fs.copyFileSync(path.join(goRef.site, 'index.html'), path.join(site, 'index.html'));
  fs.copyFileSync(path.join(goRef.site, 'wasm_exec.js'), path.join(site, 'wasm_exec.js'));
  fs.copyFileSync(wasm, path.join(site, 'bench.wasm'));
  return { native, site };
}

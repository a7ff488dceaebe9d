// The TypeScript declarations of the facade (pkg/src/index.d.ts) compile against a program
// that uses the whole API, under --strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

test('pkg/src/index.d.ts type-checks a program using the API', async () => {
  const tsc = `${root}node_modules/typescript/bin/tsc`;
  const args = [
    '--noEmit',
    '--strict',
    '--target',
    'es2022',
    '--module',
    'nodenext',
    '--lib',
    'es2022,dom',
    'tests/types/use.ts',
  ];
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: root }).catch((e) => e);
  assert.equal(`${stdout}${stderr}`.trim(), '', 'tsc reported errors');
});

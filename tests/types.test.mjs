// The TypeScript declarations of the facade (pkg/src/index.d.ts), checked by the compiler
// against a sample app that uses the whole API (tests/types/app.ts), under --strict: the app
// compiles, and every misuse it marks with `// @ts-expect-error: why — what tsc says` is an
// error, on that line, whose message contains what the directive quotes after the dash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const APP = fileURLToPath(new URL('./types/app.ts', import.meta.url));

const OPTIONS = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
};

let previous; // the last program, whose unchanged files (the libs, the declarations) the next reuses

/** The diagnostics of compiling the app, its text replaced by `text` if given: `[{ file, line, message }]`. */
function check(text) {
  const host = ts.createCompilerHost(OPTIONS);
  if (text !== undefined) {
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, ...rest) =>
      name === APP ? ts.createSourceFile(name, text, version) : getSourceFile(name, version, ...rest);
  }
  const program = ts.createProgram([APP], OPTIONS, host, previous);
  previous = program;
  return ts.getPreEmitDiagnostics(program).map((d) => ({
    file: d.file?.fileName,
    line: d.file ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0,
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  }));
}

const DIRECTIVE = /^\s*\/\/ @ts-expect-error: (.*?) — (.*)$/;

test('pkg/src/index.d.ts type-checks the sample app, misuse included, under --strict', () => {
  const errors = check().map((d) => `${d.file}:${d.line}: ${d.message}`);
  assert.deepEqual(errors, [], 'tsc reported errors (an unused @ts-expect-error means a misuse compiled)');
});

test('each misuse the sample app marks is rejected on its line, for the reason its directive quotes', () => {
  const lines = readFileSync(APP, 'utf8').split('\n');
  const expected = new Map(); // the line of a misuse (1-based) → what its error must say
  lines.forEach((l, i) => {
    if (!/^\s*\/\/ @ts-expect-error/.test(l)) return;
    const m = DIRECTIVE.exec(l);
    assert.ok(m, `line ${i + 1}: a directive says "// @ts-expect-error: why — what tsc says": ${l.trim()}`);
    expected.set(i + 2, m[2]);
  });
  assert.ok(expected.size >= 30, `the app marks its misuses (${expected.size})`);
  const stripped = lines.map((l) => (DIRECTIVE.test(l) ? '' : l)).join('\n');
  const found = new Map();
  const problems = [];
  for (const d of check(stripped)) {
    if (d.file !== APP || !expected.has(d.line))
      problems.push(`${d.file}:${d.line}: not a marked misuse, yet: ${d.message}`);
    else found.set(d.line, `${found.get(d.line) ?? ''}${d.message}\n`);
  }
  for (const [line, says] of expected) {
    if (!found.has(line)) problems.push(`line ${line} compiled: ${lines[line - 1].trim()}`);
    else if (!found.get(line).includes(says)) problems.push(`line ${line}: expected "${says}" in:\n${found.get(line)}`);
  }
  assert.deepEqual(problems, []);
});

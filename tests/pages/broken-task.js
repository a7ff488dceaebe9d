// A module whose evaluation throws (tests/modtasks.test.mjs): a module task of it fails to import.
export function never() {
  return 'unreachable';
}
throw new SyntaxError('broken-task.js refuses to load');

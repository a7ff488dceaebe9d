// Child processes and the JSON-line protocol shared by every benchmark side:
// one object per line, {"name": "<workload>[.<metric>][@rN]", "value": <number>, "unit": "<unit>"}.
import { spawn } from 'node:child_process';

/**
 * Run a command to completion (or until timeoutMs, then SIGKILL that process only).
 * Resolves { code, signal, stdout, stderr, timedOut, wallMs }; never rejects on a
 * non-zero exit. `onStderr` sees stderr chunks as they arrive (for build progress).
 */
export function runProcess(cmd, args, { cwd, env, timeoutMs = 0, onStderr } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let child;
    try {
      child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: -1, signal: null, stdout: '', stderr: String(e), timedOut: false, wallMs: 0 });
      return;
    }
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(d);
    });
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, timeoutMs)
        : null;
    child.on('error', (e) => {
      stderr += String(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? -1, signal, stdout, stderr, timedOut, wallMs: performance.now() - t0 });
    });
  });
}

/** Parse metric lines out of text; other lines are returned in `other`. */
export function parseLines(text) {
  const metrics = [];
  const other = [];
  for (const line of String(text).split('\n')) {
    const o = parseMetric(line);
    if (o) metrics.push(o);
    else if (line.trim()) other.push(line);
  }
  return { metrics, other };
}

/** One line -> {name, value, unit} or null. */
export function parseMetric(line) {
  const s = line.trim();
  if (!s.startsWith('{')) return null;
  try {
    const o = JSON.parse(s);
    if (o && typeof o.name === 'string') {
      return {
        name: o.name,
        value: typeof o.value === 'number' ? o.value : Number(o.value ?? NaN),
        unit: String(o.unit ?? ''),
      };
    }
  } catch {
    /* not a metric line */
  }
  return null;
}

export const tail = (text, n = 15) => String(text).trim().split('\n').slice(-n).join('\n');

// The app's module task: the Worker that runs the goroutine imports this module by the URL the
// bundler gave it and calls the export, with no eval (so it runs under a CSP without
// 'unsafe-eval'). Self-contained: it is loaded as a file, not bundled with the app.
export async function squares(rt, ch, n) {
  for (let i = 1; i <= n; i++) await ch.send(i * i);
  ch.close();
  return n;
}

// One reader of `rt.stats()` for the whole page: it samples once per animation frame and hands
// the snapshot to every subscriber, so views stay consistent with each other.

export class StatsPoller {
  #rt;
  #onError;
  #listeners = new Set();
  #frame = 0;
  latest = null;

  constructor(rt, { onError = () => {} } = {}) {
    this.#rt = rt;
    this.#onError = onError;
  }

  /** `fn(stats, now)` runs on every frame from now on; returns a function that unsubscribes. */
  subscribe(fn) {
    this.#listeners.add(fn);
    if (this.latest) fn(this.latest, performance.now());
    return () => this.#listeners.delete(fn);
  }

  /** Samples now, outside the frame loop (e.g. right before and after a burst). */
  sample() {
    this.latest = this.#rt.stats();
    return this.latest;
  }

  start() {
    if (this.#frame) return;
    const tick = (now) => {
      try {
        const stats = this.sample();
        for (const fn of this.#listeners) fn(stats, now);
      } catch (err) {
        this.stop();
        this.#onError(err);
        return;
      }
      this.#frame = requestAnimationFrame(tick);
    };
    this.#frame = requestAnimationFrame(tick);
  }

  stop() {
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }
}

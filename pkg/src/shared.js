// Shared memory is shared: a SharedArrayBuffer (or a view on one) in a value that crosses
// goroutines arrives as the same memory, as structured clone passes it (the codec's SHARED,
// SHARED_VIEW and SHARED_IDS tags, codec/format.js).
//
// A JS object cannot live in wasm memory, so a buffer travels beside the Message that names it:
// the Message carries the buffer's id, and the buffer itself reaches every thread of the
// runtime (the page and each Worker M) by postMessage, which shares it. Each thread keeps a
// table, `SharedBuffers`, of the buffers it knows by id.
//
// The protocol:
// - Ids. A thread numbers the buffers it sends first: `prefix * 2^32 + n`, where `prefix` is
//   0 on the page and the Worker's serial number (unique on the page) on a Worker, so no two
//   threads give out the same id, with no coordination. A buffer keeps its id everywhere: one
//   that arrives here is entered under its id (a WeakMap from buffer to id, per thread), so a
//   buffer passed on, or sent back, names the same id and decodes as the very object its
//   first sender holds.
// - Publication, before the Message exists. The encoder asks for a buffer's id as it meets it
//   (`idOf`); the first time, the buffer is posted at once: from the page to every Worker, from
//   a Worker to the page, which enters it and forwards it to every other Worker (`SharedHub`).
//   So every thread has the buffer in its message queue before any Message naming it can be
//   received. A Worker started later (one that replaces a dead Worker) gets the whole table in
//   its first message, and every buffer after it, in order, from the same page turn on.
// - Arrival, before decoding. A receiving thread may take a Message before its event loop has
//   run the task that delivers the buffer. Every receive that returns a promise (a join, `recv`,
//   `for await`, `select`, a goroutine's arguments before its function is called) first reads
//   the message's table of ids (`sharedIds`) and awaits the buffers not here yet (`whenHere`),
//   which are certain to come: the sender posted them before the Message existed, and this
//   thread's event loop runs (the page never blocks; a Worker M parks without blocking it).
//   The one receive that cannot wait, `tryRecv`, gives such a message back to the channel (to
//   the next blocked receiver, else to the front of its buffer: Go's "would block" from this
//   thread, nothing lost or reordered) and reports that nothing was received; a later
//   `tryRecv`, after this thread's event loop has turned, gets it. (A JS loop that spins on
//   `tryRecv` without ever yielding never gets a buffer that is new to its thread.)
// - Lifetime. A table holds its buffers until its runtime shuts down (the page's hub is dropped
//   with the Runtime; a Worker's dies with the Worker): one entry per distinct buffer ever sent,
//   never per message. A buffer cannot be dropped earlier without knowing that no Message
//   naming it is still in flight (in a channel's buffer, a goroutine's result), and any thread
//   may send it again at any time; the memory kept is the buffer, which the sender shares
//   anyway.
// - What is not shared. The runtime's own wasm memory (a SharedArrayBuffer in the threaded
//   build) would alias the GC heap: a view on it is copied, and the buffer itself is a
//   TypeError (realm.js's `sharedHook` declines it). Only the memory's current buffer object is
//   recognized: growing the memory replaces it, and an older one would be shared like any. A
//   growable SharedArrayBuffer is a TypeError (the codec): its length-tracking views have no
//   fixed extent to send.
// - Without threads (local.js) every goroutine runs on the page's thread: the page's realm and
//   its M's share one table, and nothing is posted.

const PREFIX = 2 ** 32;

/** One thread's table of the shared buffers of one runtime (see the module header). */
export class SharedBuffers {
  #prefix;
  #next = 0;
  #publish;
  #ids = new WeakMap(); // SharedArrayBuffer → id
  #buffers = new Map(); // id → SharedArrayBuffer
  #waiting = new Map(); // id → resolve functions of `whenHere` promises

  /**
   * `prefix`: this thread's part of the ids it gives out (0 on the page). `publish(id,
   * buffer)`: posts a buffer this thread sends first to the runtime's other threads.
   */
  constructor(prefix, publish = () => {}) {
    this.#prefix = prefix;
    this.#publish = publish;
  }

  /** The id of `buffer`, given and published the first time this thread sends it. */
  idOf(buffer) {
    let id = this.#ids.get(buffer);
    if (id === undefined) {
      id = this.#prefix * PREFIX + this.#next++;
      this.#enter(id, buffer);
      this.#publish(id, buffer);
    }
    return id;
  }

  /** A buffer another thread published: whether it is new here. */
  arrived(id, buffer) {
    if (this.#buffers.has(id)) return false;
    this.#enter(id, buffer);
    const waiting = this.#waiting.get(id);
    if (waiting !== undefined) {
      this.#waiting.delete(id);
      waiting.forEach((resolve) => resolve());
    }
    return true;
  }

  /** The buffer of `id`, or undefined if it has not reached this thread. */
  buffer(id) {
    return this.#buffers.get(id);
  }

  /** Undefined if every buffer of `ids` is here; else a promise that resolves once they are. */
  whenHere(ids) {
    const missing = ids.filter((id) => !this.#buffers.has(id));
    if (missing.length === 0) return undefined;
    return Promise.all(
      missing.map(
        (id) =>
          new Promise((resolve) => {
            let waiting = this.#waiting.get(id);
            if (waiting === undefined) this.#waiting.set(id, (waiting = []));
            waiting.push(resolve);
          }),
      ),
    );
  }

  /** Every `[id, buffer]` known here, for a thread that starts later. */
  entries() {
    return [...this.#buffers];
  }

  #enter(id, buffer) {
    this.#buffers.set(id, buffer);
    this.#ids.set(buffer, id);
  }
}

/**
 * The page's table of a threaded runtime, which passes every buffer on: those the page sends
 * first to every Worker, those a Worker sends first (`fromWorker`) to every other Worker.
 */
export class SharedHub {
  #workers = new Set();
  table = new SharedBuffers(0, (id, buffer) => this.#post(id, buffer, undefined));

  /**
   * A Worker that starts: every buffer from now on is posted to it. Returns the buffers so
   * far, which the caller posts in the Worker's first message, in the same turn.
   */
  join(worker) {
    this.#workers.add(worker);
    return this.table.entries();
  }

  /** A Worker that is gone. */
  leave(worker) {
    this.#workers.delete(worker);
  }

  /** A buffer Worker `worker` published (its `{ type: 'shared', id, buffer }` message). */
  fromWorker(id, buffer, worker) {
    if (this.table.arrived(id, buffer)) this.#post(id, buffer, worker);
  }

  #post(id, buffer, except) {
    for (const w of this.#workers) if (w !== except) w.postMessage({ type: 'shared', id, buffer });
  }
}

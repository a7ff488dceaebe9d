//! Native integration tests of the garbage collector, on real threads.
//!
//! The model-based test mutates random object graphs from goroutines on several Ps and checks
//! them against a reference model of reachability: no reachable object is ever freed (freed
//! memory is clobbered, and every object carries its id and a checksum of it), and every
//! unreachable object is freed by the next full collection (each object's `Drop` removes its
//! id from a live set). Seeds are fixed; thread interleavings vary, and the checks hold for all.

use gort::gc::{self, Gc, GcCell, HeapLimitError, Root, Trace};
use gort::{gosched, Runtime};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::{count, run, thread, tree, wait_quiescent, Instant, Rng};
use gort_test_macros::test;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn checksum(id: u64) -> u64 {
    id.wrapping_mul(0xD6E8_FEB8_6659_FD93).rotate_left(17) ^ 0xA5A5_A5A5
}

/// The ids of the objects not dropped yet.
#[derive(Default)]
struct Tracker {
    live: Mutex<HashSet<u64>>,
    next: AtomicU64,
}

/// Removes its id from the tracker when dropped (by the sweep that frees its object).
struct Tag {
    id: u64,
    tracker: Arc<Tracker>,
}

impl Tag {
    fn new(tracker: &Arc<Tracker>) -> Tag {
        let id = tracker.next.fetch_add(1, Relaxed);
        tracker.live.lock().unwrap().insert(id);
        Tag { id, tracker: tracker.clone() }
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        let was = self.tracker.live.lock().unwrap().remove(&self.id);
        assert!(was, "object {} dropped twice", self.id);
    }
}

#[derive(Trace)]
struct Obj {
    id: u64,
    check: u64,
    edges: GcCell<Vec<Gc<Obj>>>,
    #[trace(skip)]
    tag: Tag,
}

impl Obj {
    fn new(tracker: &Arc<Tracker>) -> Obj {
        let tag = Tag::new(tracker);
        Obj { id: tag.id, check: checksum(tag.id), edges: GcCell::new(Vec::new()), tag }
    }

    /// The object is intact: not freed, not reused.
    fn verify(&self) {
        assert_eq!(self.check, checksum(self.id), "object {} was freed or overwritten", self.id);
        assert_eq!(self.tag.id, self.id, "object {} was freed or overwritten", self.id);
    }
}

/// A large object (its own pages) pointing into the graph.
#[derive(Trace)]
struct Big {
    pad: [u64; 5000],
    edge: Option<Gc<Obj>>,
    #[trace(skip)]
    tag: Tag,
}

// ---------------------------------------------------------------------------------------------
// Model-based property test
// ---------------------------------------------------------------------------------------------

const SLOTS: usize = 16;

/// The reference model and the real roots, updated together under one lock.
struct World {
    roots: Vec<Option<(u64, Root<Obj>)>>,
    edges: HashMap<u64, Vec<u64>>,
}

impl World {
    fn reachable(&self) -> HashSet<u64> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u64> = self.roots.iter().flatten().map(|(id, _)| *id).collect();
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(self.edges[&id].iter().copied());
            }
        }
        seen
    }

    /// The object and its edges agree with the model.
    fn check(&self, o: Gc<Obj>) {
        o.verify();
        let ids: Vec<u64> = o.edges.borrow().iter().map(|e| e.id).collect();
        assert_eq!(ids, self.edges[&o.id], "edges of object {}", o.id);
    }

    /// A reachable object: a root, then a short random walk (each step checked).
    fn pick(&self, rng: &mut Rng) -> Option<Gc<Obj>> {
        let rooted: Vec<&Root<Obj>> = self.roots.iter().flatten().map(|(_, r)| r).collect();
        if rooted.is_empty() {
            return None;
        }
        let mut o = rooted[rng.below(rooted.len())].get();
        self.check(o);
        for _ in 0..rng.below(4) {
            let next = {
                let edges = o.edges.borrow();
                if edges.is_empty() {
                    break;
                }
                edges[rng.below(edges.len())]
            };
            o = next;
            self.check(o);
        }
        Some(o)
    }

    /// Every object reachable in the heap is intact and matches the model.
    fn check_all(&self) -> usize {
        let mut seen = HashSet::new();
        let mut stack: Vec<Gc<Obj>> = self.roots.iter().flatten().map(|(_, r)| r.get()).collect();
        while let Some(o) = stack.pop() {
            if seen.insert(o.id) {
                self.check(o);
                stack.extend(o.edges.borrow().iter().copied());
            }
        }
        seen.len()
    }
}

/// One step of a worker: a random mutation of the graph, in heap and model together.
fn step(world: &Mutex<World>, tracker: &Arc<Tracker>, rng: &mut Rng) {
    let mut w = world.lock().unwrap();
    match rng.below(100) {
        0..=19 => {
            let o = Gc::new(Obj::new(tracker));
            w.edges.insert(o.id, Vec::new());
            let slot = rng.below(SLOTS);
            w.roots[slot] = Some((o.id, Gc::root(o)));
        }
        20..=44 => {
            if let Some(a) = w.pick(rng) {
                let o = Gc::new(Obj::new(tracker));
                w.edges.insert(o.id, Vec::new());
                a.edges.borrow().push(o);
                w.edges.get_mut(&a.id).unwrap().push(o.id);
            }
        }
        45..=69 => {
            if let (Some(a), Some(b)) = (w.pick(rng), w.pick(rng)) {
                a.edges.borrow().push(b);
                w.edges.get_mut(&a.id).unwrap().push(b.id);
            }
        }
        70..=89 => {
            if let Some(a) = w.pick(rng) {
                let mut edges = a.edges.borrow();
                if !edges.is_empty() {
                    let i = rng.below(edges.len());
                    edges.remove(i);
                    w.edges.get_mut(&a.id).unwrap().remove(i);
                }
            }
        }
        _ => {
            let slot = rng.below(SLOTS);
            w.roots[slot] = None;
        }
    }
}

/// Garbage: a small random graph (with cycles, and edges into the live graph), and sometimes a
/// large object; allocated outside the lock, concurrently with the other Ps.
fn litter(world: &Mutex<World>, tracker: &Arc<Tracker>, rng: &mut Rng) {
    let anchor = {
        let w = world.lock().unwrap();
        w.pick(rng)
    };
    let objs: Vec<Gc<Obj>> = (0..rng.below(12)).map(|_| Gc::new(Obj::new(tracker))).collect();
    for &o in &objs {
        o.edges.borrow().push(objs[rng.below(objs.len())]);
        if let Some(a) = anchor {
            o.edges.borrow().push(a);
        }
    }
    if rng.chance(3) {
        let big = Gc::new(Big { pad: [7; 5000], edge: anchor, tag: Tag::new(tracker) });
        assert_eq!(big.pad[4999], 7);
    }
}

fn model_run(procs: usize, seed: u64) {
    let rt = Runtime::builder().procs(procs).gc_clobber_free(true).start();
    let tracker = Arc::new(Tracker::default());
    let world =
        Arc::new(Mutex::new(World { roots: (0..SLOTS).map(|_| None).collect(), edges: HashMap::new() }));
    for phase in 0..3u64 {
        let workers: Vec<_> = (0..procs as u64 * 2)
            .map(|g| {
                let (world, tracker) = (world.clone(), tracker.clone());
                let mut rng = Rng::new(seed ^ (phase << 32) ^ (g << 16));
                rt.go(async move {
                    for i in 0..1500 {
                        step(&world, &tracker, &mut rng);
                        litter(&world, &tracker, &mut rng);
                        if rng.chance(2) {
                            gc::collect().await;
                        }
                        if i % 4 == 0 {
                            gosched().await;
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.wait().unwrap();
        }
        let (world2, tracker2) = (world.clone(), tracker.clone());
        rt.block_on(async move {
            gc::collect().await;
            let w = world2.lock().unwrap();
            let reachable = w.reachable();
            assert_eq!(w.check_all(), reachable.len(), "the heap and the model reach the same objects");
            let live = tracker2.live.lock().unwrap().clone();
            let leaked: Vec<_> = live.difference(&reachable).take(10).collect();
            assert!(leaked.is_empty(), "unreachable objects survived a full collection: {leaked:?}");
            let lost: Vec<_> = reachable.difference(&live).take(10).collect();
            assert!(lost.is_empty(), "reachable objects were freed: {lost:?}");
            let stats = gc::stats();
            assert_eq!(stats.heap_objects, reachable.len() as u64, "heap_objects after a full collection");
            assert_eq!(stats.mallocs - stats.frees, stats.heap_objects);
        })
        .unwrap();
        // Forget the model's dead objects.
        let mut w = world.lock().unwrap();
        let reachable = w.reachable();
        w.edges.retain(|id, _| reachable.contains(id));
    }
    let stats = rt.stats().gc;
    assert!(stats.num_gc >= 3 && stats.num_forced_gc >= 3, "{stats:?}");
    drop(world);
    rt.shutdown();
    assert!(tracker.live.lock().unwrap().is_empty(), "shutting down drops every object");
}

#[test]
fn model_random_graphs_on_two_ps() {
    model_run(2, 0x5EED_0001);
}

#[test]
fn model_random_graphs_on_four_ps() {
    model_run(4, 0x5EED_0002);
}

#[test]
fn model_random_graphs_on_one_p() {
    model_run(1, 0x5EED_0003);
}

/// A node of a long list, which takes marking many safepoints to get through.
#[derive(Trace)]
struct Chain {
    id: u64,
    check: u64,
    next: GcCell<Option<Gc<Chain>>>,
}

impl Chain {
    fn new(id: u64, next: Option<Gc<Chain>>) -> Gc<Chain> {
        Gc::new(Chain { id, check: checksum(id), next: GcCell::new(next) })
    }
}

/// Walks a chain, checking every node; returns the ids in order.
fn walk(mut node: Option<Gc<Chain>>) -> Vec<u64> {
    let mut ids = Vec::new();
    while let Some(n) = node {
        assert_eq!(n.check, checksum(n.id), "node {} was freed or overwritten", n.id);
        ids.push(n.id);
        node = n.next.get();
    }
    ids
}

/// Snapshot-at-the-beginning under attack: while a collection marks a long list (on one P,
/// so it marks in the safepoints between this goroutine's polls), the list is cut ahead of
/// the marker and each tail hung from an object allocated during marking (black, never
/// scanned). Only the write barrier of the cut keeps the tail alive; freed memory is
/// clobbered, so a lost node fails the walk.
#[test]
fn tails_moved_during_marking_survive() {
    const N: u64 = 200_000;
    let rt = Runtime::builder().procs(1).gc_clobber_free(true).start();
    rt.block_on(async {
        let head = {
            let mut next = None;
            for id in (0..N).rev() {
                next = Some(Chain::new(id, next));
            }
            Gc::root(next.unwrap())
        };
        gc::collect().await; // whatever building it started is over
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let collect = gort::go(async move {
            gc::collect().await;
            d.store(1, Relaxed);
        });
        gosched().await; // the collection starts at this safepoint
        let mut holders = Vec::new();
        let mut cut = N - 1000;
        while done.load(Relaxed) == 0 && cut > 1000 {
            holders.push({
                // The node at `cut`: walk there (reads only), cut after it.
                let mut node = head.get();
                for _ in 0..cut {
                    node = node.next.get().unwrap();
                }
                let tail = node.next.set(None).expect("the list is intact up to the cut");
                Gc::root(Chain::new(N + cut, Some(tail)))
            });
            cut -= 1000;
            gosched().await; // the collection marks here
        }
        collect.await.unwrap();
        assert!(holders.len() > 1, "the list was cut {} times while marking", holders.len());
        gc::collect().await;
        let mut ids = walk(Some(head.get()));
        for h in holders.iter().rev() {
            let moved = walk(Some(h.get()));
            assert_eq!(moved[0], N + moved[1] - 1);
            ids.extend(&moved[1..]);
        }
        assert_eq!(ids, (0..N).collect::<Vec<_>>());
    })
    .unwrap();
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Parallel allocation stress
// ---------------------------------------------------------------------------------------------

fn stress(procs: usize) {
    let rt = Runtime::builder().procs(procs).gc_clobber_free(true).start();
    let checked = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..procs * 3)
        .map(|_| {
            let checked = checked.clone();
            rt.go(async move {
                let long_lived = Gc::root(tree(12));
                for round in 0..40 {
                    // Garbage trees: allocation on every P at once, collections meanwhile.
                    for _ in 0..8 {
                        assert_eq!(count(tree(10)), 2047);
                    }
                    assert_eq!(count(long_lived.get()), 8191, "round {round}");
                    gosched().await;
                }
                checked.fetch_add(1, Relaxed);
            })
        })
        .collect();
    for h in handles {
        h.wait().unwrap();
    }
    assert_eq!(checked.load(Relaxed), procs * 3);
    let stats = rt.stats().gc;
    assert!(stats.num_gc > 0, "automatic collections ran: {stats:?}");
    assert_eq!(stats.num_forced_gc, 0);
    assert!(stats.pause_ns.len() as u32 == stats.num_gc.min(256));
    rt.shutdown();
}

#[test]
fn parallel_allocation_stress_two_ps() {
    stress(2);
}

#[test]
fn parallel_allocation_stress_four_ps() {
    stress(4);
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

#[test]
fn checkpoint_yields_only_when_a_collection_is_requested() {
    // One P: another goroutine runs only if this one yields.
    run(1, async {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let other = gort::go(async move {
            r.store(1, Relaxed);
        });
        for _ in 0..1000 {
            gc::checkpoint().await; // nothing allocated: no collection requested
        }
        assert_eq!(ran.load(Relaxed), 0, "checkpoint yielded without a requested collection");
        gosched().await;
        assert_eq!(ran.load(Relaxed), 1, "the other goroutine runs once this one yields");
        other.await.unwrap();
    });
}

#[test]
fn checkpoint_lets_requested_collections_in() {
    // Checkpoints between trees: collections keep up, the heap stays near its 4 MiB goal. On
    // one P, so that how far the heap passes its goal depends on what the goroutine allocates
    // alone. With a second P, the first pause and the end of marking may each wait for the
    // other M (an idle M woken to help marking) until the OS gives its thread a core back,
    // while this goroutine allocates on (for up to `RUN_ON_NS` past a request, and for as long
    // as that M holds marking work): on a loaded machine that is milliseconds, at about 1.5 MB
    // per millisecond, and the peak passed 16 MiB in about one run in twenty.
    run(1, async {
        let start = gc::stats();
        let mut peak = 0;
        for _ in 0..(64 << 20) / (2047 * 24) {
            assert_eq!(count(tree(10)), 2047);
            peak = peak.max(gc::stats().heap_inuse);
            gc::checkpoint().await;
        }
        let paced = gc::stats();
        assert!(paced.num_gc >= start.num_gc + 4, "{paced:?}");
        assert!(peak <= 16 << 20, "peak in use {peak} with a 4 MiB goal");
    });
    run(2, async {
        // One long poll: the heap passes its goal many times over, but no collection starts.
        let start = gc::stats();
        for _ in 0..(64 << 20) / (2047 * 24) {
            assert_eq!(count(tree(10)), 2047);
        }
        let held_off = gc::stats();
        assert_eq!(held_off.num_gc, start.num_gc, "a collection ran in the middle of a poll");
        assert!(held_off.heap_inuse >= start.heap_inuse + (32 << 20), "{held_off:?}");
        // The requested collection starts at a checkpoint: at once, or once the other M has
        // acknowledged it (at most `RUN_ON_NS` later, if that M's thread is descheduled); it
        // marks while this goroutine runs, at the checkpoints that follow (each yields while it
        // marks), and ends.
        let deadline = Instant::now() + Duration::from_secs(10);
        while gc::stats().num_gc == held_off.num_gc && Instant::now() < deadline {
            gc::checkpoint().await;
        }
        assert!(gc::stats().num_gc > held_off.num_gc);
    });
}

// ---------------------------------------------------------------------------------------------
// Heap limit
// ---------------------------------------------------------------------------------------------

#[derive(Trace)]
struct Link {
    next: Option<Gc<Link>>,
    payload: [u64; 6],
}

#[test]
fn heap_limit_failure_and_recovery() {
    const LIMIT: usize = 8 << 20;
    let rt = Runtime::builder().procs(2).heap_limit(LIMIT).start();
    rt.block_on(async {
        // Fill the heap with a rooted list until an allocation fails.
        let mut head: Option<Root<Link>> = None;
        let mut n = 0u64;
        let err: HeapLimitError = loop {
            let next = head.as_ref().map(|r| r.get());
            match gc::alloc(Link { next, payload: [n; 6] }) {
                Ok(l) => head = Some(Gc::root(l)),
                Err(e) => break e,
            }
            n += 1;
            if n.is_multiple_of(4096) {
                gosched().await; // let requested collections run
            }
        };
        assert!(err.to_string().contains("heap limit"), "{err}");
        assert_eq!(err.limit, LIMIT);
        assert!(n as usize * 64 > LIMIT / 2, "only {n} objects fit");
        let stats = gc::stats();
        assert!(stats.heap_inuse as usize <= LIMIT, "{stats:?}");
        // At the limit with everything live, alloc_root collects, retries and still fails.
        let again = gc::alloc_root(Link { next: None, payload: [0; 6] }).await;
        assert!(again.is_err());
        assert!(gc::stats().num_forced_gc >= 1);
        // The list is intact.
        let mut len = 0;
        let mut cur = head.as_ref().map(|r| r.get());
        while let Some(l) = cur {
            assert_eq!(l.payload[0], n - 1 - len);
            len += 1;
            cur = l.next;
        }
        assert_eq!(len, n);
        // Drop it, collect: allocation works again, the runtime is fine.
        drop(head);
        gc::collect().await;
        let mut keep = Vec::new();
        for i in 0..50_000u64 {
            keep.push(Gc::root(Gc::new(Link { next: None, payload: [i; 6] })));
        }
        assert_eq!(keep[49_999].get().payload[5], 49_999);
    })
    .unwrap();
    rt.shutdown();
}

#[test]
fn alloc_root_collects_garbage_at_the_limit_and_retries() {
    const LIMIT: usize = 6 << 20;
    // No automatic collection: the heap fills with garbage up to the limit.
    let rt = Runtime::builder().procs(2).heap_limit(LIMIT).gc_percent(-1).start();
    rt.block_on(async {
        let keep = gc::alloc_root(Link { next: None, payload: [42; 6] }).await.unwrap();
        let anchor = keep.get();
        loop {
            // Garbage that points at the rooted object.
            if gc::alloc(Link { next: Some(anchor), payload: [0; 6] }).is_err() {
                break;
            }
        }
        assert_eq!(gc::stats().num_gc, 0);
        // This value holds a Gc across the collection that alloc_root forces.
        let pending = gc::alloc_root(Link { next: Some(keep.get()), payload: [1; 6] });
        let root = pending.await.expect("a collection makes room");
        assert_eq!(root.get().next.unwrap().payload, [42; 6]);
        let stats = gc::stats();
        assert_eq!((stats.num_gc, stats.num_forced_gc), (1, 1));
    })
    .unwrap();
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Statistics, derive shapes, figures
// ---------------------------------------------------------------------------------------------

#[derive(Trace)]
enum Shape {
    Leaf(u32),
    Pair(Gc<Obj>, Option<Gc<Obj>>),
    Named {
        items: Vec<Gc<Obj>>,
        #[trace(skip)]
        label: String,
    },
    Empty,
}

#[derive(Trace)]
struct Generic<T, const N: usize> {
    items: [T; N],
}

#[derive(Trace)]
struct Unit;

#[test]
fn derive_handles_enums_generics_and_skipped_fields() {
    const {
        assert!(<Shape as Trace>::NEEDS_TRACE);
        assert!(!<Generic<u8, 3> as Trace>::NEEDS_TRACE);
        assert!(<Generic<Gc<Obj>, 3> as Trace>::NEEDS_TRACE);
        assert!(!<Unit as Trace>::NEEDS_TRACE);
    }
    let rt = Runtime::builder().procs(2).gc_clobber_free(true).start();
    let tracker = Arc::new(Tracker::default());
    let t = tracker.clone();
    rt.block_on(async move {
        let shapes: Vec<Root<Shape>> = vec![
            Gc::root(Gc::new(Shape::Leaf(1))),
            Gc::root(Gc::new(Shape::Pair(Gc::new(Obj::new(&t)), Some(Gc::new(Obj::new(&t)))))),
            Gc::root(Gc::new(Shape::Named { items: vec![Gc::new(Obj::new(&t))], label: "x".into() })),
            Gc::root(Gc::new(Shape::Empty)),
        ];
        let generic = Gc::root(Gc::new(Generic { items: [Gc::new(Obj::new(&t)), Gc::new(Obj::new(&t))] }));
        gc::collect().await;
        assert_eq!(t.live.lock().unwrap().len(), 5);
        match &*shapes[1].get() {
            Shape::Pair(a, Some(b)) => {
                a.verify();
                b.verify();
            }
            _ => unreachable!(),
        }
        match &*shapes[2].get() {
            Shape::Named { items, label } => {
                items[0].verify();
                assert_eq!(label, "x");
            }
            _ => unreachable!(),
        }
        generic.get().items.iter().for_each(|o| o.verify());
        drop(shapes);
        gc::collect().await;
        assert_eq!(t.live.lock().unwrap().len(), 2);
        drop(generic);
        gc::collect().await;
        assert_eq!(t.live.lock().unwrap().len(), 0);
    })
    .unwrap();
    rt.shutdown();
}

#[test]
fn stats_and_roots_from_outside() {
    let rt = Runtime::builder().procs(2).gctrace(true).start();
    // A root travels out of the runtime and back in.
    let root = rt.block_on(async { Gc::root(Gc::new(Link { next: None, payload: [9; 6] })) }).unwrap();
    let r2 = root.clone();
    thread::spawn(move || drop(r2)).join().unwrap();
    let before = rt.stats().gc;
    assert_eq!(before.heap_objects, 1);
    assert!(before.heap_sys >= 4 << 20 && before.heap_inuse >= 8192, "{before:?}");
    let back = rt
        .block_on(async move {
            gc::collect().await;
            gc::collect().await;
            root.get().payload
        })
        .unwrap();
    assert_eq!(back, [9; 6]);
    wait_quiescent(&rt);
    let s = rt.stats().gc;
    assert_eq!((s.num_gc, s.num_forced_gc, s.pause_ns.len()), (2, 2, 2));
    assert_eq!(s.pause_total_ns, s.pause_ns.iter().sum::<u64>());
    assert!(s.last_gc_unix_ns > 0 && s.gc_cpu_fraction >= 0.0 && s.gc_cpu_fraction < 1.0);
    assert_eq!(s.heap_objects, 1, "dropped with its goroutine, but not collected yet: {s:?}");
    assert_eq!(s.next_gc, 4 << 20, "minimum goal");
    rt.shutdown();
}

#[test]
#[should_panic(expected = "outside a goroutine")]
fn allocation_outside_a_goroutine_panics() {
    Gc::new(Unit);
}

/// Prints the pause for a ~10 MB live heap of 16-byte nodes and the allocation rate.
#[test]
fn figures_pause_and_allocation() {
    for procs in [1, 2] {
        run(procs, async move {
            // 2^19 - 1 nodes of 16 bytes (+ 8 header = 24-byte class): 12 MiB live.
            let live = Gc::root(tree(18));
            gc::collect().await;
            let mut pauses = Vec::new();
            for _ in 0..5 {
                gc::collect().await;
                pauses.push(*gc::stats().pause_ns.last().unwrap());
            }
            pauses.sort();
            assert_eq!(count(live.get()), (1 << 19) - 1);
            drop(live);
            gc::collect().await;
            // Garbage-only heap: allocation rate and the pause when nothing is live.
            let t = Instant::now();
            let n = 20u64 << 20;
            let mut i = 0;
            while i < n {
                tree(10);
                i += 2047;
                gosched().await; // a safepoint: collections run between polls
            }
            let ns_per_alloc = t.elapsed().as_nanos() as f64 / i as f64;
            let s = gc::stats();
            eprintln!(
                "figures, {procs} P: pause with 12 MiB live of 16-byte nodes: median {:.3} ms (min {:.3}, max {:.3}); \
                 allocation {ns_per_alloc:.1} ns per 16-byte node; {} collections, last pause {:.3} ms",
                pauses[2] as f64 / 1e6,
                pauses[0] as f64 / 1e6,
                pauses[4] as f64 / 1e6,
                s.num_gc,
                *s.pause_ns.last().unwrap() as f64 / 1e6
            );
        });
    }
}

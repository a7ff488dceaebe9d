//! binary-trees, bench.go's `gc` and `gcparallel` workloads, over gort's garbage-collected heap
//! (`gort::gc`): nodes are `Gc<Node>` objects, the long-lived tree is held by a `Root`.
//!
//! Depths, tree counts and checks are bench.go's: a stretch tree of depth MAX_DEPTH + 1 built
//! and checked, a long-lived tree of depth MAX_DEPTH, then for d = MIN_DEPTH, MIN_DEPTH + 2, ..,
//! MAX_DEPTH, 2^(MAX_DEPTH - d + MIN_DEPTH) trees of depth d built and checked, then the
//! long-lived tree checked. Every check sum is compared with bench.go's formula (a tree of
//! depth d has 2^(d+1) - 1 nodes); a wrong one panics, as bench.go does.
//!
//! Collections start only between polls (`gort::gc`'s rooting rules): where Go preempts a
//! goroutine at any function call, ours must reach a checkpoint. The workload awaits
//! `gc::checkpoint()` after every tree, and a tree deeper than `GRAIN` is built as its
//! subtrees of depth `GRAIN` (2047 nodes each, one poll each, rooted meanwhile) with a
//! checkpoint after each, then joined under their parents in one poll (and checked the same
//! way, a subtree per poll): the same tree, so that a collection requested while another
//! goroutine builds a depth-16 tree does not wait for all of it (that wait is part of the
//! pause, which starts when the first M with a goroutine to run stops). A checkpoint costs
//! two loads when no collection is requested or marking (`gc.checkpoint_ns` with `--stats`
//! measures it); otherwise the goroutine yields, and its M joins the pause or does its share
//! of the marking.
//!
//! Statistics are bench.go's: like its `main`, each workload starts after a forced collection,
//! and the figures are deltas over the workload: `num_gc`, `pause_total`, `pause_max` over the
//! workload's collections (the last min(n, 256) pauses), `heap_sys_peak` and `heap_inuse_peak`
//! (HeapInuse: pages in spans) sampled after the stretch tree and after each depth row (gc) or
//! at the end (gcparallel), inside the timing. gort also reports `heap_alloc_peak` (bytes of
//! allocated objects, live or not yet swept) sampled at the same points.

use crate::clock::{ms, Stamp};
use crate::metric::Metric;
use gort::gc::{self, Gc, GcStats, Trace};

/// bench.go's `treesMinDepth`.
pub const MIN_DEPTH: u32 = 4;
/// bench.go's `treesMaxDepth` (the stretch tree is one deeper).
pub const MAX_DEPTH: u32 = 16;

/// bench.go's `node{l, r *node}`: both children or none.
#[derive(Trace)]
struct Node {
    l: Option<Gc<Node>>,
    r: Option<Gc<Node>>,
}

/// bench.go's `bottomUp`: a complete tree of depth `d` (children before their parent).
fn bottom_up(d: u32) -> Gc<Node> {
    if d == 0 {
        return Gc::new(Node { l: None, r: None });
    }
    let l = bottom_up(d - 1);
    let r = bottom_up(d - 1);
    Gc::new(Node { l: Some(l), r: Some(r) })
}

/// Trees deeper than this are built `GRAIN` levels per poll (module header).
const GRAIN: u32 = 10;

/// `bottom_up(d)` with a checkpoint after every subtree of depth `GRAIN` (module header).
async fn bottom_up_checkpointed(d: u32) -> gc::Root<Node> {
    if d <= GRAIN {
        return Gc::root(bottom_up(d));
    }
    let mut subtrees = Vec::with_capacity(1 << (d - GRAIN));
    for _ in 0..1u32 << (d - GRAIN) {
        subtrees.push(Gc::root(bottom_up(GRAIN)));
        gc::checkpoint().await;
    }
    let mut level: Vec<Gc<Node>> = subtrees.iter().map(gc::Root::get).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| Gc::new(Node { l: Some(p[0]), r: Some(p[1]) })).collect();
    }
    Gc::root(level[0])
}

/// bench.go's `check`: the nodes of the tree.
fn check(n: &Node) -> u64 {
    match (n.l, n.r) {
        (Some(l), Some(r)) => 1 + check(&l) + check(&r),
        _ => 1,
    }
}

/// `check` of a tree of depth `d` with a checkpoint after each subtree of depth `GRAIN`: the
/// nodes above them are counted in one poll, the subtrees (rooted meanwhile) one poll each.
async fn check_checkpointed(tree: &gc::Root<Node>, d: u32) -> u64 {
    if d <= GRAIN {
        return check(&tree.get());
    }
    let subtrees: Vec<gc::Root<Node>> = {
        let mut level = vec![tree.get()];
        for _ in 0..d - GRAIN {
            level = level.iter().flat_map(|n| [n.l, n.r]).map(|c| c.expect("a complete tree")).collect();
        }
        level.into_iter().map(Gc::root).collect()
    };
    let mut sum = (1 << (d - GRAIN)) - 1; // the nodes above the subtrees
    for t in &subtrees {
        gc::checkpoint().await;
        sum += check(&t.get());
    }
    sum
}

/// Builds and checks a tree of depth `d` (in one poll and without a root when it is shallow).
async fn build_and_check(d: u32) -> u64 {
    if d <= GRAIN {
        return check(&bottom_up(d));
    }
    check_checkpointed(&bottom_up_checkpointed(d).await, d).await
}

/// Nodes in a tree of depth `d`.
fn nodes(d: u32) -> u64 {
    (1 << (d + 1)) - 1
}

/// The depths of a run: `min`, `min + 2`, .., `max` for the rows; `max + 1` for the stretch
/// tree. The workloads use bench.go's (MIN_DEPTH, MAX_DEPTH); tests use smaller ones.
#[derive(Clone, Copy, Debug)]
pub struct Depths {
    pub min: u32,
    pub max: u32,
}

impl Depths {
    pub const ANCHOR: Depths = Depths { min: MIN_DEPTH, max: MAX_DEPTH };

    fn rows(self) -> impl Iterator<Item = u32> {
        (self.min..=self.max).step_by(2)
    }

    /// Trees of depth `d` in its row: 2^(max - d + min).
    fn iters(self, d: u32) -> u64 {
        1 << (self.max - d + self.min)
    }
}

/// bench.go's `treesCheckSum`: builds and checks `iters` trees of depth `d`, one checkpoint
/// after each; panics unless the sum is bench.go's `treesWant`.
async fn row(iters: u64, d: u32) -> u64 {
    let mut sum = 0;
    for _ in 0..iters {
        sum += build_and_check(d).await;
        gc::checkpoint().await;
    }
    assert_eq!(sum, iters * nodes(d), "binary-trees: bad check of the row of depth {d}");
    sum
}

/// The peaks of the heap figures sampled so far (bench.go's `sampleHeap`).
#[derive(Default)]
struct Peaks {
    sys: u64,
    inuse: u64,
    alloc: u64,
}

impl Peaks {
    fn sample(&mut self) {
        let s = gc::stats();
        self.sys = self.sys.max(s.heap_sys);
        self.inuse = self.inuse.max(s.heap_inuse);
        self.alloc = self.alloc.max(s.heap_alloc);
    }
}

/// Builds and checks the stretch tree, samples the heap, then builds the long-lived tree, as
/// bench.go does; returns the long-lived tree, rooted.
async fn stretch_and_long(depths: Depths, peaks: &mut Peaks) -> gc::Root<Node> {
    let stretch = build_and_check(depths.max + 1).await;
    assert_eq!(stretch, nodes(depths.max + 1), "binary-trees: bad check of the stretch tree");
    peaks.sample();
    gc::checkpoint().await;
    let long = bottom_up_checkpointed(depths.max).await;
    gc::checkpoint().await;
    long
}

/// bench.go's `gcReport`: the figures of `name` since `before`, with the sampled `peaks`.
/// diag: `<name>.pause_p50` ms over the workload's collections, `<name>.checkpoint_ns`.
async fn finish(name: &str, before: &GcStats, el: u64, mut peaks: Peaks, diag: bool) -> Vec<Metric> {
    let now = gc::stats();
    peaks.sys = peaks.sys.max(now.heap_sys); // bench.go adds HeapSys at the end (never shrinks)
    let n = now.num_gc - before.num_gc;
    let pauses = || now.pause_ns.iter().rev().take(n.min(256) as usize);
    let max_pause = pauses().copied().max().unwrap_or(0);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let mut out = vec![
        Metric::new(format!("{name}.wall"), ms(el), "ms"),
        Metric::new(format!("{name}.num_gc"), n as f64, "count"),
        Metric::new(format!("{name}.pause_total"), ms(now.pause_total_ns - before.pause_total_ns), "ms"),
        Metric::new(format!("{name}.pause_max"), ms(max_pause), "ms"),
        Metric::new(format!("{name}.heap_sys_peak"), mib(peaks.sys), "MiB"),
        Metric::new(format!("{name}.heap_inuse_peak"), mib(peaks.inuse), "MiB"),
        Metric::new(format!("{name}.heap_alloc_peak"), mib(peaks.alloc), "MiB"),
    ];
    if diag {
        let mut sorted: Vec<u64> = pauses().copied().collect();
        sorted.sort_unstable();
        let p50 = sorted.get(sorted.len() / 2).map_or(f64::NAN, |&p| ms(p));
        out.push(Metric::new(format!("{name}.pause_p50"), p50, "ms"));
        out.push(Metric::new(format!("{name}.checkpoint_ns"), checkpoint_ns().await, "ns"));
    }
    out
}

/// What an awaited `gc::checkpoint()` costs when no collection runs (nothing
/// allocates meanwhile), in ns: measured after the workload's timing, with `--stats`.
async fn checkpoint_ns() -> f64 {
    const N: u32 = 100_000;
    let t = Stamp::now();
    for _ in 0..N {
        gc::checkpoint().await;
    }
    t.elapsed_ns() as f64 / N as f64
}

/// bench.go's `benchGC`: binary-trees in this goroutine; heap sampled after the stretch tree
/// and after each row. Must run in a goroutine.
pub async fn binary_trees(depths: Depths, diag: bool) -> Vec<Metric> {
    gc::collect().await; // bench.go's main collects before every workload
    let mut peaks = Peaks::default();
    let before = gc::stats();
    let start = Stamp::now();
    let long = stretch_and_long(depths, &mut peaks).await;
    for d in depths.rows() {
        row(depths.iters(d), d).await;
        peaks.sample();
    }
    let lc = check_checkpointed(&long, depths.max).await;
    let el = start.elapsed_ns();
    assert_eq!(lc, nodes(depths.max), "binary-trees: bad check of the long-lived tree");
    finish("gc", &before, el, peaks, diag).await
}

/// bench.go's `benchGCParallel`: the same, with each row in its own goroutine (the stretch and
/// long-lived trees in this one); heap sampled after the stretch tree and at the end.
pub async fn binary_trees_parallel(depths: Depths, diag: bool) -> Vec<Metric> {
    gc::collect().await;
    let mut peaks = Peaks::default();
    let before = gc::stats();
    let start = Stamp::now();
    let long = stretch_and_long(depths, &mut peaks).await;
    let rows: Vec<_> = depths.rows().map(|d| gort::go(row(depths.iters(d), d))).collect();
    for r in rows {
        r.await.expect("gcparallel: a row's goroutine failed");
    }
    let lc = check_checkpointed(&long, depths.max).await;
    let el = start.elapsed_ns();
    assert_eq!(lc, nodes(depths.max), "binary-trees: bad check of the long-lived tree");
    peaks.sample();
    finish("gcparallel", &before, el, peaks, diag).await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Small depths: 5 rows of about 2^17 nodes each against a 4 MiB heap goal.
    const SMALL: Depths = Depths { min: 4, max: 12 };

    fn assert_collected(name: &str, out: &[Metric]) {
        let get = |m: &str| {
            out.iter().find(|x| x.name == format!("{name}.{m}")).unwrap_or_else(|| panic!("{m}: {out:?}")).value
        };
        assert!(get("num_gc") >= 2.0, "collections ran at the checkpoints: {out:?}");
        assert!(get("pause_max") > 0.0 && get("pause_max") <= get("pause_total"), "{out:?}");
        assert!(get("heap_inuse_peak") > 0.0 && get("heap_inuse_peak") <= get("heap_sys_peak"), "{out:?}");
        assert!(get("checkpoint_ns") > 0.0, "{out:?}");
    }

    #[test]
    fn small_binary_trees_check_and_collect() {
        let rt = gort::Runtime::builder().procs(2).start();
        let seq = rt.block_on(binary_trees(SMALL, true)).unwrap();
        let par = rt.block_on(binary_trees_parallel(SMALL, true)).unwrap();
        rt.shutdown();
        assert_collected("gc", &seq);
        assert_collected("gcparallel", &par);
    }

    #[test]
    fn rows_are_bench_gos() {
        let d = Depths::ANCHOR;
        let rows: Vec<(u32, u64)> = d.rows().map(|r| (r, d.iters(r))).collect();
        assert_eq!(rows, [(4, 65536), (6, 16384), (8, 4096), (10, 1024), (12, 256), (14, 64), (16, 16)]);
        assert_eq!(nodes(MAX_DEPTH + 1), 262_143);
    }
}

//! An app built on gort: Rust goroutines count primes for JavaScript, over channels that JS
//! goroutines and the page use too (README.md here says how it is built and run).
//!
//! The page starts gort's runtime over this module (`Runtime.start({ wasm: './wasm/primes.js'
//! })`) and calls its entry points with `rt.goRust(name, ...args)`. Each decodes its
//! arguments as typed Rust values (a `TypeError` naming the argument otherwise) and starts a
//! Rust goroutine whose result `join()` resolves to, as a JS value:
//!
//! - `primeWorkers(jobs, results, workers)`: `workers` Rust goroutines take numbers `n` from
//!   `jobs` (a JS goroutine feeds it) until it is closed, and send `{ n, count, proc }` (the
//!   primes below `n`, and the P that counted them) on `results`, which the page reads with
//!   `for await`; `results` is closed once all are done. Resolves to the number of jobs done;
//!   a job that is not a u32 fails the goroutine, naming what it got.
//! - `primesBelow(limit)`: a generator. Resolves at once to a channel made in Rust, on which a
//!   goroutine sends every prime below `limit`, then closes it.
//! - `squares(out, n)`: the README's example; `echo(value)`: `value` as Rust read it.
//!
//! Natively the crate is empty: it is a wasm app.
#![cfg(target_arch = "wasm32")]

use gort::value::Value;
use gort::{JoinRef, JsChan, Message, RuntimeCore};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_name = primeWorkers)]
pub fn prime_workers(core: &RuntimeCore, args: Message) -> Result<JoinRef, JsValue> {
    let (jobs, results, workers): (JsChan, JsChan, u32) = args.decode_args()?;
    if workers == 0 {
        return Err(js_sys::RangeError::new("primeWorkers: workers must be at least 1").into());
    }
    Ok(core.go_value(async move {
        let handles: Vec<_> = (0..workers).map(|_| gort::go(work(jobs.clone(), results.clone()))).collect();
        let mut done = 0u32;
        let mut failure = None;
        for h in handles {
            match h.await {
                Ok(Ok(n)) => done += n,
                Ok(Err(e)) => failure = failure.or(Some(e)),
                Err(e) => failure = failure.or(Some(e.to_string())),
            }
        }
        // The page's `for await` ends here; a worker that failed left the others to finish.
        let _ = results.close();
        failure.map_or(Ok(done), Err)
    }))
}

/// The largest job (its sieve takes that many bytes).
const MAX_JOB: u32 = 50_000_000;

/// One worker: counts the primes below each job's number until `jobs` is closed; how many
/// jobs it did.
async fn work(jobs: JsChan, results: JsChan) -> Result<u32, String> {
    let mut done = 0;
    while let Some(n) = jobs.recv::<u32>().await.map_err(|e| format!("a job: {e}"))? {
        if n > MAX_JOB {
            return Err(format!("a job: {n} is past {MAX_JOB}"));
        }
        let count = count_primes_below(n);
        let proc = gort::procid().map_or(Value::Null, |p| Value::Number(p as f64));
        let result = Value::object([
            ("n", Value::Number(n.into())),
            ("count", Value::Number(count.into())),
            ("proc", proc),
        ]);
        results.send(result).await.map_err(|e| e.to_string())?;
        done += 1;
        // A long count shares its P with the other goroutines.
        gort::gosched().await;
    }
    Ok(done)
}

#[wasm_bindgen(js_name = primesBelow)]
pub fn primes_below(core: &RuntimeCore, args: Message) -> Result<JoinRef, JsValue> {
    let (limit,): (u32,) = args.decode_args()?;
    Ok(core.go_value(async move {
        let primes = JsChan::new(16);
        let out = primes.clone();
        gort::go(async move {
            for p in (2..limit).filter(|&p| is_prime(p)) {
                if out.send(p).await.is_err() {
                    return; // the page closed it: nobody wants more
                }
            }
            let _ = out.close();
        });
        primes
    }))
}

fn is_prime(n: u32) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d))
}

/// The number of primes below `n` (a sieve of Eratosthenes).
fn count_primes_below(n: u32) -> u32 {
    let n = n as usize;
    if n < 3 {
        return 0;
    }
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            if let Some(start) = i.checked_mul(i) {
                (start..n).step_by(i).for_each(|j| composite[j] = true);
            }
        }
    }
    count
}

/// The README's example of the bridge: sends the squares below `n` on `out`, closes it, and
/// ends with a text.
#[wasm_bindgen(js_name = squares)]
pub fn squares(core: &RuntimeCore, args: Message) -> Result<JoinRef, JsValue> {
    // A TypeError naming the argument otherwise: "argument 2: expected a u32 …, got a string".
    let (out, n): (JsChan, u32) = args.decode_args()?;
    Ok(core.go_value(async move {
        for i in 0..n {
            out.send(i * i).await.map_err(|e| e.to_string())?; // a JS number
        }
        out.close().map_err(|e| e.to_string())?;
        Ok::<_, String>(format!("{n} sent")) // join() resolves to it; an Err rejects join()
    }))
}

/// `rt.goRust('echo', value)`: resolves to `value` as Rust read it (a [`Value`]) and wrote it
/// back: what the bridge keeps of a JS value.
#[wasm_bindgen]
pub fn echo(core: &RuntimeCore, args: Message) -> Result<JoinRef, JsValue> {
    let (value,): (Value,) = args.decode_args()?;
    Ok(core.go_value(async move { value }))
}

//! Go's channel, `select` and timer semantics, case by case, on real threads.
//!
//! Two kinds of test: operations driven by hand on the test thread (futures polled once with a
//! no-op waker, so the order of events is exactly the one written), and goroutines on 1, 2 and
//! 4 Ps. Waits on the runtime are bounded polls that fail with a message instead of hanging;
//! time appears only where timing is the point, with generous bounds.

use gort::chan::{chan, Chan, CloseError, Select, SelectFuture, SendError, TryRecvError, TrySendError};
use gort::time::{after, sleep, Ticker};
use gort::{JoinError, JoinHandle, Runtime};
use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

mod common;
use common::{deadlock_report, go_blocked, poll, rt, run, thread, wait_until, Instant};
use gort_test_macros::test;

/// One goroutine per value of `vs`, each started once the previous one is blocked sending its
/// value on `c` (so they queue in that order).
fn blocked_senders<T: Send + 'static>(
    rt: &Runtime,
    c: &Chan<T>,
    vs: impl IntoIterator<Item = T>,
) -> Vec<JoinHandle<Result<(), SendError<T>>>> {
    vs.into_iter()
        .map(|v| {
            let c = c.clone();
            go_blocked(rt, "chan send", async move { c.send(v).await })
        })
        .collect()
}

/// `n` goroutines, each started once the previous one is blocked receiving on `c`.
fn blocked_receivers<T: Send + 'static>(rt: &Runtime, c: &Chan<T>, n: usize) -> Vec<JoinHandle<Option<T>>> {
    (0..n)
        .map(|_| {
            let c = c.clone();
            go_blocked(rt, "chan receive", async move { c.recv().await })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Unbuffered channels
// ---------------------------------------------------------------------------------------------

/// A send on an unbuffered channel completes only once a receiver has come for the value, and
/// values arrive in the order sent.
#[test]
fn unbuffered_send_waits_for_its_receiver_and_keeps_order() {
    for procs in [1, 2, 4] {
        run(procs, async {
            const N: usize = 2_000;
            let c = chan::<usize>(0);
            // The receiver announces each receive before making it.
            let receiving = Arc::new(AtomicUsize::new(0));
            let (rx, r) = (c.clone(), receiving.clone());
            let receiver = gort::go(async move {
                sleep(Duration::from_millis(5)).await; // the first send surely waits
                for i in 0..N {
                    r.store(i + 1, SeqCst);
                    assert_eq!(rx.recv().await, Some(i), "FIFO order");
                    if i % 100 == 0 {
                        gort::gosched().await;
                    }
                }
            });
            for i in 0..N {
                c.send(i).await.unwrap();
                let r = receiving.load(SeqCst);
                assert!(r > i, "send {i} completed before any receiver came for it (receiving = {r})");
            }
            receiver.await.unwrap();
        });
    }
}

#[test]
fn unbuffered_try_operations_need_a_waiting_partner() {
    let c = chan::<u32>(0);
    assert_eq!(c.cap(), 0);
    assert_eq!(c.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(c.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(c.len(), 0);

    // A blocked receiver takes a try_send directly.
    let mut r = c.recv();
    assert!(poll(&mut r).is_pending());
    assert_eq!(c.try_send(7), Ok(()));
    assert_eq!(poll(&mut r), Poll::Ready(Some(7)));
    assert_eq!(c.try_send(8), Err(TrySendError::Full(8)), "the receiver is gone");

    // A blocked sender gives its value to a try_recv, and its send completes.
    let mut s = c.send(9);
    assert!(poll(&mut s).is_pending());
    assert_eq!(c.len(), 0, "an unbuffered channel buffers nothing");
    assert_eq!(c.try_recv(), Ok(9));
    assert_eq!(poll(&mut s), Poll::Ready(Ok(())));
    assert_eq!(c.try_recv(), Err(TryRecvError::Empty));
}

// ---------------------------------------------------------------------------------------------
// Buffered channels
// ---------------------------------------------------------------------------------------------

#[test]
fn buffered_fifo_len_cap_and_full() {
    let c = chan::<u32>(3);
    assert_eq!((c.len(), c.cap(), c.is_empty()), (0, 3, true));
    for v in 1..=3 {
        assert_eq!(c.try_send(v), Ok(()));
        assert_eq!(c.len(), v as usize);
    }
    assert_eq!(c.try_send(4), Err(TrySendError::Full(4)), "full: the value comes back");
    assert_eq!(c.len(), 3);
    let mut s = c.send(4);
    assert!(poll(&mut s).is_pending(), "a send on a full buffer waits");
    assert_eq!(c.len(), 3);
    // Receiving from the full buffer lets the blocked sender's value in at the tail.
    assert_eq!(c.try_recv(), Ok(1));
    assert_eq!(poll(&mut s), Poll::Ready(Ok(())));
    assert_eq!(c.len(), 3);
    for v in 2..=4 {
        assert_eq!(c.try_recv(), Ok(v));
    }
    assert_eq!(c.try_recv(), Err(TryRecvError::Empty));
    assert!(c.is_empty());
}

/// Several senders blocked on a full buffer: each receive lets in the first of them, whose value
/// lands at the tail; the values come out in send order.
#[test]
fn buffered_blocked_senders_enter_in_arrival_order() {
    for procs in [1, 4] {
        let rt = rt(procs);
        let c = chan::<u32>(2);
        let _hold = rt.hold(&c);
        c.try_send(0).unwrap();
        c.try_send(1).unwrap();
        let senders = blocked_senders(&rt, &c, 2..6);
        let got = rt
            .block_on(async move {
                let mut got = Vec::new();
                for _ in 0..6 {
                    got.push(c.recv().await.unwrap());
                    assert!(c.len() <= 2, "the buffer never holds more than cap");
                }
                got
            })
            .unwrap();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 5], "on {procs} Ps");
        for h in senders {
            h.wait().unwrap().unwrap();
        }
        rt.shutdown();
    }
}

#[test]
fn buffered_channel_streams_between_goroutines() {
    for procs in [1, 2, 4] {
        let sum = run(procs, async {
            let c = chan::<u64>(16);
            let tx = c.clone();
            gort::go(async move {
                for i in 0..20_000u64 {
                    tx.send(i).await.unwrap();
                }
                tx.close().unwrap();
            });
            let (mut sum, mut next) = (0, 0);
            while let Some(v) = c.recv().await {
                assert_eq!(v, next, "FIFO");
                next += 1;
                sum += v;
            }
            sum
        });
        assert_eq!(sum, 20_000 * 19_999 / 2);
    }
}

// ---------------------------------------------------------------------------------------------
// Close
// ---------------------------------------------------------------------------------------------

#[test]
fn close_drains_the_buffer_then_reports_closed() {
    let c = chan::<String>(3);
    c.try_send("a".into()).unwrap();
    c.try_send("b".into()).unwrap();
    assert!(!c.is_closed());
    c.close().unwrap();
    assert!(c.is_closed());

    let err = c.close().unwrap_err();
    assert_eq!(err, CloseError);
    assert_eq!(err.to_string(), "close of closed channel");

    assert_eq!(c.try_send("c".into()), Err(TrySendError::Closed("c".into())));
    let mut s = c.send("d".into());
    match poll(&mut s) {
        Poll::Ready(Err(e)) => {
            assert_eq!(e.to_string(), "send on closed channel");
            assert_eq!(e, SendError("d".to_string()), "the value comes back");
            assert_eq!(e.0, "d");
        }
        other => panic!("send on a closed channel: {:?}", other.map(|r| r.map_err(|e| e.0))),
    }

    assert_eq!(c.len(), 2);
    assert_eq!(c.try_recv().as_deref(), Ok("a"));
    let mut r = c.recv();
    assert_eq!(poll(&mut r).map(|v| v.unwrap()), Poll::Ready("b".to_string()));
    for _ in 0..3 {
        let mut r = c.recv();
        assert_eq!(poll(&mut r), Poll::Ready(None), "closed and drained");
        assert_eq!(c.try_recv(), Err(TryRecvError::Closed));
    }
}

#[test]
fn close_wakes_every_blocked_receiver_with_none() {
    for procs in [1, 2, 4] {
        let rt = rt(procs);
        let c = chan::<u32>(0);
        let _hold = rt.hold(&c);
        let receivers = blocked_receivers(&rt, &c, 6);
        c.close().unwrap();
        for h in receivers {
            assert_eq!(h.wait().unwrap(), None, "on {procs} Ps");
        }
        rt.shutdown();
    }
}

#[test]
fn close_wakes_every_blocked_sender_with_its_value() {
    for procs in [1, 2, 4] {
        for cap in [0, 2] {
            let rt = rt(procs);
            let c = chan::<u32>(cap);
            let _hold = rt.hold(&c);
            for v in 0..cap as u32 {
                c.try_send(100 + v).unwrap();
            }
            let senders = blocked_senders(&rt, &c, 0..5);
            c.close().unwrap();
            for (v, h) in senders.into_iter().enumerate() {
                assert_eq!(h.wait().unwrap(), Err(SendError(v as u32)), "on {procs} Ps, cap {cap}");
            }
            // What was buffered before the close is still delivered.
            for v in 0..cap as u32 {
                assert_eq!(c.try_recv(), Ok(100 + v));
            }
            assert_eq!(c.try_recv(), Err(TryRecvError::Closed));
            rt.shutdown();
        }
    }
}

/// try_send and try_recv on a buffered channel in every state: empty, partly full, full,
/// closed with values, closed and drained.
#[test]
fn try_operations_in_every_state() {
    let c = chan::<u32>(2);
    assert_eq!(c.try_recv(), Err(TryRecvError::Empty)); // empty
    assert_eq!(c.try_send(1), Ok(())); // partly full
    assert_eq!(c.try_send(2), Ok(())); // full
    assert_eq!(c.try_send(3), Err(TrySendError::Full(3)));
    assert_eq!(c.try_recv(), Ok(1));
    assert_eq!(c.try_send(3), Ok(()));
    c.close().unwrap(); // closed with values
    assert_eq!(c.try_send(4), Err(TrySendError::Closed(4)));
    assert_eq!(c.try_recv(), Ok(2));
    assert_eq!(c.try_recv(), Ok(3));
    assert_eq!(c.try_recv(), Err(TryRecvError::Closed)); // closed and drained
    assert_eq!(c.try_send(5), Err(TrySendError::Closed(5)));
}

// ---------------------------------------------------------------------------------------------
// Waiter queues
// ---------------------------------------------------------------------------------------------

#[test]
fn blocked_receivers_are_served_in_arrival_order() {
    for procs in [1, 2, 4] {
        let rt = rt(procs);
        let c = chan::<usize>(0);
        let _hold = rt.hold(&c);
        let receivers = blocked_receivers(&rt, &c, 8);
        for i in 0..8 {
            c.try_send(i).unwrap_or_else(|_| panic!("receiver {i} is waiting"));
        }
        let got: Vec<usize> = receivers.into_iter().map(|h| h.wait().unwrap().unwrap()).collect();
        assert_eq!(got, (0..8).collect::<Vec<_>>(), "on {procs} Ps");
        rt.shutdown();
    }
}

#[test]
fn blocked_senders_are_served_in_arrival_order() {
    let rt = rt(2);
    let c = chan::<usize>(0);
    let _hold = rt.hold(&c);
    let senders = blocked_senders(&rt, &c, 0..8);
    let got: Vec<usize> = (0..8).map(|_| c.try_recv().unwrap()).collect();
    assert_eq!(got, (0..8).collect::<Vec<_>>());
    senders.into_iter().for_each(|h| h.wait().unwrap().unwrap());
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Abandoned operations
// ---------------------------------------------------------------------------------------------

/// A receive that was handed a value and then dropped before reading it gives the value back:
/// to the next blocked receiver, else to the front of the buffer.
#[test]
fn dropped_receive_gives_its_value_back() {
    // Unbuffered, nobody else waiting: the value waits in the channel for the next receiver.
    let c = chan::<u32>(0);
    let mut r = c.recv();
    assert!(poll(&mut r).is_pending());
    c.try_send(7).unwrap();
    drop(r);
    assert_eq!(c.try_recv(), Ok(7));
    assert_eq!(c.try_recv(), Err(TryRecvError::Empty));

    // Another receiver is blocked: it gets the value.
    let (mut r1, mut r2) = (c.recv(), c.recv());
    assert!(poll(&mut r1).is_pending());
    assert!(poll(&mut r2).is_pending());
    c.try_send(8).unwrap();
    drop(r1);
    assert_eq!(poll(&mut r2), Poll::Ready(Some(8)));

    // Buffered: the value goes back in front of the ones sent after it.
    let c = chan::<u32>(1);
    let mut r = c.recv();
    assert!(poll(&mut r).is_pending());
    c.try_send(1).unwrap();
    c.try_send(2).unwrap();
    drop(r);
    assert_eq!(c.try_recv(), Ok(1));
    assert_eq!(c.try_recv(), Ok(2));

    // Dropped while waiting and never handed anything: withdrawn, so a later send is not lost.
    let mut r = c.recv();
    assert!(poll(&mut r).is_pending());
    drop(r);
    c.try_send(3).unwrap();
    assert_eq!(c.try_recv(), Ok(3));
}

/// A value given back to an unbuffered channel does not make room for a blocked sender: its
/// send completes only when a receiver takes its own value.
#[test]
fn given_back_value_does_not_complete_a_blocked_unbuffered_send() {
    let c = chan::<u32>(0);
    let mut r = c.recv();
    assert!(poll(&mut r).is_pending());
    c.try_send(1).unwrap();
    drop(r); // 1 goes back into the channel
    let mut s = c.send(2);
    assert!(poll(&mut s).is_pending());
    assert_eq!(c.try_recv(), Ok(1));
    assert!(poll(&mut s).is_pending(), "nobody has received 2 yet");
    assert_eq!(c.try_recv(), Ok(2));
    assert_eq!(poll(&mut s), Poll::Ready(Ok(())));
}

/// A blocked send that is dropped withdraws: no receiver gets its value afterwards.
#[test]
fn dropped_send_is_withdrawn() {
    let c = chan::<u32>(0);
    let mut s = c.send(1);
    assert!(poll(&mut s).is_pending());
    drop(s);
    assert_eq!(c.try_recv(), Err(TryRecvError::Empty));
    let mut r = c.recv();
    assert!(poll(&mut r).is_pending());
    c.try_send(2).unwrap();
    assert_eq!(poll(&mut r), Poll::Ready(Some(2)));
}

// ---------------------------------------------------------------------------------------------
// select
// ---------------------------------------------------------------------------------------------

/// Counts how often each of `k` always-ready receive cases is taken over `trials` selects.
async fn select_shares(k: usize, trials: usize) -> Vec<usize> {
    let chans: Vec<Chan<usize>> = (0..k).map(|_| chan(1)).collect();
    for (i, c) in chans.iter().enumerate() {
        c.try_send(i).unwrap();
    }
    let mut counts = vec![0; k];
    for _ in 0..trials {
        let i = match k {
            2 => gort::select! {
                recv(chans[0]) -> v => v.unwrap(),
                recv(chans[1]) -> v => v.unwrap(),
            },
            3 => gort::select! {
                recv(chans[0]) -> v => v.unwrap(),
                recv(chans[1]) -> v => v.unwrap(),
                recv(chans[2]) -> v => v.unwrap(),
            },
            _ => unreachable!(),
        };
        counts[i] += 1;
        chans[i].try_send(i).unwrap(); // ready again
    }
    counts
}

#[test]
fn select_chooses_uniformly_among_ready_cases() {
    let two = run(1, select_shares(2, 10_000));
    for &n in &two {
        assert!((4_000..=6_000).contains(&n), "2 ready cases over 10,000 selects: {two:?}");
    }
    let three = run(2, select_shares(3, 12_000));
    for &n in &three {
        assert!((3_000..=5_000).contains(&n), "3 ready cases over 12,000 selects: {three:?}");
    }
}

#[test]
fn select_chooses_uniformly_among_ready_send_cases() {
    let counts = run(1, async {
        let (a, b) = (chan::<u8>(1), chan::<u8>(1));
        let mut counts = [0usize; 2];
        for _ in 0..10_000 {
            gort::select! {
                send(a, 0) -> r => r.unwrap(),
                send(b, 1) -> r => r.unwrap(),
            }
            // Exactly one case ran: one channel holds a value, the other is still empty.
            let i = match (a.try_recv(), b.try_recv()) {
                (Ok(0), Err(TryRecvError::Empty)) => 0,
                (Err(TryRecvError::Empty), Ok(1)) => 1,
                other => panic!("a select sent on {other:?}"),
            };
            counts[i] += 1;
        }
        counts
    });
    for n in counts {
        assert!((4_000..=6_000).contains(&n), "{counts:?}");
    }
}

#[test]
fn select_takes_default_only_when_nothing_is_ready() {
    run(2, async {
        let (a, b) = (chan::<u32>(1), chan::<u32>(0));
        for _ in 0..100 {
            let took_default = gort::select! {
                recv(a) -> _v => false,
                recv(b) -> _v => false,
                default => true,
            };
            assert!(took_default, "nothing is ready");
        }
        // A full buffer: its send case is not ready, the receive is.
        a.try_send(1).unwrap();
        for _ in 0..100 {
            let got = gort::select! {
                send(a, 5) -> _r => panic!("sent to a full buffer"),
                recv(b) -> _v => panic!("received from an empty unbuffered channel"),
                default => "default",
            };
            assert_eq!(got, "default");
        }
        for _ in 0..1_000 {
            let got = gort::select! {
                recv(a) -> v => v,
                recv(b) -> _v => panic!("b is not ready"),
                default => panic!("default taken while a case was ready"),
            };
            assert_eq!(got, Some(1));
            a.try_send(1).unwrap();
        }
        // A closed channel is always ready.
        b.close().unwrap();
        let got = gort::select! {
            recv(b) -> v => v,
            default => Some(99),
        };
        assert_eq!(got, None);
    });
}

#[test]
fn select_nil_cases_are_never_ready() {
    run(2, async {
        let nil: Option<Chan<u32>> = None;
        let ready = chan::<u32>(1);
        for _ in 0..100 {
            let got = gort::select! {
                recv(nil) -> _v => panic!("received from a nil channel"),
                send(nil, 1) -> _r => panic!("sent on a nil channel"),
                default => "default",
            };
            assert_eq!(got, "default");
        }
        for i in 0..1_000 {
            ready.try_send(i).unwrap();
            let got = gort::select! {
                recv(nil) -> _v => panic!("received from a nil channel"),
                send(nil, 1) -> _r => panic!("sent on a nil channel"),
                recv(ready) -> v => v.unwrap(),
            };
            assert_eq!(got, i);
        }
        // Through the builder: `None` as an Option<&Chan>.
        let mut sel = Select::new();
        let nil_case = sel.recv(None::<&Chan<u32>>);
        let ready_case = sel.recv(&ready);
        ready.try_send(5).unwrap();
        let mut out = sel.wait().await;
        assert_ne!(out.index(), Some(nil_case.index()));
        assert_eq!(out.index(), Some(ready_case.index()));
        assert_eq!(out.recv(ready_case), Some(5));
    });
}

/// A select with only nil cases and no default blocks forever, shown as Go shows `select {}`.
#[test]
fn select_with_only_nil_cases_blocks_forever() {
    let rt = rt(2);
    // A sleeper keeps a timer pending, so this is not yet a deadlock.
    let sleeper = rt.go(async { sleep(Duration::from_millis(300)).await });
    let blocked = go_blocked(&rt, "select (no cases)", async {
        let nil: Option<Chan<u32>> = None;
        gort::select! {
            recv(nil) -> _v => {},
        }
    });
    assert!(!blocked.is_finished());
    sleeper.wait().unwrap();
    // Now nothing can wake it: a deadlock.
    match blocked.wait() {
        Err(JoinError::Deadlock { dump, .. }) => {
            assert!(dump.contains("[select (no cases)]"), "{dump}");
        }
        other => panic!("expected a deadlock report, got {other:?}"),
    }
    rt.shutdown();
}

/// Two goroutines selecting on sending to and receiving from the same channel pair up with
/// each other; on an unbuffered channel a select never receives its own value.
#[test]
fn select_send_and_receive_on_the_same_channel() {
    for procs in [1, 2, 4] {
        for cap in [0, 10] {
            run(procs, async move {
                let c = chan::<usize>(cap);
                let wg = gort::sync::WaitGroup::new();
                for me in 0..2 {
                    wg.add(1).unwrap();
                    let (c, wg) = (c.clone(), wg.clone());
                    gort::go(async move {
                        for _ in 0..1_000 {
                            gort::select! {
                                send(c, me) -> r => r.unwrap(),
                                recv(c) -> v => {
                                    let v = v.unwrap();
                                    assert!(cap > 0 || v != me, "goroutine {me} received its own value");
                                },
                            }
                        }
                        wg.done().unwrap();
                    });
                }
                wg.wait().await;
            });
        }
    }
    // And against plain operations: a plain receiver takes the select's send, a plain sender
    // feeds its receive.
    run(2, async {
        let c = chan::<u32>(0);
        let c2 = c.clone();
        let peer = gort::go(async move {
            assert_eq!(c2.recv().await, Some(1));
            c2.send(2).await.unwrap();
        });
        for want in ["sent", "received"] {
            let got = gort::select! {
                send(c, 1) -> r => { r.unwrap(); "sent" },
                recv(c) -> v => { assert_eq!(v, Some(2)); "received" },
            };
            assert_eq!(got, want);
        }
        peer.await.unwrap();
    });
}

/// A send case on a closed channel is ready and gives its value back; a channel may appear in
/// several cases of one select.
#[test]
fn select_send_on_closed_and_repeated_channels() {
    run(2, async {
        let (open, closed) = (chan::<String>(0), chan::<String>(0));
        closed.close().unwrap();
        let back = gort::select! {
            send(open, "never".to_string()) -> _r => panic!("nobody receives on open"),
            send(closed, "mine".to_string()) -> r => r.unwrap_err(),
        };
        assert_eq!(back, SendError("mine".to_string()));

        let c = chan::<u32>(0);
        let c2 = c.clone();
        let tx = gort::go(async move {
            for v in 0..100 {
                c2.send(v).await.unwrap();
            }
        });
        let mut counts = [0; 2];
        for want in 0..100 {
            let (i, v) = gort::select! {
                recv(c) -> v => (0, v),
                recv(c) -> v => (1, v),
            };
            assert_eq!(v, Some(want));
            counts[i] += 1;
        }
        tx.await.unwrap();
        assert_eq!(counts.iter().sum::<usize>(), 100);
    });
}

/// A plain send of `v` on `c` reaches a receiving goroutine.
async fn send_to_a_receiver(c: &Chan<u32>, v: u32) {
    let c2 = c.clone();
    let rx = gort::go(async move { c2.recv().await });
    c.send(v).await.unwrap();
    assert_eq!(rx.await.unwrap(), Some(v));
}

/// A plain receive on `c` gets the `v` a goroutine sends.
async fn recv_from_a_sender(c: &Chan<u32>, v: u32) {
    let c2 = c.clone();
    let tx = gort::go(async move { c2.send(v).await });
    assert_eq!(c.recv().await, Some(v));
    tx.await.unwrap().unwrap();
}

/// After a select completes, its losing cases are gone from their channels: a later send on a
/// losing receive case's channel finds no receiver (so it is not handed to the finished
/// select and lost), and a losing send case's value is not delivered.
#[test]
fn losing_cases_leave_no_stale_waiters() {
    for procs in [1, 2, 4] {
        run(procs, async {
            let (a, b, c) = (chan::<u32>(0), chan::<u32>(0), chan::<u32>(0));
            for round in 0..200 {
                let a2 = a.clone();
                let feeder = gort::go(async move {
                    a2.send(round).await.unwrap();
                });
                let got = gort::select! {
                    recv(a) -> v => v.unwrap(),
                    recv(b) -> _v => panic!("b has no sender"),
                    send(c, 1000 + round) -> _r => panic!("c has no receiver"),
                };
                assert_eq!(got, round);
                feeder.await.unwrap();
                assert_eq!(b.try_send(1), Err(TrySendError::Full(1)), "a stale receiver on b");
                assert_eq!(c.try_recv(), Err(TryRecvError::Empty), "a stale sender on c");
            }
            // The channels still work normally with plain operations.
            send_to_a_receiver(&b, 42).await;
            recv_from_a_sender(&c, 43).await;
        });
    }
}

/// A waiting select that is dropped withdraws all its cases; if a receive case had already been
/// handed a value, the value goes back to its channel.
#[test]
fn dropped_select_withdraws_and_gives_values_back() {
    /// A select receiving on `a` or sending `v` on `b`, polled once: waiting on both.
    fn waiting<'a>(a: &'a Chan<u32>, b: &'a Chan<u32>, v: u32) -> SelectFuture<'a> {
        let mut sel = Select::new();
        sel.recv(a);
        sel.send(b, v);
        let mut fut = sel.wait();
        assert!(poll(&mut fut).is_pending());
        fut
    }
    let (a, b) = (chan::<u32>(0), chan::<u32>(0));

    // Dropped before anything happened: both cases withdrawn.
    drop(waiting(&a, &b, 5));
    assert_eq!(a.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(b.try_recv(), Err(TryRecvError::Empty));

    // Dropped after a sender completed its receive case: the value is not lost.
    let fut = waiting(&a, &b, 5);
    assert_eq!(a.try_send(2), Ok(()), "the select's receive takes it");
    assert_eq!(b.try_recv(), Err(TryRecvError::Empty), "the select already chose a");
    drop(fut);
    assert_eq!(a.try_recv(), Ok(2), "the value went back to a");
    assert_eq!(b.try_recv(), Err(TryRecvError::Empty));

    // Dropped after a receiver completed its send case: that send happened.
    let fut = waiting(&a, &b, 6);
    assert_eq!(b.try_recv(), Ok(6));
    drop(fut);
    assert_eq!(a.try_send(3), Err(TrySendError::Full(3)));
}

/// The same through goroutines: a select with a timeout case loses to the timer; the channel it
/// also waited on still delivers its next value to a plain receive.
#[test]
fn select_timeout_then_channel_still_works() {
    for procs in [1, 2] {
        run(procs, async {
            let c = chan::<u32>(0);
            let timed_out = gort::select! {
                recv(c) -> _v => false,
                recv(after(Duration::from_millis(10))) -> t => { assert!(t.is_some()); true },
            };
            assert!(timed_out);
            recv_from_a_sender(&c, 9).await;
        });
    }
}

/// Selects on both ends: many goroutines ping values through selects over a set of channels;
/// every value is delivered exactly once.
#[test]
fn select_many_to_many_delivers_every_value_once() {
    for procs in [2, 4] {
        let seen = run(procs, async {
            let chans: Vec<Chan<u32>> = vec![chan(0), chan(0), chan(3)];
            let mut senders = Vec::new();
            for s in 0..4u32 {
                let chans = chans.clone();
                senders.push(gort::go(async move {
                    for i in 0..500u32 {
                        let v = s * 1_000 + i;
                        gort::select! {
                            send(chans[0], v) -> r => r.unwrap(),
                            send(chans[1], v) -> r => r.unwrap(),
                            send(chans[2], v) -> r => r.unwrap(),
                        }
                    }
                }));
            }
            let mut receivers = Vec::new();
            for _ in 0..3 {
                let chans = chans.clone();
                receivers.push(gort::go(async move {
                    // Go's idiom: a closed and drained channel's case becomes a nil channel.
                    let mut live: Vec<Option<Chan<u32>>> = chans.into_iter().map(Some).collect();
                    let mut got = Vec::new();
                    while live.iter().any(Option::is_some) {
                        let (i, v) = gort::select! {
                            recv(live[0]) -> v => (0, v),
                            recv(live[1]) -> v => (1, v),
                            recv(live[2]) -> v => (2, v),
                        };
                        match v {
                            Some(v) => got.push(v),
                            None => live[i] = None,
                        }
                    }
                    got
                }));
            }
            for s in senders {
                s.await.unwrap();
            }
            chans.iter().for_each(|c| c.close().unwrap());
            let mut all = Vec::new();
            for r in receivers {
                all.extend(r.await.unwrap());
            }
            all
        });
        let mut seen = seen;
        seen.sort_unstable();
        let want: Vec<u32> = (0..4).flat_map(|s| (0..500).map(move |i| s * 1_000 + i)).collect();
        let missing: Vec<_> = want.iter().filter(|v| seen.binary_search(v).is_err()).collect();
        assert!(missing.is_empty(), "on {procs} Ps: {} values never received: {missing:?}", missing.len());
        assert_eq!(seen.len(), want.len(), "on {procs} Ps: some values were received twice");
    }
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

#[test]
fn sleeps_complete_in_deadline_order() {
    for procs in [1, 2] {
        let order = run(procs, async {
            let order = Arc::new(Mutex::new(Vec::new()));
            let start = Instant::now();
            // Started latest-deadline first; 40 ms apart, far more than a scheduling hiccup.
            let hs: Vec<_> = [4u64, 1, 3, 0, 2]
                .into_iter()
                .map(|k| {
                    let order = order.clone();
                    gort::go(async move {
                        let d = Duration::from_millis(10 + 40 * k);
                        sleep(d).await;
                        assert!(start.elapsed() >= d, "woke before its deadline");
                        order.lock().unwrap().push(k);
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            let v = order.lock().unwrap().clone();
            v
        });
        assert_eq!(order, vec![0, 1, 2, 3, 4], "on {procs} Ps");
    }
}

#[test]
fn many_sleeps_never_wake_early() {
    run(4, async {
        let hs: Vec<_> = (0..200u64)
            .map(|i| {
                gort::go(async move {
                    let d = Duration::from_micros(i * 397 % 30_000);
                    let t = Instant::now();
                    sleep(d).await;
                    assert!(t.elapsed() >= d);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
}

#[test]
fn after_delivers_once() {
    run(2, async {
        let start = Instant::now();
        let t = after(Duration::from_millis(20));
        assert_eq!(t.cap(), 1);
        let at = t.recv().await.expect("after delivers a time");
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(at.elapsed() < Duration::from_secs(10));
        sleep(Duration::from_millis(40)).await;
        assert_eq!(t.try_recv(), Err(TryRecvError::Empty), "after delivers only once");
    });
}

#[test]
fn ticker_ticks_at_its_period_and_stops() {
    run(2, async {
        let period = Duration::from_millis(10);
        let start = Instant::now();
        let ticker = Ticker::new(period);
        for _ in 0..5 {
            ticker.c.recv().await.expect("a tick");
        }
        let took = start.elapsed();
        assert!(took >= period * 5 - Duration::from_millis(1), "5 ticks in {took:?}");
        assert!(took < Duration::from_secs(5), "5 ticks in {took:?}");
        sleep(period * 3).await; // a tick waits in the channel (cap 1)
        ticker.stop();
        // Go 1.23's rule: no tick from before the stop is received after it.
        assert_eq!(ticker.c.try_recv(), Err(TryRecvError::Empty), "a stale tick after stop");
        sleep(period * 5).await;
        assert_eq!(ticker.c.try_recv(), Err(TryRecvError::Empty), "a tick after stop");
        assert!(!ticker.c.is_closed(), "stop does not close the channel, as in Go");
    });
}

// ---------------------------------------------------------------------------------------------
// Deadlock reports
// ---------------------------------------------------------------------------------------------

#[test]
fn deadlock_on_channel_receive_send_and_select() {
    for procs in [1, 2] {
        let (id, text) = deadlock_report(procs, async {
            let c = chan::<u32>(0);
            c.recv().await
        });
        assert!(text.contains(&format!("goroutine {id} [chan receive]:")), "{text}");

        let (id, text) = deadlock_report(procs, async {
            let c = chan::<u32>(1);
            c.send(1).await.unwrap();
            c.send(2).await
        });
        assert!(text.contains(&format!("goroutine {id} [chan send]:")), "{text}");

        let (id, text) = deadlock_report(procs, async {
            let (a, b) = (chan::<u32>(0), chan::<u32>(0));
            gort::select! {
                recv(a) -> v => v,
                send(b, 1) -> _r => None,
            }
        });
        assert!(text.contains(&format!("goroutine {id} [select]:")), "{text}");
    }
}

/// Every blocked goroutine is listed, not just the one joined.
#[test]
fn deadlock_report_lists_every_blocked_goroutine() {
    let rt = rt(2);
    let c = chan::<u32>(0);
    let c2 = c.clone();
    let other = go_blocked(&rt, "chan send", async move { c2.send(1).await.map_err(|e| e.0) });
    let d = chan::<u32>(0);
    let main = rt.go(async move { d.recv().await });
    let text = main.wait().unwrap_err().to_string();
    assert!(text.contains(&format!("goroutine {} [chan send]:", other.id())), "{text}");
    assert!(text.contains("[chan receive]:"), "{text}");
    assert!(matches!(other.wait(), Err(JoinError::Deadlock { .. })));
    rt.shutdown();
}

/// `Runtime::hold`: goroutines blocked on a channel that the test thread holds are not reported
/// deadlocked (the test thread may still wake them); once the guard is dropped, they are.
#[test]
fn held_channel_defers_the_deadlock_report_until_the_hold_is_dropped() {
    // A deadlock reported to a joiner, or to the goroutine it joins (which may be reported
    // alone before the joiner blocks).
    fn deadlocked(r: &Result<Result<Option<u32>, JoinError>, JoinError>) -> bool {
        matches!(r, Err(JoinError::Deadlock { .. }) | Ok(Err(JoinError::Deadlock { .. })))
    }
    // Every M idle: the last one to go idle looked for a deadlock just before parking.
    fn settle(rt: &Runtime) {
        wait_until(Duration::from_secs(20), "every M to go idle", || rt.stats().idle_procs == rt.procs());
        thread::sleep(Duration::from_millis(20));
    }
    fn receiver(c: &Chan<u32>) -> impl Future<Output = Option<u32>> + Send + 'static {
        let c = c.clone();
        async move { c.recv().await }
    }
    for procs in [1, 2] {
        // Not held: joining a receiver that only the test thread could serve is a deadlock.
        // (A reported goroutine stays blocked, so the runtime and channel are not reused.)
        let unheld = rt(procs);
        let c = chan::<u32>(0);
        let rx = unheld.go(receiver(&c));
        let joined = unheld.block_on(rx);
        assert!(deadlocked(&joined), "on {procs} Ps, not held: {joined:?}");
        unheld.shutdown();

        // Held: the same receiver and joiner wait, unreported, until the test thread sends.
        let rt = rt(procs);
        let c = chan::<u32>(0);
        let hold = rt.hold(&c);
        let rx = go_blocked(&rt, "chan receive", receiver(&c));
        let joiner = rt.go(rx);
        settle(&rt);
        assert!(!joiner.is_finished(), "on {procs} Ps: reported deadlocked while the channel is held");
        assert_eq!(c.try_send(7), Ok(()));
        assert_eq!(joiner.wait().unwrap().unwrap(), Some(7), "on {procs} Ps");

        // Dropped: the next look (when the Ms go idle again, here after a goroutine starts to
        // join the receiver) reports the deadlock.
        let rx = go_blocked(&rt, "chan receive", receiver(&c));
        settle(&rt);
        assert!(!rx.is_finished(), "on {procs} Ps: reported deadlocked while the channel is held");
        drop(hold);
        let joined = rt.block_on(rx);
        assert!(deadlocked(&joined), "on {procs} Ps, after the hold was dropped: {joined:?}");
        rt.shutdown();
    }
}

#[test]
fn no_deadlock_report_while_a_timer_is_pending() {
    for procs in [1, 2] {
        let v = run(procs, async {
            let c = chan::<u32>(0);
            let c2 = c.clone();
            gort::go(async move {
                sleep(Duration::from_millis(100)).await;
                c2.send(5).await.unwrap();
            });
            c.recv().await
        });
        assert_eq!(v, Some(5));
        // A select whose only way out is a timer.
        let v = run(procs, async {
            let c = chan::<u32>(0);
            gort::select! {
                recv(c) -> _v => 0,
                recv(after(Duration::from_millis(50))) -> _t => 1,
            }
        });
        assert_eq!(v, 1);
    }
}

/// A long pipeline through unbuffered channels, with a busy goroutine beside it: work keeps
/// flowing, so no report, however often Ms go idle meanwhile.
#[test]
fn no_deadlock_report_while_work_flows() {
    for procs in [1, 2, 4] {
        let sum = run(procs, async {
            const N: u64 = 20_000;
            let src = chan::<u64>(0);
            let mut prev = src.clone();
            for _ in 0..4 {
                let (input, output) = (prev, chan::<u64>(0));
                prev = output.clone();
                gort::go(async move {
                    while let Some(v) = input.recv().await {
                        output.send(v + 1).await.unwrap();
                    }
                    output.close().unwrap();
                });
            }
            gort::go(async move {
                for i in 0..N {
                    src.send(i).await.unwrap();
                }
                src.close().unwrap();
            });
            // A goroutine that computes for a while without blocking.
            let busy = gort::go(async {
                let mut x = 1u64;
                for i in 0..2_000_000u64 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
                    if i % 100_000 == 0 {
                        gort::gosched().await;
                    }
                }
                x
            });
            let mut sum = 0;
            while let Some(v) = prev.recv().await {
                sum += v;
            }
            busy.await.unwrap();
            sum
        });
        assert_eq!(sum, (0..20_000u64).map(|i| i + 4).sum::<u64>(), "on {procs} Ps");
    }
}

use gort::chan::chan;
use gort::Runtime;

#[test]
fn pingpong_and_select() {
    let rt = Runtime::builder().procs(2).start();
    let n = rt
        .block_on(async {
            let (a, b) = (chan::<u64>(0), chan::<u64>(0));
            let (a2, b2) = (a.clone(), b.clone());
            gort::go(async move {
                while let Some(v) = a2.recv().await {
                    b2.send(v + 1).await.unwrap();
                }
            });
            let mut v = 0;
            for _ in 0..100_000 {
                a.send(v).await.unwrap();
                v = b.recv().await.unwrap();
            }
            a.close().unwrap();
            // select over two producers
            let (c1, c2) = (chan::<u32>(0), chan::<u32>(0));
            for c in [c1.clone(), c2.clone()] {
                gort::go(async move {
                    for _ in 0..10_000 {
                        c.send(1).await.unwrap();
                    }
                });
            }
            let (mut x, mut y) = (0, 0);
            for _ in 0..20_000 {
                gort::select! {
                    recv(c1) -> v => x += v.unwrap(),
                    recv(c2) -> v => y += v.unwrap(),
                }
            }
            assert_eq!(x + y, 20_000);
            v
        })
        .unwrap();
    assert_eq!(n, 100_000);
}

#[test]
fn deadlock_is_reported_to_block_on() {
    let rt = Runtime::builder().procs(2).start();
    let err = rt
        .block_on(async {
            let c = chan::<u32>(0);
            let c2 = c.clone();
            gort::go(async move {
                c2.send(1).await.unwrap();
                c2.send(2).await.unwrap();
            });
            c.recv().await;
            c.recv().await;
            c.recv().await
        })
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("all goroutines are asleep - deadlock!"), "{text}");
    assert!(text.contains("[chan receive]"), "{text}");
}

#[test]
fn waitgroup_and_mutex() {
    let rt = Runtime::builder().procs(2).start();
    let total = rt
        .block_on(async {
            let wg = gort::sync::WaitGroup::new();
            let m = std::sync::Arc::new(gort::sync::Mutex::new(0u64));
            for _ in 0..100 {
                wg.add(1).unwrap();
                let (wg, m) = (wg.clone(), m.clone());
                gort::go(async move {
                    for _ in 0..100 {
                        *m.lock().await += 1;
                        gort::gosched().await;
                    }
                    wg.done().unwrap();
                });
            }
            wg.wait().await;
            assert!(wg.done().is_err());
            let v = *m.lock().await;
            v
        })
        .unwrap();
    assert_eq!(total, 10_000);
}

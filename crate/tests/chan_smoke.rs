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

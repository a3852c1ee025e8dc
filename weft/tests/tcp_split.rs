//! A stream read and written from two tasks at once, and a reader and a
//! writer of one stream woken separately.

mod net_util;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) =
        futures_lite::future::zip(TcpStream::connect(addr), listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

#[test]
fn owned_halves_on_two_tasks() {
    net_util::each_backend("owned halves", Duration::from_secs(30), |_| async {
        let (a, b) = pair().await;
        let (mut ar, mut aw) = a.into_split();
        let (mut br, mut bw) = b.into_split();
        const N: usize = 4 << 20;
        // a writes N bytes while b writes N bytes; both read concurrently.
        let t1 = weft::spawn(async move {
            aw.write_all(&vec![1u8; N]).await.unwrap();
            aw
        });
        let t2 = weft::spawn(async move {
            bw.write_all(&vec![2u8; N]).await.unwrap();
            bw
        });
        let t3 = weft::spawn(async move {
            let mut buf = vec![0u8; N];
            br.read_exact(&mut buf).await.unwrap();
            assert!(buf.iter().all(|&x| x == 1));
            br
        });
        let mut buf = vec![0u8; N];
        ar.read_exact(&mut buf).await.unwrap();
        assert!(buf.iter().all(|&x| x == 2));
        let aw = t1.await.unwrap();
        let bw = t2.await.unwrap();
        let br = t3.await.unwrap();
        // Halves go back together; mismatched halves are refused.
        let err = ar.reunite(bw).unwrap_err();
        let (ar, bw) = (err.0, err.1);
        ar.reunite(aw).unwrap();
        br.reunite(bw).unwrap();
    });
}

#[test]
fn borrowed_halves_in_one_task() {
    net_util::each_backend("borrowed halves", Duration::from_secs(30), |_| async {
        let (mut a, mut b) = pair().await;
        let (mut ar, mut aw) = a.split();
        let (mut br, mut bw) = b.split();
        let fut_a = async {
            aw.write_all(&[7u8; 100_000]).await.unwrap();
            let mut buf = vec![0u8; 100_000];
            ar.read_exact(&mut buf).await.unwrap();
            buf
        };
        let fut_b = async {
            let mut buf = vec![0u8; 100_000];
            br.read_exact(&mut buf).await.unwrap();
            bw.write_all(&buf).await.unwrap();
        };
        let (buf, ()) = futures_lite::future::zip(fut_a, fut_b).await;
        assert!(buf.iter().all(|&x| x == 7));
    });
}

/// Counts how often the inner future is polled.
struct Counted<F> {
    polls: Arc<AtomicUsize>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn reader_and_writer_woken_separately() {
    net_util::each_backend("separate wakeups", Duration::from_secs(30), |_| async {
        let (a, b) = pair().await;
        let a = Arc::new(a);
        // Fill a's send buffer (and b's receive buffer) until a write would block.
        let mut filled = 0usize;
        loop {
            match a.try_write(&[0u8; 65_536]) {
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        let reads = Arc::new(AtomicUsize::new(0));
        let writes = Arc::new(AtomicUsize::new(0));
        let ra = a.clone();
        let reader = weft::spawn(Counted {
            polls: reads.clone(),
            inner: Box::pin(async move {
                let mut buf = [0u8; 1];
                (&*ra).read(&mut buf).await.unwrap()
            }),
        });
        let wa = a.clone();
        let writer = weft::spawn(Counted {
            polls: writes.clone(),
            inner: Box::pin(async move { (&*wa).write(&[9u8; 10]).await.unwrap() }),
        });
        // Let both run to Pending.
        for _ in 0..10 {
            weft::task::yield_now().await;
        }
        let (r0, w0) = (reads.load(SeqCst), writes.load(SeqCst));
        assert_eq!((r0, w0), (1, 1), "both polled once, then waiting");
        // Drain b: a becomes writable; only the writer may run.
        let mut b = b;
        let mut sink = vec![0u8; filled];
        b.read_exact(&mut sink).await.unwrap();
        let n = writer.await.unwrap();
        assert_eq!(n, 10);
        for _ in 0..10 {
            weft::task::yield_now().await;
        }
        assert_eq!(reads.load(SeqCst), 1, "the reader was woken by writability");
        // Now make a readable: only then does the reader run.
        b.write_all(b"x").await.unwrap();
        assert_eq!(reader.await.unwrap(), 1);
        assert!(reads.load(SeqCst) >= 2);
    });
}

//! hyper 1.x on weft (feature `hyper`): HTTP/1.1 and HTTP/2 servers and clients over weft's
//! sockets, with weft's executors and timers.
#![cfg(feature = "hyper")]

mod net_util;

use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::rt::Timer;
use hyper::{Request, Response};
use weft::compat::hyper::{LocalExecutor, WeftExecutor, WeftIo, WeftSleep, WeftTimer};
use weft::net::{TcpListener, TcpStream, UnixStream};

/// Answers GET with "Hello, World!" and echoes the body of anything else.
async fn hello_or_echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if req.method() == hyper::Method::GET {
        return Ok(Response::new(Full::new(Bytes::from_static(
            b"Hello, World!",
        ))));
    }
    let body = req.into_body().collect().await?.to_bytes();
    Ok(Response::new(Full::new(body)))
}

async fn collect(res: Response<Incoming>) -> Bytes {
    assert_eq!(res.status(), 200);
    res.into_body().collect().await.unwrap().to_bytes()
}

#[test]
fn http1_keep_alive_get_and_large_post() {
    net_util::each_backend("hyper http1", Duration::from_secs(30), |_| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            hyper::server::conn::http1::Builder::new()
                .timer(WeftTimer::new())
                .serve_connection(
                    WeftIo::new(stream),
                    hyper::service::service_fn(hello_or_echo),
                )
                .await
                .unwrap();
        });

        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(WeftIo::new(stream))
            .await
            .unwrap();
        let conn = weft::spawn(conn);
        // Ten requests on one connection.
        for _ in 0..10 {
            let req = Request::get("/")
                .header("host", "x")
                .body(Full::default())
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(collect(res).await, "Hello, World!");
        }
        // 3 MiB each way: many reads larger than the per-thread scratch buffer.
        let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
        let req = Request::post("/")
            .header("host", "x")
            .body(Full::new(Bytes::from(data.clone())))
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        assert!(collect(res).await == data, "the echoed body differs");
        drop(sender); // the client connection ends, then the server's
        conn.await.unwrap().unwrap();
        server.await.unwrap();
    });
}

#[test]
fn http2_concurrent_streams_on_the_weft_executor() {
    net_util::each_backend("hyper http2", Duration::from_secs(30), |_| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            hyper::server::conn::http2::Builder::new(WeftExecutor::new())
                .timer(WeftTimer::new())
                .serve_connection(
                    WeftIo::new(stream),
                    hyper::service::service_fn(hello_or_echo),
                )
                .await
                .unwrap();
        });

        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = hyper::client::conn::http2::Builder::new(WeftExecutor::new())
            .timer(WeftTimer::new())
            .handshake(WeftIo::new(stream))
            .await
            .unwrap();
        let conn = weft::spawn(conn);
        // Twenty streams at once, each its own task.
        let mut tasks = Vec::new();
        for i in 0..20u32 {
            let mut sender = sender.clone();
            tasks.push(weft::spawn(async move {
                let body = format!("stream {i}");
                let req = Request::post(format!("http://{addr}/"))
                    .body(Full::new(Bytes::from(body.clone())))
                    .unwrap();
                let res = sender.send_request(req).await.unwrap();
                assert_eq!(res.version(), hyper::Version::HTTP_2);
                assert_eq!(collect(res).await, body);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        drop(sender);
        conn.await.unwrap().unwrap();
        server.await.unwrap();
    });
}

#[test]
fn http2_not_send_service_on_the_local_executor() {
    net_util::each_backend("hyper local", Duration::from_secs(30), |_| async {
        let (a, b) = UnixStream::pair().unwrap();
        // An `Rc` in the service: its futures are not `Send`.
        let hits = Rc::new(Cell::new(0u32));
        let h = hits.clone();
        let server = weft::spawn_local(async move {
            let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
                let h = h.clone();
                async move {
                    h.set(h.get() + 1);
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(h.get().to_string()))))
                }
            });
            hyper::server::conn::http2::Builder::new(LocalExecutor::new())
                .serve_connection(WeftIo::new(a), service)
                .await
                .unwrap();
        });
        let (mut sender, conn) = hyper::client::conn::http2::Builder::new(LocalExecutor::new())
            .handshake(WeftIo::new(b))
            .await
            .unwrap();
        let conn = weft::spawn_local(conn);
        for i in 1..=5u32 {
            let req = Request::get("http://unix/")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(collect(res).await, i.to_string());
        }
        drop(sender);
        conn.await.unwrap().unwrap();
        server.await.unwrap();
        assert_eq!(hits.get(), 5);
    });
}

#[test]
fn header_read_timeout_runs_on_weft_timers_and_paused_clock() {
    let _serial = net_util::serial();
    let rt = weft::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let start = weft::time::Instant::now();
            let res = hyper::server::conn::http1::Builder::new()
                .timer(WeftTimer::new())
                .header_read_timeout(Duration::from_secs(600))
                .serve_connection(
                    WeftIo::new(stream),
                    hyper::service::service_fn(hello_or_echo),
                )
                .await;
            (res.map_err(|e| e.to_string()), start.elapsed())
        });
        // Half a request head, then silence: hyper gives up after the timeout, which the
        // paused clock reaches at once.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        let (res, waited) = server.await.unwrap();
        let err = res.unwrap_err();
        assert!(err.contains("timeout"), "unexpected error: {err}");
        assert!(
            waited >= Duration::from_secs(600),
            "gave up after {waited:?}"
        );
        // The server closed the connection (after a 408 or at once).
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
    });
}

#[test]
fn timer_resets_a_weft_sleep_in_place() {
    // Serial: the other tests count descriptors, and a runtime has some.
    let _serial = net_util::serial();
    weft::block_on(async {
        let timer = WeftTimer::new();
        let start = weft::time::Instant::now();
        let mut sleep = timer.sleep(Duration::from_secs(3600));
        timer.reset(&mut sleep, timer.now() + Duration::from_millis(5));
        assert!(sleep.is::<WeftSleep>(), "reset kept the WeftSleep");
        sleep.await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(5), "woke early: {took:?}");
        assert!(
            took < Duration::from_secs(60),
            "the old deadline was kept: {took:?}"
        );
        // `sleep_until` in the past completes at once.
        timer.sleep_until(timer.now()).await;
    });
}

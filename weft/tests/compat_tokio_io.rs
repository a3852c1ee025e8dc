//! tokio's IO traits on weft's sockets (feature `tokio-io`): tokio-util codecs and tokio's
//! extension traits over weft's TcpStream, its halves and UnixStream, with no tokio runtime.
#![cfg(feature = "tokio-io")]

mod net_util;

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use futures_lite::StreamExt;
use futures_sink::Sink;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec};
use weft::net::{TcpListener, TcpStream, UnixStream};

/// Sends one item and flushes it (`SinkExt::send` without futures-util).
async fn send<S: Sink<I> + Unpin, I>(sink: &mut S, item: I) -> Result<(), S::Error> {
    poll_fn(|cx| Pin::new(&mut *sink).poll_ready(cx)).await?;
    Pin::new(&mut *sink).start_send(item)?;
    poll_fn(|cx| Pin::new(&mut *sink).poll_flush(cx)).await
}

/// Echoes lines on one connection, with a `Framed` over the whole stream.
async fn line_echo(listener: TcpListener) {
    let (stream, _) = listener.accept().await.unwrap();
    let mut framed = Framed::new(stream, LinesCodec::new());
    while let Some(line) = framed.next().await {
        let line = line.unwrap();
        send(&mut framed, format!("echo: {line}")).await.unwrap();
    }
}

#[test]
fn framed_lines_codec_echo_over_tcp() {
    net_util::each_backend("framed lines", Duration::from_secs(20), |_| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(line_echo(listener));

        let stream = TcpStream::connect(addr).await.unwrap();
        let mut framed = Framed::new(stream, LinesCodec::new());
        for i in 0..100 {
            send(&mut framed, format!("line {i}")).await.unwrap();
            let back = framed.next().await.unwrap().unwrap();
            assert_eq!(back, format!("echo: line {i}"));
        }
        // A line much larger than one read, split across many segments.
        let long = "x".repeat(300_000);
        send(&mut framed, long.clone()).await.unwrap();
        assert_eq!(
            framed.next().await.unwrap().unwrap(),
            format!("echo: {long}")
        );
        drop(framed); // the server sees end of stream and finishes
        server.await.unwrap();
    });
}

#[test]
fn framed_read_and_write_over_owned_halves() {
    net_util::each_backend("framed halves", Duration::from_secs(20), |_| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(line_echo(listener));

        let (r, w) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut reader = FramedRead::new(r, LinesCodec::new());
        let mut writer = FramedWrite::new(w, LinesCodec::new());
        // Write all first, then read all: the halves work independently.
        let writes = weft::spawn(async move {
            for i in 0..50 {
                send(&mut writer, format!("{i}")).await.unwrap();
            }
            // Shut the write side down through tokio's trait: the server sees EOF.
            writer.into_inner().shutdown().await.unwrap();
        });
        for i in 0..50 {
            assert_eq!(reader.next().await.unwrap().unwrap(), format!("echo: {i}"));
        }
        assert!(reader.next().await.is_none(), "server closed after our EOF");
        writes.await.unwrap();
        server.await.unwrap();
    });
}

#[test]
fn tokio_extension_traits_and_shutdown() {
    net_util::each_backend("tokio ext", Duration::from_secs(20), |_| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            stream.read_to_end(&mut all).await.unwrap();
            stream.write_all(&all).await.unwrap();
            // The inherent `shutdown(how)` (std's) shadows tokio's: name the trait.
            AsyncWriteExt::shutdown(&mut stream).await.unwrap();
            all.len()
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
        // Vectored writes go through tokio's `write_vectored` too.
        let (a, b) = data.split_at(400_000);
        let mut bufs = [std::io::IoSlice::new(a), std::io::IoSlice::new(b)];
        let mut bufs = &mut bufs[..];
        while !bufs.is_empty() {
            let n = stream.write_vectored(bufs).await.unwrap();
            std::io::IoSlice::advance_slices(&mut bufs, n);
        }
        AsyncWriteExt::shutdown(&mut stream).await.unwrap();
        let mut back = Vec::new();
        stream.read_to_end(&mut back).await.unwrap();
        assert!(back == data, "the echo differs");
        assert_eq!(server.await.unwrap(), data.len());
    });
}

#[test]
fn unix_stream_and_shared_references() {
    net_util::each_backend("tokio unix", Duration::from_secs(20), |_| async {
        let (a, mut b) = UnixStream::pair().unwrap();
        // `&UnixStream` reads and writes too, as `&tokio::net::UnixStream` does not.
        (&a).write_all(b"hello over a pair").await.unwrap();
        let mut buf = [0; 17];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello over a pair");
        let mut framed = Framed::new(b, LinesCodec::new());
        send(&mut framed, "line".to_owned()).await.unwrap();
        let mut line = String::new();
        tokio::io::BufReader::new(&a)
            .read_line(&mut line)
            .await
            .unwrap();
        assert_eq!(line, "line\n");
    });
}

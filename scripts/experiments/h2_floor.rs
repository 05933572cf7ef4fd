//! The h2 crate's own cost per request, with nothing of ours around it: HTTP/2 over cleartext
//! TCP (prior knowledge), every request answered with the same 1 KiB body from memory, no TLS,
//! no file lookup, no limits. Two threads, one tokio current-thread runtime each, accepting on
//! one listener, as `tls server` runs on this 2-core kind. What h2 writes is kept and sent in
//! one `write` when the connection waits for the client (as our server's batches are); h2's own
//! flushes, a few frames each, would otherwise cost a `sendto` per five requests. Copy it into
//! `crates/tls-server/examples/` to run it (see README.md here); it prints its process id and
//! serves until killed.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

const BODY: [u8; 1024] = [b'x'; 1024];

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8443".into());
    let listener = TcpListener::bind(&addr).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    println!("h2_floor: pid {} on {addr}", std::process::id());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let listener = listener.try_clone().expect("listener");
            std::thread::spawn(move || serve(listener))
        })
        .collect();
    for thread in threads {
        thread.join().expect("worker");
    }
}

fn serve(listener: TcpListener) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            tokio::task::spawn_local(connection(socket));
        }
    });
}

async fn connection(socket: TcpStream) {
    let socket = Rc::new(socket);
    let pending = Rc::new(RefCell::new(Vec::new()));
    let io = Batched {
        socket: socket.clone(),
        pending: pending.clone(),
    };
    let handshake = h2::server::handshake(io);
    tokio::pin!(handshake);
    let conn = std::future::poll_fn(|cx| match handshake.as_mut().poll(cx) {
        Poll::Pending => match send(&socket, &pending, cx) {
            Poll::Ready(Err(_)) => Poll::Ready(Err(())),
            _ => Poll::Pending,
        },
        Poll::Ready(r) => Poll::Ready(r.map_err(|_| ())),
    });
    let Ok(mut conn) = conn.await else {
        return;
    };
    let _ = std::future::poll_fn(|cx| loop {
        match conn.poll_accept(cx) {
            Poll::Ready(Some(Ok((_request, mut respond)))) => {
                let response = http::Response::builder()
                    .status(200)
                    .header("content-type", "application/octet-stream")
                    .header("content-length", "1024")
                    .body(())
                    .expect("response");
                if let Ok(mut body) = respond.send_response(response, false) {
                    let _ = body.send_data(Bytes::from_static(&BODY), true);
                }
            }
            Poll::Ready(_) => return Poll::Ready(()),
            Poll::Pending => {
                return match send(&socket, &pending, cx) {
                    Poll::Ready(Err(_)) => Poll::Ready(()),
                    _ => Poll::Pending,
                }
            }
        }
    })
    .await;
}

/// Writes what h2 left, until done or the socket is full.
fn send(
    socket: &TcpStream,
    pending: &RefCell<Vec<u8>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    let mut pending = pending.borrow_mut();
    while !pending.is_empty() {
        match socket.try_write(&pending) {
            Ok(n) => {
                pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if socket.poll_write_ready(cx)?.is_pending() {
                    return Poll::Pending;
                }
            }
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

/// The socket as h2 sees it: reads go through, writes are kept for [`send`].
struct Batched {
    socket: Rc<TcpStream>,
    pending: Rc<RefCell<Vec<u8>>>,
}

impl AsyncRead for Batched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match self.socket.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.socket.poll_read_ready(cx)?.is_pending() {
                        return Poll::Pending;
                    }
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Batched {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pending.borrow_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

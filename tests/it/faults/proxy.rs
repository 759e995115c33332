//! A TCP proxy of our own between shipdeck and a sandbox server, that injects one fault at a
//! time: pass, blackhole (accept, never answer: also a TLS handshake that stalls), drip (the
//! answer one byte at a time), reset (RST after some bytes of the answer), or silence (every
//! open connection stops carrying bytes without closing, as a dropped link does to a watch).
//! New connections see the fault set when they open; drip, reset and silence also reach the
//! connections already open.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    Blackhole,
    /// One byte of the answer per interval.
    Drip(Duration),
    /// The connection is reset after this many bytes of the answer.
    Reset(usize),
    Silence,
}

pub struct Proxy {
    pub addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(Mutex::new(fault));
        let shared = fault.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream, shared.clone()));
            }
        });
        Proxy { addr, fault, task }
    }

    /// The fault from now on.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    /// `host:port` of the proxy.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now(fault: &Mutex<Fault>) -> Fault {
    *fault.lock().unwrap()
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, fault: Arc<Mutex<Fault>>) {
    if now(&fault) == Fault::Blackhole {
        // Take what the client sends (its request, a ClientHello) and never say a word.
        let mut sink = [0u8; 4096];
        while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
        std::future::pending::<()>().await;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    if pump(&mut client, &mut server, &fault).await {
        // Linger 0: the close sends RST, not FIN.
        let _ = client.set_zero_linger();
    }
}

/// Carries bytes both ways under the current fault until either side ends; `true` when the
/// connection is to be reset.
async fn pump(client: &mut TcpStream, server: &mut TcpStream, fault: &Mutex<Fault>) -> bool {
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut client_open = true;
    let mut sent = 0usize;
    loop {
        tokio::select! {
            r = cr.read(&mut up), if client_open => match r {
                Ok(0) | Err(_) => {
                    client_open = false;
                    let _ = sw.shutdown().await;
                }
                Ok(n) => {
                    if now(fault) == Fault::Silence {
                        std::future::pending::<()>().await;
                    }
                    if sw.write_all(&up[..n]).await.is_err() {
                        return false;
                    }
                }
            },
            r = sr.read(&mut down) => {
                let n = match r {
                    Ok(0) | Err(_) => {
                        let _ = cw.shutdown().await;
                        return false;
                    }
                    Ok(n) => n,
                };
                match now(fault) {
                    Fault::Pass | Fault::Blackhole => {
                        if cw.write_all(&down[..n]).await.is_err() {
                            return false;
                        }
                    }
                    Fault::Silence => std::future::pending::<()>().await,
                    Fault::Drip(every) => {
                        for b in &down[..n] {
                            if cw.write_all(std::slice::from_ref(b)).await.is_err() {
                                return false;
                            }
                            tokio::time::sleep(every).await;
                        }
                    }
                    Fault::Reset(after) => {
                        let room = after.saturating_sub(sent).min(n);
                        if cw.write_all(&down[..room]).await.is_err() {
                            return false;
                        }
                        sent += room;
                        if sent >= after {
                            return true;
                        }
                    }
                }
            }
        }
    }
}

//! The simulated traffic of a local proxy: every accepted connection, and `proxy ssh`'s stdin,
//! gets its bytes echoed back, so a test can round-trip data through the process.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use super::log;

/// Accepts connections forever, one thread each.
pub fn accept_forever(listener: &TcpListener) -> ! {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                log("INFO", &format!("accepted connection from {peer}"));
                std::thread::spawn(move || echo(stream));
            }
            Err(err) => log("WARN", &format!("failed to accept connection: {err}")),
        }
    }
}

fn echo(mut stream: TcpStream) {
    let peer = stream.peer_addr().map(|p| p.to_string()).unwrap_or_else(|_| "unknown".to_owned());
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    log("INFO", &format!("connection from {peer} closed"));
}

/// Copies stdin to stdout, flushing each chunk, until stdin ends (or stdout closes).
pub fn stdin_to_stdout() {
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut buf = [0u8; 8192];
    loop {
        match stdin.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stdout.write_all(&buf[..n]).and_then(|()| stdout.flush()).is_err() {
                    return;
                }
            }
        }
    }
}

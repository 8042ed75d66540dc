//! Helpers shared by the Rust integration tests that fake an HTTP peer (only
//! for faults a real peer cannot be made to produce).

use tokio::io::AsyncReadExt;

/// Largest request a fake peer reads (head and body), in bytes.
const MAX_REQUEST: usize = 65536;

/// Reads one HTTP/1.1 request: its head (up to the blank line) and a
/// `content-length` body (none if absent); `None` on EOF, an I/O error or a
/// request over 64 KiB.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .to_ascii_lowercase()
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if len > MAX_REQUEST {
        return None;
    }
    while buf.len() < head_end + len {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf[head_end..head_end + len].to_vec()))
}

//! A TDS connection's bytes: plain TCP, or TLS set up the way SQL Server does it ([MS-TDS]
//! 3.3.5.2 / 2.2.6.5): after PRELOGIN, the TLS handshake travels inside PRELOGIN packets
//! (each TLS flight behind an 8-byte TDS header); once it is done, TLS records flow on the
//! socket directly and TDS packets travel inside them. With ENCRYPT_OFF only the LOGIN7
//! packet is encrypted and TLS is dropped right after it (`plain_again`).
//!
//! rustls is driven by hand (its sans-I/O API) because the handshake's framing is TDS's.
//! TLS 1.2 only, as SQL Server negotiates it for TDS 7.x.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tds;

pub struct Transport {
    tcp: TcpStream,
    tls: Option<ServerConnection>,
    spid: u16,
    packet_id: u8,
    /// The negotiated packet size (LOGIN7's), bounding each packet written.
    pub packet_size: usize,
}

impl Transport {
    pub fn new(tcp: TcpStream, spid: u16) -> Transport {
        Transport {
            tcp,
            tls: None,
            spid,
            packet_id: 0,
            packet_size: 4096,
        }
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let Transport { tcp, tls, .. } = self;
        let Some(tls) = tls.as_mut() else {
            tcp.read_exact(buf).await?;
            return Ok(());
        };
        let mut filled = 0;
        while filled < buf.len() {
            match tls.reader().read(&mut buf[filled..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    filled += n;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            let mut chunk = [0u8; 8192];
            let n = tcp.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            feed(tls, &chunk[..n])?;
            flush_tls(tls, tcp).await?;
        }
        Ok(())
    }

    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let Transport { tcp, tls, .. } = self;
        match tls.as_mut() {
            None => tcp.write_all(data).await,
            Some(tls) => {
                tls.writer().write_all(data)?;
                flush_tls(tls, tcp).await
            }
        }
    }

    /// The next message: its type and its packets' data joined, or `None` at a clean close.
    pub async fn read_message(&mut self) -> io::Result<Option<(u8, Vec<u8>)>> {
        let mut data = Vec::new();
        loop {
            let mut head = [0u8; tds::HEADER_LEN];
            match self.read_exact(&mut head).await {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && data.is_empty() => {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            }
            let length = u16::from_be_bytes([head[2], head[3]]) as usize;
            if length < tds::HEADER_LEN {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a packet shorter than its header",
                ));
            }
            let start = data.len();
            data.resize(start + length - tds::HEADER_LEN, 0);
            self.read_exact(&mut data[start..]).await?;
            if data.len() > 1 << 20 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a message over 1 MiB",
                ));
            }
            if head[1] & tds::END_OF_MESSAGE != 0 {
                return Ok(Some((head[0], data)));
            }
        }
    }

    /// Writes `data` as a message of `ty`, in packets of at most the packet size.
    pub async fn write_message(&mut self, ty: u8, data: &[u8]) -> io::Result<()> {
        let room = self.packet_size.max(512) - tds::HEADER_LEN;
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![&[]]
        } else {
            data.chunks(room).collect()
        };
        let mut out = Vec::with_capacity(data.len() + chunks.len() * tds::HEADER_LEN);
        for (i, chunk) in chunks.iter().enumerate() {
            let status = if i + 1 == chunks.len() {
                tds::END_OF_MESSAGE
            } else {
                0
            };
            self.packet_id = self.packet_id.wrapping_add(1);
            out.extend_from_slice(&tds::header(
                ty,
                status,
                chunk.len() + tds::HEADER_LEN,
                self.spid,
                self.packet_id,
            ));
            out.extend_from_slice(chunk);
        }
        self.write_all(&out).await
    }

    /// The TLS handshake inside PRELOGIN packets, after the PRELOGIN exchange.
    pub async fn start_tls(&mut self, config: Arc<ServerConfig>) -> io::Result<()> {
        let mut tls = ServerConnection::new(config).map_err(io::Error::other)?;
        while tls.is_handshaking() {
            let mut head = [0u8; tds::HEADER_LEN];
            self.tcp.read_exact(&mut head).await?;
            let length = u16::from_be_bytes([head[2], head[3]]) as usize;
            if head[0] != tds::PRELOGIN || length < tds::HEADER_LEN {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "expected the TLS handshake in PRELOGIN packets",
                ));
            }
            let mut payload = vec![0u8; length - tds::HEADER_LEN];
            self.tcp.read_exact(&mut payload).await?;
            let fed = feed(&mut tls, &payload);
            let mut out = Vec::new();
            while tls.wants_write() {
                tls.write_tls(&mut out)?;
            }
            if !out.is_empty() {
                self.packet_id = self.packet_id.wrapping_add(1);
                let head = tds::header(
                    tds::PRELOGIN,
                    tds::END_OF_MESSAGE,
                    out.len() + tds::HEADER_LEN,
                    self.spid,
                    self.packet_id,
                );
                self.tcp
                    .write_all(&[head.as_slice(), &out].concat())
                    .await?;
            }
            fed?;
        }
        self.tls = Some(tls);
        Ok(())
    }

    /// After a login-only encryption (ENCRYPT_OFF): the socket carries plain TDS again.
    pub fn plain_again(&mut self) {
        self.tls = None;
    }

    pub fn encrypted(&self) -> bool {
        self.tls.is_some()
    }
}

/// Hands received TLS bytes to rustls and processes them.
fn feed(tls: &mut ServerConnection, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        tls.read_tls(&mut bytes)?;
        tls.process_new_packets().map_err(io::Error::other)?;
    }
    Ok(())
}

/// Sends what rustls has to send.
async fn flush_tls(tls: &mut ServerConnection, tcp: &mut TcpStream) -> io::Result<()> {
    let mut out = Vec::new();
    while tls.wants_write() {
        tls.write_tls(&mut out)?;
    }
    if !out.is_empty() {
        tcp.write_all(&out).await?;
    }
    Ok(())
}

//! TNS, Oracle Net's packet layer, as the server side of the exchange that python-oracledb's
//! thin mode (`protocol.pyx`, `packet.pyx`) and rust-oracledb (`transport.rs`,
//! `messages/connect.rs`) perform: an 8-byte header (length, checksum, type, flags, header
//! checksum), with the length 2 bytes wide until the ACCEPT and 4 bytes wide after it (12c
//! and later); DATA packets carry 2 bytes of data flags before their TTC payload.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const CONNECT: u8 = 1;
pub const ACCEPT: u8 = 2;
pub const REFUSE: u8 = 4;
pub const DATA: u8 = 6;
pub const MARKER: u8 = 12;

/// DATA flag: the client is closing the connection.
pub const DATA_FLAGS_EOF: u16 = 0x0040;

/// Marker types.
pub const MARKER_BREAK: u8 = 1;
pub const MARKER_RESET: u8 = 2;

/// The protocol version Rotary's server accepts with (Oracle Database 19c's).
pub const VERSION: u16 = 318;

pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub struct Packet {
    pub kind: u8,
    pub flags: u8,
    /// DATA packets: the data flags; others: 0.
    pub data_flags: u16,
    /// After the header (and a DATA packet's data flags).
    pub payload: Vec<u8>,
}

pub struct Transport {
    stream: Box<dyn Stream>,
    /// 4-byte lengths: after the ACCEPT.
    pub large: bool,
    /// The largest packet the client reads (its SDU): answers are split to fit.
    pub sdu: usize,
}

impl Transport {
    pub fn new(stream: Box<dyn Stream>) -> Self {
        Transport {
            stream,
            large: false,
            sdu: 8192,
        }
    }

    /// The next packet, or `None` when the client has gone.
    pub async fn read(&mut self) -> std::io::Result<Option<Packet>> {
        let mut header = [0u8; 8];
        match self.stream.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let length = if self.large {
            u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize
        } else {
            u16::from_be_bytes([header[0], header[1]]) as usize
        };
        if !(8..=1 << 24).contains(&length) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bad TNS packet length",
            ));
        }
        let mut body = vec![0u8; length - 8];
        self.stream.read_exact(&mut body).await?;
        let kind = header[4];
        let (data_flags, payload) = if kind == DATA && body.len() >= 2 {
            (u16::from_be_bytes([body[0], body[1]]), body.split_off(2))
        } else {
            (0, body)
        };
        Ok(Some(Packet {
            kind,
            flags: header[5],
            data_flags,
            payload,
        }))
    }

    async fn write_one(&mut self, kind: u8, flags: u8, payload: &[u8]) -> std::io::Result<()> {
        let length = payload.len() + 8;
        let mut packet = Vec::with_capacity(length);
        if self.large {
            packet.extend_from_slice(&(length as u32).to_be_bytes());
        } else {
            packet.extend_from_slice(&(length as u16).to_be_bytes());
            packet.extend_from_slice(&[0, 0]);
        }
        packet.extend_from_slice(&[kind, flags, 0, 0]);
        packet.extend_from_slice(payload);
        self.stream.write_all(&packet).await
    }

    /// TTC bytes in as many DATA packets as the client's SDU needs.
    pub async fn write_data(&mut self, ttc: &[u8]) -> std::io::Result<()> {
        let room = self.sdu.saturating_sub(10).max(64);
        for chunk in ttc.chunks(room) {
            let mut payload = Vec::with_capacity(chunk.len() + 2);
            payload.extend_from_slice(&[0, 0]);
            payload.extend_from_slice(chunk);
            self.write_one(DATA, 0, &payload).await?;
        }
        self.stream.flush().await
    }

    pub async fn write_marker(&mut self, marker: u8) -> std::io::Result<()> {
        self.write_one(MARKER, 0, &[1, 0, marker]).await?;
        self.stream.flush().await
    }

    /// ACCEPT at [`VERSION`], with the SDU both sides will use, and no fast authentication
    /// nor end-of-response flag (so the client runs the classic protocol, data types, logon
    /// sequence, each call answered until its closing error message).
    pub async fn accept(&mut self, sdu: u32) -> std::io::Result<()> {
        let mut p = Vec::with_capacity(37);
        p.extend_from_slice(&VERSION.to_be_bytes());
        p.extend_from_slice(&0x0001u16.to_be_bytes()); // global service options
        p.extend_from_slice(&(sdu.min(0xffff) as u16).to_be_bytes()); // SDU
        p.extend_from_slice(&(sdu.min(0xffff) as u16).to_be_bytes()); // TDU
        p.extend_from_slice(&0x0100u16.to_be_bytes()); // hardware byte order
        p.extend_from_slice(&0u16.to_be_bytes()); // accept data length
        p.extend_from_slice(&45u16.to_be_bytes()); // accept data offset
        p.push(0x04); // NSI flags 1: network authentication disabled
        p.push(0x04); // NSI flags 2
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(&sdu.to_be_bytes()); // SDU (large)
        p.extend_from_slice(&sdu.to_be_bytes()); // TDU (large)
        p.push(0);
        p.extend_from_slice(&0u32.to_be_bytes()); // protocol flags
        self.write_one(ACCEPT, 0, &p).await?;
        self.stream.flush().await?;
        self.large = true;
        self.sdu = sdu as usize;
        Ok(())
    }

    /// REFUSE with the listener's description of why (its `ERR=` is what the driver reads).
    pub async fn refuse(&mut self, error: u32) -> std::io::Result<()> {
        let text = format!(
            "(DESCRIPTION=(TMP=)(VSNNUM=318767104)(ERR={error})(ERROR_STACK=(ERROR=(CODE={error})(EMFI=4))))"
        );
        let mut p = vec![1, 0];
        p.extend_from_slice(&(text.len() as u16).to_be_bytes());
        p.extend_from_slice(text.as_bytes());
        self.write_one(REFUSE, 0, &p).await?;
        self.stream.flush().await
    }
}

/// What a CONNECT asks for.
pub struct Connect {
    pub sdu: u32,
    /// The connect descriptor, e.g. `(DESCRIPTION=(CONNECT_DATA=(SERVICE_NAME=…)…)…)`.
    pub descriptor: String,
}

/// Reads a CONNECT packet; its connect data may follow in a DATA packet when it is long.
pub async fn read_connect(t: &mut Transport, packet: &Packet) -> std::io::Result<Option<Connect>> {
    let p = &packet.payload;
    if packet.kind != CONNECT || p.len() < 66 {
        return Ok(None);
    }
    let data_len = u16::from_be_bytes([p[16], p[17]]) as usize;
    let data_offset = u16::from_be_bytes([p[18], p[19]]) as usize;
    let sdu = u32::from_be_bytes([p[50], p[51], p[52], p[53]]);
    let start = data_offset.saturating_sub(8);
    let data = if data_len > 0 && p.len() >= start + data_len {
        p[start..start + data_len].to_vec()
    } else {
        match t.read().await? {
            Some(next) if next.kind == DATA => next.payload,
            _ => return Ok(None),
        }
    };
    Ok(Some(Connect {
        sdu: sdu.clamp(512, 2 << 20),
        descriptor: String::from_utf8_lossy(&data).into_owned(),
    }))
}

/// The value of `(KEY=value)` in a connect descriptor, key compared without case.
pub fn descriptor_value(descriptor: &str, key: &str) -> Option<String> {
    let upper = descriptor.to_uppercase();
    let needle = format!("({}=", key.to_uppercase());
    let start = upper.find(&needle)? + needle.len();
    let end = start + descriptor[start..].find(')')?;
    Some(descriptor[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn descriptor_values() {
        let d = "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=FreePdb1)(CID=(PROGRAM=x))))";
        assert_eq!(
            super::descriptor_value(d, "service_name").as_deref(),
            Some("FreePdb1")
        );
        assert_eq!(super::descriptor_value(d, "SID"), None);
    }
}

//! MongoDB's message framing (MongoDB Wire Protocol, "OP_MSG"): a 16-byte header
//! (messageLength, requestID, responseTo, opCode, little-endian int32s), then for OP_MSG
//! (opCode 2013) the flagBits, sections (kind 0: the body, one BSON document; kind 1: a
//! document sequence, its identifier naming the body field it fills), and a CRC-32C checksum
//! when flagBits bit 0 is set (not checked here). The drivers of today send OP_MSG only.

use bson::{Bson, Document};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const OP_MSG: i32 = 2013;
const CHECKSUM_PRESENT: u32 = 1;
pub const MORE_TO_COME: u32 = 1 << 1;
/// MongoDB's maxMessageSizeBytes.
pub const MAX_MESSAGE: usize = 48_000_000;

pub struct Request {
    pub request_id: i32,
    pub flags: u32,
    pub body: Document,
}

fn int(bytes: &[u8], at: usize) -> Result<i32, String> {
    bytes
        .get(at..at + 4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| "truncated message".to_string())
}

/// Reads one message; `Ok(None)` at a clean end of the stream.
pub async fn read<R: AsyncRead + Unpin>(stream: &mut R) -> Result<Option<Request>, String> {
    let mut header = [0u8; 16];
    match stream.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let length = int(&header, 0)? as usize;
    if !(21..=MAX_MESSAGE).contains(&length) {
        return Err(format!("message length {length} out of range"));
    }
    let request_id = int(&header, 4)?;
    let op_code = int(&header, 12)?;
    let mut rest = vec![0u8; length - 16];
    stream
        .read_exact(&mut rest)
        .await
        .map_err(|e| e.to_string())?;
    if op_code != OP_MSG {
        return Err(format!("opCode {op_code} is not supported (OP_MSG only)"));
    }
    let flags = int(&rest, 0)? as u32;
    let end = if flags & CHECKSUM_PRESENT != 0 {
        rest.len().saturating_sub(4)
    } else {
        rest.len()
    };
    let mut at = 4;
    let mut body: Option<Document> = None;
    let mut sequences: Vec<(String, Vec<Bson>)> = Vec::new();
    while at < end {
        let kind = rest[at];
        at += 1;
        match kind {
            0 => {
                let size = int(&rest, at)? as usize;
                let doc = rest
                    .get(at..at + size)
                    .ok_or_else(|| "truncated body".to_string())?;
                body = Some(Document::from_reader(doc).map_err(|e| e.to_string())?);
                at += size;
            }
            1 => {
                let size = int(&rest, at)? as usize;
                let section = rest
                    .get(at + 4..at + size)
                    .ok_or_else(|| "truncated document sequence".to_string())?;
                let nul = section
                    .iter()
                    .position(|b| *b == 0)
                    .ok_or_else(|| "unterminated identifier".to_string())?;
                let identifier = String::from_utf8_lossy(&section[..nul]).to_string();
                let mut docs = Vec::new();
                let mut p = nul + 1;
                while p < section.len() {
                    let doc_size = int(section, p)? as usize;
                    let doc = section
                        .get(p..p + doc_size)
                        .ok_or_else(|| "truncated document".to_string())?;
                    docs.push(Bson::Document(
                        Document::from_reader(doc).map_err(|e| e.to_string())?,
                    ));
                    p += doc_size;
                }
                sequences.push((identifier, docs));
                at += size;
            }
            other => return Err(format!("unknown section kind {other}")),
        }
    }
    let mut body = body.ok_or_else(|| "OP_MSG without a body".to_string())?;
    for (identifier, docs) in sequences {
        body.insert(identifier, docs);
    }
    Ok(Some(Request {
        request_id,
        flags,
        body,
    }))
}

/// Writes a reply to `response_to`: OP_MSG, no flags, the body as its one section.
pub async fn write<W: AsyncWrite + Unpin>(
    stream: &mut W,
    request_id: i32,
    response_to: i32,
    body: &Document,
) -> std::io::Result<()> {
    let mut doc = Vec::new();
    body.to_writer(&mut doc)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let length = (16 + 4 + 1 + doc.len()) as i32;
    let mut out = Vec::with_capacity(length as usize);
    for v in [length, request_id, response_to, OP_MSG] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&doc);
    stream.write_all(&out).await?;
    stream.flush().await
}

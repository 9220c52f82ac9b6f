//! TTC, the Two-Task Common layer inside TNS DATA packets: its integer and length encodings
//! (as python-oracledb's `packet.pyx` and rust-oracledb's `read_buffer.rs`/`write_buffer.rs`
//! read and write them) and the server's messages the driver reads.
//!
//! UB2/UB4/UB8: one length byte (0 = the value zero), then that many big-endian bytes.
//! Bytes with length: one byte (≤ 252), or 254 then UB4-sized chunks ended by a zero UB4.
//! "Double length": a UB4 byte count, then (if not zero) bytes with length.

/// Message types (the first byte of each TTC message).
pub const MSG_PROTOCOL: u8 = 1;
pub const MSG_DATA_TYPES: u8 = 2;
pub const MSG_FUNCTION: u8 = 3;
pub const MSG_ERROR: u8 = 4;
pub const MSG_ROW_HEADER: u8 = 6;
pub const MSG_ROW_DATA: u8 = 7;
pub const MSG_PARAMETER: u8 = 8;
pub const MSG_DESCRIBE_INFO: u8 = 16;
pub const MSG_PIGGYBACK: u8 = 17;

/// Function codes (the byte after MSG_FUNCTION or MSG_PIGGYBACK).
pub const FN_REEXECUTE: u8 = 4;
pub const FN_FETCH: u8 = 5;
pub const FN_LOGOFF: u8 = 9;
pub const FN_COMMIT: u8 = 14;
pub const FN_ROLLBACK: u8 = 15;
pub const FN_REEXECUTE_AND_FETCH: u8 = 78;
pub const FN_EXECUTE: u8 = 94;
pub const FN_CLOSE_CURSORS: u8 = 105;
pub const FN_AUTH_PHASE_TWO: u8 = 115;
pub const FN_AUTH_PHASE_ONE: u8 = 118;
pub const FN_PING: u8 = 147;

/// Oracle's type number for NUMBER.
pub const ORA_TYPE_NUMBER: u8 = 2;

/// The input ran out before a message was whole.
#[derive(Debug)]
pub struct Truncated;

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let end = self.pos.checked_add(n).ok_or(Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(Truncated)?;
        self.pos = end;
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, Truncated> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16le(&mut self) -> Result<u16, Truncated> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u16be(&mut self) -> Result<u16, Truncated> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// UB2, UB4 and UB8 alike.
    pub fn ub(&mut self) -> Result<u64, Truncated> {
        let len = self.u8()? & 0x7f;
        if len > 8 {
            return Err(Truncated);
        }
        Ok(self
            .bytes(len as usize)?
            .iter()
            .fold(0u64, |v, b| (v << 8) | *b as u64))
    }

    pub fn bytes_with_length(&mut self) -> Result<Vec<u8>, Truncated> {
        let len = self.u8()?;
        match len {
            255 => Ok(Vec::new()),
            254 => {
                let mut out = Vec::new();
                loop {
                    let n = self.ub()? as usize;
                    if n == 0 {
                        return Ok(out);
                    }
                    out.extend_from_slice(self.bytes(n)?);
                }
            }
            n => Ok(self.bytes(n as usize)?.to_vec()),
        }
    }

    pub fn bytes_with_double_length(&mut self) -> Result<Vec<u8>, Truncated> {
        if self.ub()? == 0 {
            return Ok(Vec::new());
        }
        self.bytes_with_length()
    }
}

#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }

    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }

    pub fn u16be(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    pub fn u16le(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_le_bytes())
    }

    /// UB2/UB4/UB8 in the fewest bytes.
    pub fn ub(&mut self, v: u64) -> &mut Self {
        let bytes = v.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = &bytes[skip..];
        self.u8(significant.len() as u8);
        self.raw(significant)
    }

    pub fn bytes_with_length(&mut self, v: &[u8]) -> &mut Self {
        if v.len() <= 252 {
            self.u8(v.len() as u8);
            return self.raw(v);
        }
        self.u8(254);
        for chunk in v.chunks(32767) {
            self.ub(chunk.len() as u64);
            self.raw(chunk);
        }
        self.ub(0)
    }

    pub fn bytes_with_double_length(&mut self, v: &[u8]) -> &mut Self {
        self.ub(v.len() as u64);
        if !v.is_empty() {
            self.bytes_with_length(v);
        }
        self
    }

    /// A return-parameters message of key/value pairs (the session data of a logon).
    pub fn parameters(&mut self, pairs: &[(&str, String, u32)]) -> &mut Self {
        self.u8(MSG_PARAMETER);
        self.ub(pairs.len() as u64);
        for (key, value, flags) in pairs {
            self.bytes_with_double_length(key.as_bytes());
            self.bytes_with_double_length(value.as_bytes());
            self.ub(*flags as u64);
        }
        self
    }

    /// The error message that ends every call: `code` 0 for success, else an ORA- error
    /// whose `text` starts with "ORA-nnnnn: ".
    pub fn error_info(
        &mut self,
        call_status: u32,
        cursor: u16,
        rows: u64,
        code: u32,
        text: &str,
    ) -> &mut Self {
        self.u8(MSG_ERROR);
        self.ub(call_status as u64); // call status
        self.ub(0); // end-to-end sequence number
        self.ub(0); // current row number
        self.ub(code.min(u16::MAX as u32) as u64); // error number (short)
        self.ub(0); // array element error
        self.ub(0); // array element error
        self.ub(cursor as u64); // cursor id
        self.ub(0); // error position
        self.raw(&[0, 0, 0, 0, 0, 0]); // SQL type, fatal, flags, user cursor options, UPI parameter, flags
        self.ub(0).ub(0).u8(0).ub(0).ub(0); // rowid: rba, partition, (skip), block, slot
        self.ub(0); // OS error
        self.u8(0).u8(0); // statement number, call number
        self.ub(0); // padding
        self.ub(0); // successful iterations
        self.ub(0); // logical rowid length
        self.ub(0); // batch error codes
        self.ub(0); // batch error offsets
        self.ub(0); // batch error messages
        self.ub(code as u64); // error number
        self.ub(rows); // row count
        if code != 0 {
            self.bytes_with_length(format!("{text}\n").as_bytes());
        }
        self
    }
}

/// Oracle's NUMBER encoding of a (small, signed) integer: an exponent byte, then base-100
/// digits (each + 1 when positive; 101 - digit with a trailing 102 when negative).
pub fn number(mut v: i64) -> Vec<u8> {
    if v == 0 {
        return vec![0x80];
    }
    let negative = v < 0;
    v = v.abs();
    let mut digits = Vec::new();
    while v > 0 {
        digits.push((v % 100) as u8);
        v /= 100;
    }
    let exponent = digits.len() as u8;
    digits.reverse();
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let mut out = Vec::with_capacity(digits.len() + 2);
    if negative {
        out.push(!(0xC0 + exponent));
        out.extend(digits.iter().map(|d| 101 - d));
        out.push(102);
    } else {
        out.push(0xC0 + exponent);
        out.extend(digits.iter().map(|d| d + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        for v in [0u64, 1, 254, 255, 65535, 65536, u32::MAX as u64 + 7] {
            let mut w = Writer::default();
            w.ub(v);
            assert_eq!(Reader::new(&w.0).ub().unwrap(), v);
        }
        let long = vec![7u8; 70000];
        let mut w = Writer::default();
        w.bytes_with_length(&long).bytes_with_double_length(b"k");
        let mut r = Reader::new(&w.0);
        assert_eq!(r.bytes_with_length().unwrap(), long);
        assert_eq!(r.bytes_with_double_length().unwrap(), b"k");
        assert!(r.is_empty());
    }

    #[test]
    fn numbers_as_oracle_encodes_them() {
        // From Oracle's documentation of the internal NUMBER format.
        assert_eq!(number(1), [0xC1, 0x02]);
        assert_eq!(number(100), [0xC2, 0x02]);
        assert_eq!(number(123), [0xC2, 0x02, 0x18]);
        assert_eq!(number(-1), [0x3E, 0x64, 0x66]);
        assert_eq!(number(0), [0x80]);
    }
}

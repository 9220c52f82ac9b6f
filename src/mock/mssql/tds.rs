//! MS-TDS messages as the server reads and writes them ([MS-TDS] 2.2): the 8-byte packet
//! header (2.2.3.1), PRELOGIN (2.2.6.5), LOGIN7 (2.2.6.4) with its password obfuscation,
//! SQL_BATCH (2.2.6.7) with ALL_HEADERS (2.2.5.3), and the response tokens a login and a batch
//! need: LOGINACK, ENVCHANGE, INFO, ERROR, COLMETADATA, ROW, DONE (2.2.7).

pub const HEADER_LEN: usize = 8;
/// Packet types (2.2.3.1.1).
pub const SQL_BATCH: u8 = 0x01;
pub const RPC: u8 = 0x03;
pub const TABULAR_RESULT: u8 = 0x04;
pub const ATTENTION: u8 = 0x06;
pub const LOGIN7: u8 = 0x10;
pub const PRELOGIN: u8 = 0x12;
/// The header's status bit for the last packet of a message.
pub const END_OF_MESSAGE: u8 = 0x01;

/// PRELOGIN ENCRYPTION values (2.2.6.5).
pub const ENCRYPT_OFF: u8 = 0x00;
pub const ENCRYPT_ON: u8 = 0x01;
pub const ENCRYPT_NOT_SUP: u8 = 0x02;
pub const ENCRYPT_REQ: u8 = 0x03;

/// DONE status bits (2.2.7.6).
pub const DONE_MORE: u16 = 0x01;
pub const DONE_ERROR: u16 = 0x02;
pub const DONE_COUNT: u16 = 0x10;
pub const DONE_ATTN: u16 = 0x20;

/// TDS 7.4, what SQL Server 2012 and later answer.
const TDS_7_4: u32 = 0x7400_0004;
/// The version the server reports: 16.0.1000 (SQL Server 2022 RTM).
const VERSION: [u8; 4] = [16, 0, 0x03, 0xE8];

pub fn header(ty: u8, status: u8, length: usize, spid: u16, packet_id: u8) -> [u8; HEADER_LEN] {
    let len = (length as u16).to_be_bytes();
    let spid = spid.to_be_bytes();
    [ty, status, len[0], len[1], spid[0], spid[1], packet_id, 0]
}

/// The client's PRELOGIN: only ENCRYPTION matters to the server.
pub fn prelogin_encryption(data: &[u8]) -> Option<u8> {
    let mut at = 0;
    while *data.get(at)? != 0xFF {
        let option = data[at];
        let offset = u16::from_be_bytes([*data.get(at + 1)?, *data.get(at + 2)?]) as usize;
        if option == 0x01 {
            return data.get(offset).copied();
        }
        at += 5;
    }
    None
}

/// The server's PRELOGIN answer: VERSION, ENCRYPTION, INSTOPT (the default instance),
/// THREADID (empty) and MARS (off).
pub fn prelogin_reply(encryption: u8) -> Vec<u8> {
    let data: [(u8, Vec<u8>); 5] = [
        (0x00, [VERSION.as_slice(), &[0, 0]].concat()),
        (0x01, vec![encryption]),
        (0x02, vec![0]),
        (0x03, vec![]),
        (0x04, vec![0]),
    ];
    let mut offset = data.len() * 5 + 1;
    let mut head = Vec::new();
    let mut body = Vec::new();
    for (option, value) in &data {
        head.push(*option);
        head.extend_from_slice(&(offset as u16).to_be_bytes());
        head.extend_from_slice(&(value.len() as u16).to_be_bytes());
        body.extend_from_slice(value);
        offset += value.len();
    }
    head.push(0xFF);
    head.extend(body);
    head
}

/// What the server reads of a LOGIN7.
pub struct Login7 {
    pub username: String,
    /// In the clear (the obfuscation undone).
    pub password: String,
    pub database: String,
    pub packet_size: u32,
}

fn utf16(bytes: &[u8]) -> Option<String> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// The (offset, length in characters) field at `at` of the fixed part, as bytes.
fn field(data: &[u8], at: usize) -> Option<&[u8]> {
    let offset = u16::from_le_bytes([*data.get(at)?, *data.get(at + 1)?]) as usize;
    let chars = u16::from_le_bytes([*data.get(at + 2)?, *data.get(at + 3)?]) as usize;
    data.get(offset..offset + chars * 2)
}

/// Parses a LOGIN7 (2.2.6.4): the fixed 36 bytes, then offset/length pairs from byte 36
/// (HostName, UserName at 40, Password at 44, AppName, ServerName, Extension, CltIntName,
/// Language, Database at 68, …).
pub fn parse_login7(data: &[u8]) -> Option<Login7> {
    if data.len() < 94 {
        return None;
    }
    let packet_size = u32::from_le_bytes(data[8..12].try_into().ok()?);
    let username = utf16(field(data, 40)?)?;
    // Each byte: nibbles swapped, then XOR 0xA5; undone in reverse.
    let password: Vec<u8> = field(data, 44)?
        .iter()
        .map(|b| {
            let x = b ^ 0xA5;
            x.rotate_left(4)
        })
        .collect();
    let password = utf16(&password)?;
    let database = utf16(field(data, 68)?)?;
    Some(Login7 {
        username,
        password,
        database,
        packet_size,
    })
}

/// The SQL text of a SQL_BATCH: ALL_HEADERS (its total length first) skipped.
pub fn batch_text(data: &[u8]) -> Option<String> {
    let total = u32::from_le_bytes(data.get(0..4)?.try_into().ok()?) as usize;
    let text = if total >= 4 && total <= data.len() {
        &data[total..]
    } else {
        data
    };
    utf16(text)
}

/// A response's token stream.
#[derive(Default)]
pub struct Tokens(pub Vec<u8>);

impl Tokens {
    fn b_varchar(&mut self, s: &str) {
        let units: Vec<u16> = s.encode_utf16().collect();
        self.0.push(units.len() as u8);
        for u in units {
            self.0.extend_from_slice(&u.to_le_bytes());
        }
    }

    fn us_varchar(&mut self, s: &str) {
        let units: Vec<u16> = s.encode_utf16().collect();
        self.0
            .extend_from_slice(&(units.len() as u16).to_le_bytes());
        for u in units {
            self.0.extend_from_slice(&u.to_le_bytes());
        }
    }

    /// Writes `token` with a u16 length before what `body` writes.
    fn with_length(&mut self, token: u8, body: impl FnOnce(&mut Tokens)) {
        let mut inner = Tokens::default();
        body(&mut inner);
        self.0.push(token);
        self.0
            .extend_from_slice(&(inner.0.len() as u16).to_le_bytes());
        self.0.extend(inner.0);
    }

    /// ENVCHANGE with string values (1 database, 2 language, 4 packet size).
    pub fn env_change(&mut self, kind: u8, new: &str, old: &str) {
        self.with_length(0xE3, |t| {
            t.0.push(kind);
            t.b_varchar(new);
            t.b_varchar(old);
        });
    }

    fn message(&mut self, token: u8, number: i32, class: u8, text: &str) {
        self.with_length(token, |t| {
            t.0.extend_from_slice(&number.to_le_bytes());
            t.0.push(1); // state
            t.0.push(class);
            t.us_varchar(text);
            t.b_varchar("rotary-mssql");
            t.b_varchar("");
            t.0.extend_from_slice(&1i32.to_le_bytes()); // line number
        });
    }

    pub fn info(&mut self, number: i32, text: &str) {
        self.message(0xAB, number, 0, text);
    }

    pub fn error(&mut self, number: i32, class: u8, text: &str) {
        self.message(0xAA, number, class, text);
    }

    pub fn login_ack(&mut self) {
        self.with_length(0xAD, |t| {
            t.0.push(1); // SQL_TSQL
            t.0.extend_from_slice(&TDS_7_4.to_be_bytes());
            t.b_varchar("Microsoft SQL Server");
            t.0.extend_from_slice(&VERSION);
        });
    }

    /// One unnamed INT column and one row holding `value` (what `SELECT 1` returns).
    pub fn int_row(&mut self, value: i32) {
        self.0.push(0x81); // COLMETADATA
        self.0.extend_from_slice(&1u16.to_le_bytes());
        self.0.extend_from_slice(&0u32.to_le_bytes()); // user type
        self.0.extend_from_slice(&0u16.to_le_bytes()); // flags
        self.0.push(0x38); // INT4
        self.b_varchar("");
        self.0.push(0xD1); // ROW
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    /// DONE: `command` is the statement's token (0xC1 SELECT, 0 otherwise).
    pub fn done(&mut self, status: u16, command: u16, rows: u64) {
        self.0.push(0xFD);
        self.0.extend_from_slice(&status.to_le_bytes());
        self.0.extend_from_slice(&command.to_le_bytes());
        self.0.extend_from_slice(&rows.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelogin_round_trip() {
        let reply = prelogin_reply(ENCRYPT_ON);
        assert_eq!(prelogin_encryption(&reply), Some(ENCRYPT_ON));
    }

    #[test]
    fn password_obfuscation_is_undone() {
        // A LOGIN7 with only a user name and a password, obfuscated as clients do.
        let mut data = vec![0u8; 94];
        let user: Vec<u8> = "sa".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let pw: Vec<u8> = "Pw1!"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .map(|b| b.rotate_left(4) ^ 0xA5)
            .collect();
        data[40..42].copy_from_slice(&94u16.to_le_bytes());
        data[42..44].copy_from_slice(&2u16.to_le_bytes());
        data[44..46].copy_from_slice(&(94 + user.len() as u16).to_le_bytes());
        data[46..48].copy_from_slice(&4u16.to_le_bytes());
        data[68..70].copy_from_slice(&94u16.to_le_bytes());
        data.extend(user);
        data.extend(pw);
        let login = parse_login7(&data).unwrap();
        assert_eq!(login.username, "sa");
        assert_eq!(login.password, "Pw1!");
        assert_eq!(login.database, "");
    }
}

//! The SQL Rotary's Oracle protocol server runs, with Oracle's identifier rule: an unquoted
//! name is folded to upper case, a double-quoted one is taken exactly (and cannot contain a
//! double quote). Passwords follow the same quoting and are case-sensitive either way.
//!
//! - `SELECT <integer> FROM DUAL`
//! - `ALTER USER <name> IDENTIFIED BY <password> [REPLACE <old>] [ACCOUNT LOCK | UNLOCK]`
//! - `ALTER USER <name> ACCOUNT LOCK | UNLOCK`
//! - `CREATE USER <name> IDENTIFIED BY <password>`
//! - `GRANT CREATE SESSION | ALTER USER | ALL PRIVILEGES [, …] TO <name>`
//!
//! Oracle runs one statement per call: a trailing `;` is ORA-00911.

#[derive(Debug, PartialEq, Eq)]
pub enum Statement {
    Select(i64),
    AlterUser {
        name: String,
        password: Option<String>,
        replace: Option<String>,
        lock: Option<bool>,
    },
    CreateUser {
        name: String,
        password: String,
    },
    Grant {
        privileges: Vec<Privilege>,
        to: String,
    },
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Privilege {
    CreateSession,
    AlterUser,
    All,
}

/// An ORA- error: its number and text without the "ORA-nnnnn: " prefix.
#[derive(Debug, PartialEq, Eq)]
pub struct OraError(pub u32, pub String);

impl OraError {
    pub fn text(&self) -> String {
        format!("ORA-{:05}: {}", self.0, self.1)
    }
}

#[derive(Debug, PartialEq, Eq, Clone)]
enum Token {
    /// An unquoted word, as written.
    Word(String),
    /// A double-quoted name.
    Quoted(String),
    Number(i64),
    Comma,
    Other(char),
}

fn tokens(sql: &str) -> Result<Vec<Token>, OraError> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => s.push(c),
                    None => {
                        return Err(OraError(1740, "missing double quote in identifier".into()))
                    }
                }
            }
            if s.is_empty() {
                return Err(OraError(1741, "illegal zero-length identifier".into()));
            }
            out.push(Token::Quoted(s));
        } else if c.is_ascii_alphabetic() {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '#' {
                    s.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Token::Word(s));
        } else if c.is_ascii_digit() || c == '-' {
            let mut s = String::new();
            s.push(c);
            chars.next();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_digit() {
                    s.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            match s.parse() {
                Ok(n) => out.push(Token::Number(n)),
                Err(_) => out.push(Token::Other('-')),
            }
        } else if c == ',' {
            chars.next();
            out.push(Token::Comma);
        } else {
            chars.next();
            out.push(Token::Other(c));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

fn invalid_option() -> OraError {
    OraError(922, "missing or invalid option".into())
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.peek_word(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, word: &str, error: fn() -> OraError) -> Result<(), OraError> {
        if self.eat(word) {
            Ok(())
        } else {
            Err(error())
        }
    }

    /// A user name, by Oracle's rule.
    fn name(&mut self) -> Result<String, OraError> {
        let name = match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => w.to_uppercase(),
            Some(Token::Quoted(q)) => q.clone(),
            _ => return Err(invalid_option()),
        };
        self.pos += 1;
        if name.len() > 128 {
            return Err(OraError(972, "identifier is too long".into()));
        }
        Ok(name)
    }

    /// A password: quoted or not, as written.
    fn password(&mut self) -> Result<String, OraError> {
        let password = match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => w.clone(),
            Some(Token::Quoted(q)) => q.clone(),
            _ => return Err(OraError(988, "missing or invalid password(s)".into())),
        };
        self.pos += 1;
        // Oracle Database 12c–21c take passwords of up to 30 bytes.
        if password.len() > 30 {
            return Err(OraError(988, "missing or invalid password(s)".into()));
        }
        Ok(password)
    }

    fn end(&self) -> Result<(), OraError> {
        match self.tokens.get(self.pos) {
            None => Ok(()),
            Some(Token::Other(';')) => Err(OraError(911, "invalid character".into())),
            Some(_) => Err(OraError(933, "SQL command not properly ended".into())),
        }
    }
}

pub fn parse(sql: &str) -> Result<Statement, OraError> {
    let mut p = Parser {
        tokens: tokens(sql)?,
        pos: 0,
    };
    let invalid = || OraError(900, "invalid SQL statement".into());
    if p.eat("SELECT") {
        let Some(Token::Number(n)) = p.tokens.get(p.pos).cloned() else {
            return Err(OraError(936, "missing expression".into()));
        };
        p.pos += 1;
        p.expect("FROM", || {
            OraError(923, "FROM keyword not found where expected".into())
        })?;
        if !p.eat("DUAL") {
            return Err(OraError(942, "table or view does not exist".into()));
        }
        p.end()?;
        return Ok(Statement::Select(n));
    }
    if p.eat("ALTER") {
        p.expect("USER", invalid)?;
        let name = p.name()?;
        let mut password = None;
        let mut replace = None;
        let mut lock = None;
        loop {
            if p.eat("IDENTIFIED") {
                p.expect("BY", invalid_option)?;
                password = Some(p.password()?);
                if p.eat("REPLACE") {
                    replace = Some(p.password()?);
                }
            } else if p.eat("ACCOUNT") {
                lock = Some(if p.eat("LOCK") {
                    true
                } else if p.eat("UNLOCK") {
                    false
                } else {
                    return Err(invalid_option());
                });
            } else {
                break;
            }
        }
        if password.is_none() && lock.is_none() {
            return Err(invalid_option());
        }
        p.end()?;
        return Ok(Statement::AlterUser {
            name,
            password,
            replace,
            lock,
        });
    }
    if p.eat("CREATE") {
        p.expect("USER", invalid)?;
        let name = p.name()?;
        p.expect("IDENTIFIED", invalid_option)?;
        p.expect("BY", invalid_option)?;
        let password = p.password()?;
        p.end()?;
        return Ok(Statement::CreateUser { name, password });
    }
    if p.eat("GRANT") {
        let mut privileges = Vec::new();
        loop {
            let privilege = if p.eat("CREATE") {
                p.expect("SESSION", invalid_option)?;
                Privilege::CreateSession
            } else if p.eat("ALTER") {
                p.expect("USER", invalid_option)?;
                Privilege::AlterUser
            } else if p.eat("ALL") {
                p.expect("PRIVILEGES", invalid_option)?;
                Privilege::All
            } else {
                return Err(OraError(990, "missing or invalid privilege".into()));
            };
            privileges.push(privilege);
            if p.tokens.get(p.pos) == Some(&Token::Comma) {
                p.pos += 1;
            } else {
                break;
            }
        }
        p.expect("TO", || OraError(905, "missing keyword".into()))?;
        let to = p.name()?;
        p.end()?;
        return Ok(Statement::Grant { privileges, to });
    }
    Err(invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_case_rule_and_statements() {
        assert_eq!(parse("select 1 from dual"), Ok(Statement::Select(1)));
        assert_eq!(parse("SELECT 1 FROM DUAL;").unwrap_err().0, 911);
        assert_eq!(
            parse(r#"ALTER USER "app_user" IDENTIFIED BY "Pw-1!x""#),
            Ok(Statement::AlterUser {
                name: "app_user".into(),
                password: Some("Pw-1!x".into()),
                replace: None,
                lock: None
            })
        );
        assert_eq!(
            parse("alter user infisical_user identified by Secret1 replace Old1 account unlock"),
            Ok(Statement::AlterUser {
                name: "INFISICAL_USER".into(),
                password: Some("Secret1".into()),
                replace: Some("Old1".into()),
                lock: Some(false)
            })
        );
        assert_eq!(
            parse(r#"ALTER USER "a"b" IDENTIFIED BY "x""#)
                .unwrap_err()
                .0,
            1740
        );
        assert_eq!(
            parse(&format!(
                r#"ALTER USER U IDENTIFIED BY "{}""#,
                "x".repeat(31)
            ))
            .unwrap_err()
            .0,
            988
        );
        assert_eq!(
            parse("CREATE USER INFISICAL_USER IDENTIFIED BY \"temporary_password\""),
            Ok(Statement::CreateUser {
                name: "INFISICAL_USER".into(),
                password: "temporary_password".into()
            })
        );
        assert_eq!(
            parse("GRANT ALL PRIVILEGES TO INFISICAL_USER"),
            Ok(Statement::Grant {
                privileges: vec![Privilege::All],
                to: "INFISICAL_USER".into()
            })
        );
        assert_eq!(parse("DROP TABLE x").unwrap_err().0, 900);
        assert_eq!(parse("SELECT 1 FROM users").unwrap_err().0, 942);
    }
}

//! The T-SQL the protocol server understands: `SELECT <integer>`, `ALTER LOGIN` (PASSWORD,
//! OLD_PASSWORD, CHECK_POLICY, CHECK_EXPIRATION; ENABLE / DISABLE) and `CREATE LOGIN … WITH
//! PASSWORD`, as SQL Server's documentation writes them. Names are `[bracketed]` (`]]` inside),
//! `"quoted"` or bare; literals `'…'` or `N'…'` (`''` inside). Anything else is a syntax error,
//! as SQL Server reports one: error 102, "Incorrect syntax near '…'."

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Name(String),
    Literal(String),
    Number(i64),
    Symbol(char),
}

#[derive(Debug, PartialEq)]
pub enum Statement {
    Select(i64),
    AlterLogin {
        name: String,
        change: LoginChange,
    },
    CreateLogin {
        name: String,
        password: String,
        check_policy: bool,
    },
}

#[derive(Debug, PartialEq)]
pub enum LoginChange {
    Password {
        password: String,
        old_password: Option<String>,
        check_policy: Option<bool>,
    },
    /// CHECK_POLICY / CHECK_EXPIRATION without a password.
    Options {
        check_policy: Option<bool>,
    },
    Enable(bool),
}

/// Where parsing stopped: the text SQL Server's error 102 quotes.
#[derive(Debug, PartialEq)]
pub struct SyntaxError(pub String);

fn tokens(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize, close: char| -> Result<String, SyntaxError> {
        let mut s = String::new();
        *i += 1;
        loop {
            match chars.get(*i) {
                None => return Err(SyntaxError(s)),
                Some(&c) if c == close => {
                    if chars.get(*i + 1) == Some(&close) {
                        s.push(close);
                        *i += 2;
                    } else {
                        *i += 1;
                        return Ok(s);
                    }
                }
                Some(&c) => {
                    s.push(c);
                    *i += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '[' {
            out.push(Token::Name(quoted(&mut i, ']')?));
        } else if c == '"' {
            out.push(Token::Name(quoted(&mut i, '"')?));
        } else if c == '\'' {
            out.push(Token::Literal(quoted(&mut i, '\'')?));
        } else if (c == 'N' || c == 'n') && chars.get(i + 1) == Some(&'\'') {
            i += 1;
            out.push(Token::Literal(quoted(&mut i, '\'')?));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while chars.get(i).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Token::Number(
                text.parse().map_err(|_| SyntaxError(text.clone()))?,
            ));
        } else if c.is_alphanumeric() || c == '_' || c == '@' || c == '#' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|d| d.is_alphanumeric() || matches!(d, '_' | '@' | '#' | '$'))
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Token::Symbol(c));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    /// The error for the token here (or the end).
    fn near(&self) -> SyntaxError {
        SyntaxError(match self.peek() {
            None => String::new(),
            Some(Token::Word(w) | Token::Name(w)) => w.clone(),
            Some(Token::Literal(l)) => l.clone(),
            Some(Token::Number(n)) => n.to_string(),
            Some(Token::Symbol(c)) => c.to_string(),
        })
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, word: &str) -> Result<(), SyntaxError> {
        if self.keyword(word) {
            Ok(())
        } else {
            Err(self.near())
        }
    }

    fn symbol(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Symbol(c)) {
            self.at += 1;
            return true;
        }
        false
    }

    fn name(&mut self) -> Result<String, SyntaxError> {
        match self.peek().cloned() {
            Some(Token::Name(n) | Token::Word(n)) => {
                self.at += 1;
                Ok(n)
            }
            _ => Err(self.near()),
        }
    }

    fn literal(&mut self) -> Result<String, SyntaxError> {
        match self.peek().cloned() {
            Some(Token::Literal(l)) => {
                self.at += 1;
                Ok(l)
            }
            _ => Err(self.near()),
        }
    }

    fn on_off(&mut self) -> Result<bool, SyntaxError> {
        if self.keyword("ON") {
            Ok(true)
        } else if self.keyword("OFF") {
            Ok(false)
        } else {
            Err(self.near())
        }
    }

    fn statement(&mut self) -> Result<Statement, SyntaxError> {
        if self.keyword("SELECT") {
            return match self.peek().cloned() {
                Some(Token::Number(n)) => {
                    self.at += 1;
                    Ok(Statement::Select(n))
                }
                _ => Err(self.near()),
            };
        }
        if self.keyword("ALTER") {
            self.expect("LOGIN")?;
            let name = self.name()?;
            if self.keyword("ENABLE") {
                return Ok(Statement::AlterLogin {
                    name,
                    change: LoginChange::Enable(true),
                });
            }
            if self.keyword("DISABLE") {
                return Ok(Statement::AlterLogin {
                    name,
                    change: LoginChange::Enable(false),
                });
            }
            self.expect("WITH")?;
            let (mut password, mut old_password, mut check_policy) = (None, None, None);
            loop {
                if self.keyword("PASSWORD") {
                    if !self.symbol('=') {
                        return Err(self.near());
                    }
                    password = Some(self.literal()?);
                    if self.keyword("OLD_PASSWORD") {
                        if !self.symbol('=') {
                            return Err(self.near());
                        }
                        old_password = Some(self.literal()?);
                    }
                } else if self.keyword("CHECK_POLICY") {
                    if !self.symbol('=') {
                        return Err(self.near());
                    }
                    check_policy = Some(self.on_off()?);
                } else if self.keyword("CHECK_EXPIRATION") {
                    if !self.symbol('=') {
                        return Err(self.near());
                    }
                    self.on_off()?;
                } else {
                    return Err(self.near());
                }
                if !self.symbol(',') {
                    break;
                }
            }
            let change = match password {
                Some(password) => LoginChange::Password {
                    password,
                    old_password,
                    check_policy,
                },
                None => LoginChange::Options { check_policy },
            };
            return Ok(Statement::AlterLogin { name, change });
        }
        if self.keyword("CREATE") {
            self.expect("LOGIN")?;
            let name = self.name()?;
            self.expect("WITH")?;
            self.expect("PASSWORD")?;
            if !self.symbol('=') {
                return Err(self.near());
            }
            let password = self.literal()?;
            let mut check_policy = true;
            while self.symbol(',') {
                if self.keyword("CHECK_POLICY") && self.symbol('=') {
                    check_policy = self.on_off()?;
                } else if self.keyword("CHECK_EXPIRATION") && self.symbol('=') {
                    self.on_off()?;
                } else {
                    return Err(self.near());
                }
            }
            return Ok(Statement::CreateLogin {
                name,
                password,
                check_policy,
            });
        }
        Err(self.near())
    }
}

/// The statements of a batch, `;`-separated. One syntax error fails the whole batch (SQL
/// Server compiles a batch before running any of it).
pub fn parse(text: &str) -> Result<Vec<Statement>, SyntaxError> {
    let mut parser = Parser {
        tokens: tokens(text)?,
        at: 0,
    };
    let mut statements = Vec::new();
    loop {
        while parser.symbol(';') {}
        if parser.peek().is_none() {
            return Ok(statements);
        }
        statements.push(parser.statement()?);
        if parser.peek().is_some() && !parser.symbol(';') {
            return Err(parser.near());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements() {
        assert_eq!(parse("SELECT 1").unwrap(), vec![Statement::Select(1)]);
        assert_eq!(
            parse("ALTER LOGIN [a]]b] WITH PASSWORD = N'it''s', CHECK_POLICY = OFF;").unwrap(),
            vec![Statement::AlterLogin {
                name: "a]b".into(),
                change: LoginChange::Password {
                    password: "it's".into(),
                    old_password: None,
                    check_policy: Some(false)
                }
            }]
        );
        assert_eq!(
            parse("alter login u with password = 'n' old_password = 'o'").unwrap(),
            vec![Statement::AlterLogin {
                name: "u".into(),
                change: LoginChange::Password {
                    password: "n".into(),
                    old_password: Some("o".into()),
                    check_policy: None
                }
            }]
        );
        assert_eq!(
            parse("-- make one\nCREATE LOGIN [x] WITH PASSWORD = 'p'; SELECT 2").unwrap(),
            vec![
                Statement::CreateLogin {
                    name: "x".into(),
                    password: "p".into(),
                    check_policy: true
                },
                Statement::Select(2)
            ]
        );
        assert_eq!(
            parse("GRANT CONNECT SQL TO x"),
            Err(SyntaxError("GRANT".into()))
        );
        assert_eq!(
            parse("ALTER LOGIN [x] WITH PASSWORD = 'unterminated"),
            Err(SyntaxError("unterminated".into()))
        );
    }
}

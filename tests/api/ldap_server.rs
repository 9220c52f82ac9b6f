//! Throwaway `slapd`s for the LDAP tests: one per world, on free loopback ports (ldap:// for
//! StartTLS and ldaps://, with a certificate from a test CA), in a directory of its own under
//! `ROTARY_LDAP_DIR` (scripts/with-slapd.sh sets it and kills what is left at the end), killed
//! when dropped. The tree `dc=rotary,dc=test` holds a `manager` that may reset passwords and
//! users added by the tests; every account may change its own password.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings};

pub const BASE: &str = "dc=rotary,dc=test";
pub const ADMIN: &str = "cn=admin,dc=rotary,dc=test";
pub const MANAGER: &str = "cn=manager,dc=rotary,dc=test";

pub struct LdapServer {
    child: Child,
    pub port: u16,
    pub tls_port: u16,
    pub cert: crate::test_cert::TestCert,
    pub dir: PathBuf,
    pub admin_password: String,
    pub manager_password: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn binary() -> String {
    std::env::var("SLAPD").unwrap_or_else(|_| {
        let path = "/usr/sbin/slapd";
        assert!(
            std::path::Path::new(path).exists(),
            "slapd is missing: run scripts/test.sh (scripts/with-slapd.sh installs it)"
        );
        path.into()
    })
}

impl LdapServer {
    pub async fn start() -> LdapServer {
        let parent = std::env::var("ROTARY_LDAP_DIR").unwrap_or_else(|_| "/tmp".into());
        let dir =
            PathBuf::from(parent).join(format!("rotary-slapd-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let cert = crate::test_cert::TestCert::new(&["localhost", "127.0.0.1"]);
        cert.write(&dir);
        let admin_password = format!("admin-{}", uuid::Uuid::new_v4().simple());
        let manager_password = format!("manager-{}", uuid::Uuid::new_v4().simple());
        let d = dir.display();
        std::fs::write(
            dir.join("slapd.conf"),
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 pidfile {d}/slapd.pid\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 TLSCACertificateFile {d}/ca.pem\n\
                 TLSCertificateFile {d}/cert.pem\n\
                 TLSCertificateKeyFile {d}/key.pem\n\
                 database mdb\n\
                 maxsize 20971520\n\
                 suffix \"{BASE}\"\n\
                 rootdn \"{ADMIN}\"\n\
                 rootpw {admin_password}\n\
                 directory {d}/data\n\
                 access to attrs=userPassword\n  by self write\n  by dn.exact=\"{MANAGER}\" write\n  by anonymous auth\n  by * none\n\
                 access to * by * read\n"
            ),
        )
        .unwrap();
        let mut started = None;
        for _ in 0..5 {
            let (port, tls_port) = (free_port(), free_port());
            let child = Command::new(binary())
                .arg("-f")
                .arg(dir.join("slapd.conf"))
                .arg("-h")
                .arg(format!(
                    "ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"
                ))
                .args(["-d", "0"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("slapd runs");
            let mut server = LdapServer {
                child,
                port,
                tls_port,
                cert: crate::test_cert::TestCert {
                    ca_pem: cert.ca_pem.clone(),
                    cert_pem: cert.cert_pem.clone(),
                    key_pem: cert.key_pem.clone(),
                },
                dir: dir.clone(),
                admin_password: admin_password.clone(),
                manager_password: manager_password.clone(),
            };
            if server.ready().await {
                started = Some(server);
                break;
            }
            let _ = server.child.kill();
        }
        let server = started.expect("slapd did not start");
        server
            .add(
                BASE,
                &[
                    ("objectClass", "dcObject"),
                    ("objectClass", "organization"),
                    ("o", "Rotary"),
                    ("dc", "rotary"),
                ],
            )
            .await;
        server
            .add(
                MANAGER,
                &[
                    ("objectClass", "person"),
                    ("cn", "manager"),
                    ("sn", "manager"),
                    ("userPassword", &manager_password),
                ],
            )
            .await;
        server
            .add(
                &format!("ou=people,{BASE}"),
                &[("objectClass", "organizationalUnit"), ("ou", "people")],
            )
            .await;
        server
    }

    async fn ready(&mut self) -> bool {
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.bind(ADMIN, &self.admin_password.clone()).await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        false
    }

    /// Whether `dn` binds with `password` (over plain ldap://: the tests' own check).
    pub async fn bind(&self, dn: &str, password: &str) -> bool {
        let Ok((conn, mut ldap)) = LdapConnAsync::with_settings(
            LdapConnSettings::new().set_conn_timeout(Duration::from_secs(5)),
            &format!("ldap://127.0.0.1:{}", self.port),
        )
        .await
        else {
            return false;
        };
        ldap3::drive!(conn);
        let ok = matches!(ldap.simple_bind(dn, password).await, Ok(r) if r.rc == 0);
        let _ = ldap.unbind().await;
        ok
    }

    async fn admin(&self) -> ldap3::Ldap {
        let (conn, mut ldap) = LdapConnAsync::new(&format!("ldap://127.0.0.1:{}", self.port))
            .await
            .unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(ADMIN, &self.admin_password)
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap
    }

    /// Adds an entry as the admin.
    pub async fn add(&self, dn: &str, attrs: &[(&str, &str)]) {
        let mut grouped: Vec<(String, std::collections::HashSet<String>)> = Vec::new();
        for (k, v) in attrs {
            match grouped.iter_mut().find(|(name, _)| name == k) {
                Some((_, values)) => {
                    values.insert(v.to_string());
                }
                None => grouped.push((k.to_string(), [v.to_string()].into())),
            }
        }
        let mut ldap = self.admin().await;
        ldap.add(dn, grouped)
            .await
            .unwrap()
            .success()
            .unwrap_or_else(|e| panic!("add {dn}: {e}"));
    }

    /// A user `uid=<uid>,ou=people,…` with `password`; its DN.
    pub async fn user(&self, uid: &str, password: &str) -> String {
        let dn = format!("uid={uid},ou=people,{BASE}");
        self.add(
            &dn,
            &[
                ("objectClass", "inetOrgPerson"),
                ("uid", uid),
                ("cn", uid),
                ("sn", uid),
                ("userPassword", password),
            ],
        )
        .await;
        dn
    }

    /// Sets `dn`'s password as the admin (behind Rotary's back).
    pub async fn set_password(&self, dn: &str, password: &str) {
        let mut ldap = self.admin().await;
        ldap.modify(
            dn,
            vec![ldap3::Mod::Replace("userPassword", [password].into())],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    }
}

impl Drop for LdapServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

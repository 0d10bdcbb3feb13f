//! The startup text of the local proxies (`tool/tsh/common/proxy.go` `dbProxyTpl`/`onProxyCommandApp`, `kube_proxy.go`), with the real bound address.

use crate::encode::table;

/// `To avoid port randomization…`: printed only when the port was chosen at random.
const RANDOM_PORT: &str = "To avoid port randomization, you can choose the listening port using the --port flag.\n";
const CONNECT_NOTICE: &str = "Teleport Connect is a desktop app that can manage database proxies for you.\n\
Learn more at https://goteleport.com/docs/connect-your-client/teleport-connect/#connecting-to-a-database\n";

/// Where the profile's files live and whom they belong to.
#[derive(Debug, Clone)]
pub struct Profile {
    /// `$TELEPORT_HOME`, else `~/.tsh`.
    pub home: String,
    /// The proxy's host name (the key directory's name).
    pub proxy: String,
    pub cluster: String,
    pub user: String,
}

impl Profile {
    fn keys(&self) -> String {
        format!("{}/keys/{}", self.home, self.proxy)
    }

    /// The ephemeral kubeconfig of a kube proxy on `port` (`localproxy-<port>-kubeconfig` in the
    /// profile's kube directory, `tool/tsh/common/kube_proxy.go`).
    pub fn kubeconfig_path(&self, port: u16) -> String {
        format!("{}/{}-kube/{}/localproxy-{port}-kubeconfig", self.keys(), self.user, self.cluster)
    }
}

/// What `tsh proxy db` was asked for.
#[derive(Debug, Clone)]
pub struct Db<'a> {
    pub name: &'a str,
    pub user: Option<&'a str>,
    pub database: Option<&'a str>,
    pub tunnel: bool,
}

/// `dbProxyTpl` / `dbProxyAuthTpl`. The simulator's databases are all PostgreSQL.
pub fn db(db: &Db, profile: &Profile, port: u16, random: bool) -> String {
    let mut out = if db.tunnel {
        format!(
            "Started authenticated tunnel for the PostgreSQL database \"{}\" in cluster \"{}\" on 127.0.0.1:{port}.\n",
            db.name, profile.cluster
        )
    } else {
        format!("Started DB proxy on 127.0.0.1:{port}\n")
    };
    if random {
        out.push_str(RANDOM_PORT);
    }
    out.push('\n');
    out.push_str(CONNECT_NOTICE);
    out.push('\n');
    if db.tunnel {
        let user = db.user.map(|u| format!("{u}@")).unwrap_or_default();
        let name = db.database.map(|n| format!("/{n}")).unwrap_or_default();
        out.push_str(
            "Use the following command to connect to the database or to the address above using other database GUI/CLI clients:\n",
        );
        out.push_str(&format!("  $ psql postgres://{user}localhost:{port}{name}\n"));
        return out;
    }
    let keys = profile.keys();
    out.push_str(&format!("Use the following credentials to connect to the {} proxy:\n", db.name));
    out.push_str(&format!("  ca_file={keys}/cas/{}.pem\n", profile.cluster));
    out.push_str(&format!("  cert_file={keys}/{}-db/{}/{}-x509.pem\n", profile.user, profile.cluster, db.name));
    out.push_str(&format!("  key_file={keys}/{}\n\n", profile.user));
    let user = db.user.map(|u| format!("Your database user is \"{u}\"."));
    let name = db.database.map(|n| format!("The target database name is \"{n}\"."));
    let sentences: Vec<String> = user.into_iter().chain(name).collect();
    if !sentences.is_empty() {
        out.push_str(&format!("{}\n\n", sentences.join(" ")));
    }
    out
}

/// `onProxyCommandApp` (also `tsh proxy mcp` in 18.x); `target` is the multi-port TCP target.
pub fn app(name: &str, target: Option<&str>, port: u16, random: bool) -> String {
    let name = match target {
        Some(target) => format!("{name}:{target}"),
        None => name.to_owned(),
    };
    let mut out = format!("Proxying connections to {name} on 127.0.0.1:{port}\n");
    if random && target.is_none() {
        out.push_str(RANDOM_PORT);
    }
    out
}

/// `tsh proxy kube`: the clusters table, the address, and the ephemeral kubeconfig to use.
pub fn kube(clusters: &[String], named: bool, profile: &Profile, port: u16, random: bool) -> String {
    let mut out = String::from(if named {
        "Preparing the following Teleport Kubernetes clusters:\n"
    } else {
        "Preparing the following Teleport Kubernetes clusters from the default kubeconfig:\n"
    });
    let rows: Vec<Vec<String>> = clusters
        .iter()
        .map(|kube| vec![profile.cluster.clone(), kube.clone(), format!("{}-{kube}", profile.cluster)])
        .collect();
    out.push_str(&table::render(&["Teleport Cluster Name", "Kube Cluster Name", "Context Name"], &rows));
    out.push_str(&format!("\nStarted local proxy for Kubernetes on 127.0.0.1:{port}\n"));
    if random {
        out.push_str(RANDOM_PORT);
    }
    out.push_str("\nUse the following config for your Kubernetes applications. For example:\n");
    out.push_str(&format!("export KUBECONFIG=\"{}\"\nkubectl version\n\n", profile.kubeconfig_path(port)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            home: "/home/alice/.tsh".into(),
            proxy: "teleport.example.com".into(),
            cluster: "teleport.example.com".into(),
            user: "alice".into(),
        }
    }

    #[test]
    fn db_text_matches_the_reference_example() {
        let db = Db { name: "orders-db", user: Some("app"), database: Some("orders"), tunnel: false };
        let text = self::db(&db, &profile(), 61740, true);
        assert!(text.starts_with("Started DB proxy on 127.0.0.1:61740\nTo avoid port randomization"));
        assert!(text.contains(
            "  cert_file=/home/alice/.tsh/keys/teleport.example.com/alice-db/teleport.example.com/orders-db-x509.pem\n"
        ));
        assert!(text.ends_with("Your database user is \"app\". The target database name is \"orders\".\n\n"));

        let tunnel = Db { tunnel: true, ..db };
        let text = self::db(&tunnel, &profile(), 61740, false);
        assert!(text.starts_with(
            "Started authenticated tunnel for the PostgreSQL database \"orders-db\" in cluster \"teleport.example.com\" on 127.0.0.1:61740.\n\n"
        ));
        assert!(text.ends_with("  $ psql postgres://app@localhost:61740/orders\n"));
    }

    #[test]
    fn app_and_kube_texts() {
        assert_eq!(app("grafana", None, 52811, false), "Proxying connections to grafana on 127.0.0.1:52811\n");
        assert_eq!(app("tcp", Some("80"), 1, true), "Proxying connections to tcp:80 on 127.0.0.1:1\n");
        let text = kube(&["prod-eks".into()], true, &profile(), 54321, true);
        assert!(text.contains("teleport.example.com  prod-eks          teleport.example.com-prod-eks"));
        assert!(text.contains("\n\nStarted local proxy for Kubernetes on 127.0.0.1:54321\nTo avoid"));
        assert!(text.contains("/alice-kube/teleport.example.com/localproxy-54321-kubeconfig\"\n"));
    }
}

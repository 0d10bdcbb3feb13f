//! A uniquely named database per test, created on the server named by `DATABASE_URL` and dropped
//! when the test ends.

use sqlx::{Connection, PgConnection, PgPool};

/// A migrated database of its own.
pub struct TestDb {
    pub name: String,
    pub url: String,
    admin_url: String,
    pub pool: PgPool,
}

fn server_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must point at a PostgreSQL server the tests may create databases on; \
         run the tests with `scripts/test`, which starts a private server when it is unset",
    )
}

/// Replace the database part of a URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

impl TestDb {
    /// Create and migrate a fresh database.
    pub async fn new() -> anyhow::Result<Self> {
        let db = Self::create().await?;
        mtcp_shared::db::migrate(&db.pool).await?;
        Ok(db)
    }

    /// A database that exists but was never migrated.
    pub async fn unmigrated() -> anyhow::Result<Self> {
        Self::create().await
    }

    /// Create and migrate a fresh database on another server than `DATABASE_URL`'s (a private
    /// server a test may stop and start).
    pub async fn on_server(server: &str) -> anyhow::Result<Self> {
        let db = Self::create_on(server.to_owned()).await?;
        mtcp_shared::db::migrate(&db.pool).await?;
        Ok(db)
    }

    async fn create() -> anyhow::Result<Self> {
        Self::create_on(server_url()).await
    }

    async fn create_on(server: String) -> anyhow::Result<Self> {
        let admin_url = with_database(&server, "postgres");
        let name = format!("mtcp_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
        let url = with_database(&server, &name);
        let pool = mtcp_shared::db::connect(&url, 5, std::time::Duration::from_secs(10)).await?;
        Ok(Self { name, url, admin_url, pool })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside any runtime guarantee: use a short-lived one on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database() {
        assert_eq!(with_database("postgres://u@h:5/x", "y"), "postgres://u@h:5/y");
        assert_eq!(with_database("postgres://u@h:5", "y"), "postgres://u@h:5/y");
        assert_eq!(with_database("postgres://u@h/x?sslmode=disable", "y"), "postgres://u@h/y?sslmode=disable");
    }
}

//! Saved requests: named requests grouped in collections, shared with all staff (who created and
//! who last changed each is recorded), stored in the console's database without credentials.

use std::sync::Arc;

use app::wire::{ConsoleError, ExecuteRequest, SaveRequest, SavedRequest};

use crate::clock::SharedClock;
use crate::db::Database;
use crate::error::database;
use crate::history::storable_request;
use crate::on_engine;

pub const DEFAULT_COLLECTION: &str = "General";
const MAX_NAME: usize = 120;

#[derive(Clone)]
pub struct SavedStore {
    db: Database,
    clock: SharedClock,
}

fn clean(label: &str, value: &str, default: Option<&str>) -> Result<String, ConsoleError> {
    let value = value.trim();
    let value = match (value.is_empty(), default) {
        (true, Some(default)) => default,
        (true, None) => return Err(ConsoleError::InvalidRequest(format!("give the saved request a {label}"))),
        (false, _) => value,
    };
    if value.chars().count() > MAX_NAME || value.chars().any(char::is_control) {
        return Err(ConsoleError::InvalidRequest(format!(
            "the {label} must be at most {MAX_NAME} characters, without control characters"
        )));
    }
    Ok(value.to_owned())
}

impl SavedStore {
    pub fn new(db: Database, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self { db, clock })
    }

    /// Every saved request, by collection then name.
    pub async fn list(&self) -> Result<Vec<SavedRequest>, ConsoleError> {
        // `lower()` rather than a collation: the one case-insensitive order both engines share.
        let rows: Vec<SavedRow> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT id, name, collection, request_json, created_by, updated_by, updated_at_ms
             FROM saved_requests ORDER BY lower(collection), lower(name), id",
        )
        .fetch_all(pool)
        .await)
        .map_err(database)?;
        rows.into_iter().map(saved).collect()
    }

    /// Creates (`id: None`) or updates a saved request; names are unique within a collection.
    pub async fn save(&self, staff: &str, input: SaveRequest) -> Result<SavedRequest, ConsoleError> {
        let name = clean("name", &input.name, None)?;
        let collection = clean("collection", &input.collection, Some(DEFAULT_COLLECTION))?;
        let request = serde_json::to_string(&storable_request(&input.request))
            .map_err(|e| ConsoleError::Internal(format!("cannot encode the request: {e}")))?;
        let now = self.clock.wall_ms();
        let result: Result<i64, sqlx::Error> = match input.id {
            None => on_engine!(&self.db, pool => sqlx::query_as(
                "INSERT INTO saved_requests (name, collection, request_json, created_by, updated_by, created_at_ms, updated_at_ms)
                 VALUES ($1, $2, $3, $4, $4, $5, $5) RETURNING id",
            )
            .bind(&name)
            .bind(&collection)
            .bind(&request)
            .bind(staff)
            .bind(now)
            .fetch_one(pool)
            .await
            .map(|(id,): (i64,)| id)),
            Some(id) => on_engine!(&self.db, pool => sqlx::query(
                "UPDATE saved_requests SET name = $1, collection = $2, request_json = $3, updated_by = $4, updated_at_ms = $5
                 WHERE id = $6",
            )
            .bind(&name)
            .bind(&collection)
            .bind(&request)
            .bind(staff)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|done| if done.rows_affected() == 0 { -1 } else { id })),
        };
        let id = match result {
            Ok(-1) => return Err(ConsoleError::InvalidRequest("that saved request no longer exists".into())),
            Ok(id) => id,
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(ConsoleError::InvalidRequest(format!(
                    "{collection:?} already has a request named {name:?}: pick another name or edit that one"
                )))
            }
            Err(error) => return Err(database(error)),
        };
        self.get(id).await
    }

    pub async fn get(&self, id: i64) -> Result<SavedRequest, ConsoleError> {
        let row: Option<SavedRow> = on_engine!(&self.db, pool => sqlx::query_as(
            "SELECT id, name, collection, request_json, created_by, updated_by, updated_at_ms FROM saved_requests WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)
        .map_err(database)?;
        saved(row.ok_or_else(|| ConsoleError::InvalidRequest("that saved request no longer exists".into()))?)
    }

    pub async fn delete(&self, id: i64) -> Result<(), ConsoleError> {
        let done = on_engine!(&self.db, pool => sqlx::query("DELETE FROM saved_requests WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(database)?;
        if done == 0 {
            return Err(ConsoleError::InvalidRequest("that saved request no longer exists".into()));
        }
        Ok(())
    }
}

/// id, name, collection, request_json, created_by, updated_by, updated_at_ms.
type SavedRow = (i64, String, String, String, String, String, i64);

fn saved(row: SavedRow) -> Result<SavedRequest, ConsoleError> {
    let (id, name, collection, request_json, created_by, updated_by, updated_at_ms) = row;
    let request: ExecuteRequest = serde_json::from_str(&request_json)
        .map_err(|e| ConsoleError::Internal(format!("a saved request is unreadable: {e}")))?;
    Ok(SavedRequest { id, name, collection, request, created_by, updated_by, updated_at_ms, can_change: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    async fn store() -> (Arc<SavedStore>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("a55-saved-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Database::Sqlite(crate::db::open(&dir.join("console.db")).await.unwrap());
        (SavedStore::new(db, ManualClock::new()), dir)
    }

    fn input(name: &str, collection: &str) -> SaveRequest {
        SaveRequest {
            id: None,
            name: name.into(),
            collection: collection.into(),
            request: ExecuteRequest {
                environment: "sandbox".into(),
                method: "GET".into(),
                path: "/wallets".into(),
                headers: vec![("Authorization".into(), "Bearer x".into())],
                ..ExecuteRequest::default()
            },
        }
    }

    #[tokio::test]
    async fn saved_requests_are_shared_grouped_edited_and_deleted() {
        let (store, dir) = store().await;
        let first = store.save("ana", input("Wallets", "")).await.unwrap();
        assert_eq!(first.collection, DEFAULT_COLLECTION);
        assert!(first.request.headers.is_empty(), "credentials are never saved");
        store.save("ana", input("Alpha", "Partner X")).await.unwrap();
        let error = store.save("bruno", input("Wallets", "General")).await.unwrap_err();
        assert!(error.to_string().contains("already has a request named \"Wallets\""), "{error}");
        let edited =
            store.save("bruno", SaveRequest { id: Some(first.id), ..input("Wallets v2", "General") }).await.unwrap();
        assert_eq!((edited.created_by.as_str(), edited.updated_by.as_str()), ("ana", "bruno"));
        let names: Vec<(String, String)> =
            store.list().await.unwrap().into_iter().map(|s| (s.collection, s.name)).collect();
        assert_eq!(names, vec![("General".into(), "Wallets v2".into()), ("Partner X".into(), "Alpha".into())]);
        store.delete(first.id).await.unwrap();
        assert_eq!(store.list().await.unwrap().len(), 1);
        assert!(store.delete(first.id).await.is_err());
        assert!(store
            .save("ana", input("  ", "x"))
            .await
            .unwrap_err()
            .to_string()
            .contains("give the saved request a name"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

//! Rows that every request reads, kept in memory for a moment.
//!
//! Each signed-in page, fragment and API call resolves its session or token
//! first; under load that lookup was the dominant cost of a cheap page (one
//! SQLite round trip to a connection worker per request; scripts/bench,
//! measure 2). A row is reused for at most [`FRESH_FOR`]. Changes made by this
//! process (sign-out) drop the row at once; a change made to the database file
//! by another process takes effect within [`FRESH_FOR`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const FRESH_FOR: Duration = Duration::from_secs(2);
/// Enough for every session of a large team; past it, stale rows are swept
/// and, if that is not enough, everything is dropped (the database still has it).
const CAPACITY: usize = 4096;

#[derive(Debug)]
pub struct Recent<T> {
    rows: Mutex<HashMap<String, (Instant, T)>>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent { rows: Mutex::new(HashMap::new()) }
    }
}

impl<T: Clone> Recent<T> {
    fn rows(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, T)>> {
        // Plain map operations: a poisoned lock still holds a consistent map.
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<T> {
        let rows = self.rows();
        rows.get(key).filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, row)| row.clone())
    }

    /// Stores a row read at `read_at` (taken before the read, so a row that
    /// was slow to arrive is not kept longer than [`FRESH_FOR`] after it).
    pub fn put(&self, key: &str, read_at: Instant, row: T) {
        let mut rows = self.rows();
        if rows.len() >= CAPACITY && !rows.contains_key(key) {
            rows.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
            if rows.len() >= CAPACITY {
                rows.clear();
            }
        }
        rows.insert(key.to_owned(), (read_at, row));
    }

    pub fn forget(&self, key: &str) {
        self.rows().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_reused_until_stale_and_forgotten_on_demand() {
        let recent = Recent::<u32>::default();
        recent.put("a", Instant::now(), 1);
        assert_eq!(recent.get("a"), Some(1));
        recent.forget("a");
        assert_eq!(recent.get("a"), None);
        let long_ago = Instant::now().checked_sub(FRESH_FOR * 2).expect("the clock has run long enough");
        recent.put("b", long_ago, 2);
        assert_eq!(recent.get("b"), None, "a row older than FRESH_FOR is read again");
    }

    #[test]
    fn a_full_cache_sweeps_instead_of_growing() {
        let recent = Recent::<usize>::default();
        let long_ago = Instant::now().checked_sub(FRESH_FOR * 2).expect("the clock has run long enough");
        for i in 0..CAPACITY {
            recent.put(&i.to_string(), long_ago, i);
        }
        recent.put("new", Instant::now(), 7);
        assert_eq!(recent.rows().len(), 1);
        assert_eq!(recent.get("new"), Some(7));
    }
}

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
    inner: Mutex<Inner<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    rows: HashMap<String, (Instant, T)>,
    /// When each key was last forgotten, so a read that started before that
    /// cannot put the old row back.
    forgotten: HashMap<String, Instant>,
    /// When every key was last forgotten (a user disabled, demoted, deleted).
    all_forgotten: Option<Instant>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent { inner: Mutex::new(Inner { rows: HashMap::new(), forgotten: HashMap::new(), all_forgotten: None }) }
    }
}

impl<T: Clone> Recent<T> {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        // Plain map operations: a poisoned lock still holds consistent maps.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<T> {
        self.get_within(key, FRESH_FOR)
    }

    /// A row read less than `age` ago. Longer than [`FRESH_FOR`] suits a
    /// caller that only needs to notice changes this process makes (which
    /// forget the row at once) and can wait `age` for anyone else's.
    pub fn get_within(&self, key: &str, age: Duration) -> Option<T> {
        let inner = self.inner();
        inner.rows.get(key).filter(|(at, _)| at.elapsed() < age).map(|(_, row)| row.clone())
    }

    /// Stores a row read at `read_at` (taken before the read, so a row that
    /// was slow to arrive is not kept longer than [`FRESH_FOR`] after it),
    /// unless the key was forgotten since.
    pub fn put(&self, key: &str, read_at: Instant, row: T) {
        let mut inner = self.inner();
        if inner.forgotten.get(key).is_some_and(|at| *at >= read_at)
            || inner.all_forgotten.is_some_and(|at| at >= read_at)
        {
            return;
        }
        if inner.rows.len() >= CAPACITY && !inner.rows.contains_key(key) {
            inner.rows.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
            if inner.rows.len() >= CAPACITY {
                inner.rows.clear();
            }
        }
        inner.rows.insert(key.to_owned(), (read_at, row));
    }

    pub fn forget(&self, key: &str) {
        let mut inner = self.inner();
        inner.rows.remove(key);
        // A read older than FRESH_FOR could not be stored anyway.
        inner.forgotten.retain(|_, at| at.elapsed() < FRESH_FOR);
        inner.forgotten.insert(key.to_owned(), Instant::now());
    }

    /// Drops every row: a change to a user reaches all their sessions and
    /// tokens, whose keys this cache does not index by user.
    pub fn forget_all(&self) {
        let mut inner = self.inner();
        inner.rows.clear();
        inner.all_forgotten = Some(Instant::now());
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
    fn a_read_that_started_before_a_forget_is_not_kept() {
        let recent = Recent::<u32>::default();
        let read_at = Instant::now();
        recent.forget("a");
        recent.put("a", read_at, 1);
        assert_eq!(recent.get("a"), None, "the row may predate the forget");
        recent.put("a", Instant::now(), 2);
        assert_eq!(recent.get("a"), Some(2), "a read after it is kept");
    }

    #[test]
    fn forgetting_everything_also_refuses_reads_that_started_before() {
        let recent = Recent::<u32>::default();
        recent.put("a", Instant::now(), 1);
        let read_at = Instant::now();
        recent.forget_all();
        assert_eq!(recent.get("a"), None);
        recent.put("b", read_at, 2);
        assert_eq!(recent.get("b"), None, "the row may predate the change");
    }

    #[test]
    fn a_full_cache_sweeps_instead_of_growing() {
        let recent = Recent::<usize>::default();
        let long_ago = Instant::now().checked_sub(FRESH_FOR * 2).expect("the clock has run long enough");
        for i in 0..CAPACITY {
            recent.put(&i.to_string(), long_ago, i);
        }
        recent.put("new", Instant::now(), 7);
        assert_eq!(recent.inner().rows.len(), 1);
        assert_eq!(recent.get("new"), Some(7));
    }
}

//! Several hawaf processes ("replicas") on one PostgreSQL database.
//!
//! One replica leads: it holds the `leader` lease and does everything that
//! must happen once (the lab's servers, health monitors, builds, drills,
//! schedules, drift checks, webhook deliveries). The others forward every
//! request but `/healthz`, `/metrics` and static assets to it, so any replica
//! answers any request and a load balancer in front needs no stickiness.
//! When the leader dies its lease expires and a follower takes over: it
//! starts the lab from its saved state, carries out a crashed drill's
//! pending restores and starts the monitors.
//!
//! A leader that cannot renew its lease exits before the lease can expire
//! for the others (as Kubernetes' controllers do on a lost election): work
//! is never done by two replicas at once, and the process supervisor starts
//! it again as a follower. On SQLite there is one process, which leads
//! without a lease.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::store::Store;

/// The lease every replica competes for.
pub const LEADER: &str = "leader";
/// How long a lease lasts without renewal, and how often it is renewed.
pub const TTL: Duration = Duration::from_secs(10);
pub const RENEW: Duration = Duration::from_secs(2);
/// A leader that has not renewed for this long stops (exits): the lease
/// still has `TTL - STEP_DOWN` to run, so no peer has taken over yet.
pub const STEP_DOWN: Duration = Duration::from_secs(7);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The only process (SQLite).
    Single,
    Leader {
        generation: i64,
    },
    /// `leader` is the URL requests go to (None until one is known).
    Follower {
        leader: Option<String>,
    },
}

#[derive(Debug)]
pub struct Replica {
    /// Unique per process: host name, process id and a random part.
    pub id: String,
    /// Where peers reach this replica.
    pub url: String,
    role: RwLock<Role>,
    pub takeovers: AtomicU64,
    pub forwarded: AtomicU64,
}

impl Replica {
    pub fn new(url: String, role: Role) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let id = format!("{}-{}-{:06x}", host.trim(), std::process::id(), rand::random::<u32>() & 0xff_ffff);
        Replica { id, url, role: RwLock::new(role), takeovers: AtomicU64::new(0), forwarded: AtomicU64::new(0) }
    }

    pub fn role(&self) -> Role {
        // A poisoned lock only means a panic while setting a plain value.
        self.role.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_role(&self, role: Role) {
        *self.role.write().unwrap_or_else(|e| e.into_inner()) = role;
    }

    /// Whether this replica does the work that must run once.
    pub fn leads(&self) -> bool {
        matches!(self.role(), Role::Single | Role::Leader { .. })
    }

    /// Where to forward a request, when another replica leads.
    pub fn forward_to(&self) -> Option<Result<String, ()>> {
        match self.role() {
            Role::Single | Role::Leader { .. } => None,
            Role::Follower { leader: Some(url) } => Some(Ok(url)),
            Role::Follower { leader: None } => Some(Err(())),
        }
    }

    /// One attempt at the leader lease: true when this replica holds it afterwards.
    pub async fn claim(&self, store: &Store) -> Result<bool, crate::store::StoreError> {
        let ttl = i64::try_from(TTL.as_millis()).unwrap_or(i64::MAX);
        let lease = store.claim_lease(LEADER, &self.id, &self.url, ttl).await?;
        if lease.owner == self.id {
            if !matches!(self.role(), Role::Leader { .. }) && lease.generation > 1 {
                self.takeovers.fetch_add(1, Ordering::Relaxed);
            }
            self.set_role(Role::Leader { generation: lease.generation });
            store.set_fence(&self.id, lease.generation);
            Ok(true)
        } else {
            self.set_role(Role::Follower { leader: Some(lease.owner_url) });
            Ok(false)
        }
    }

    /// Keeps the lease (leader) or waits for it (follower), calling `lead`
    /// once on taking it over. Never returns; exits the process when the
    /// lease is lost.
    pub async fn run<F, Fut>(&self, store: Store, lead: F)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut lead = if self.leads() { None } else { Some(lead) };
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(RENEW).await;
            let was_leader = self.leads();
            match self.claim(&store).await {
                Ok(true) => {
                    renewed = Instant::now();
                    if let Some(lead) = lead.take() {
                        tracing::warn!(replica = %self.id, "took the leader lease over: this replica now does the work");
                        // Spawned: the lease keeps being renewed while the lab starts.
                        tokio::spawn(lead());
                    }
                }
                Ok(false) if was_leader => {
                    tracing::error!(replica = %self.id, "another replica holds the leader lease now; exiting");
                    std::process::exit(1);
                }
                Ok(false) => {}
                Err(e) if was_leader && renewed.elapsed() >= STEP_DOWN => {
                    tracing::error!(replica = %self.id, error = %e, "cannot renew the leader lease; exiting before it expires");
                    std::process::exit(1);
                }
                Err(e) => {
                    tracing::warn!(replica = %self.id, error = %e, "cannot reach the database for the leader lease")
                }
            }
        }
    }

    /// A clean stop: hand the lease over at once.
    pub async fn release(&self, store: &Store) {
        if matches!(self.role(), Role::Leader { .. })
            && let Err(e) = store.release_lease(LEADER, &self.id).await
        {
            tracing::warn!(error = %e, "cannot release the leader lease; it expires on its own");
        }
    }
}

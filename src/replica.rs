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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::store::{LeaseRow, Store};

/// The lease every replica competes for.
pub const LEADER: &str = "leader";
/// How long a lease lasts without renewal, and how often it is renewed.
pub const TTL: Duration = Duration::from_secs(10);
pub const RENEW: Duration = Duration::from_secs(2);
/// A leader that has not renewed for this long stops (exits): the lease
/// still has `TTL - STEP_DOWN` to run, so no peer has taken over yet.
/// Every attempt is bounded, so the check runs even when the database hangs:
/// the last renewal that could succeed starts before `STEP_DOWN` and ends
/// within `CLAIM_TIMEOUT`, 8.5 s after the last success at most.
pub const STEP_DOWN: Duration = Duration::from_secs(6);
pub const CLAIM_TIMEOUT: Duration = Duration::from_millis(2500);

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
    /// Set by `release`: the lease is no longer renewed or claimed.
    stopping: AtomicBool,
}

impl Replica {
    pub fn new(url: String, role: Role) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let id = format!("{}-{}-{:06x}", host.trim(), std::process::id(), rand::random::<u32>() & 0xff_ffff);
        Replica {
            id,
            url,
            role: RwLock::new(role),
            takeovers: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
        }
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

    /// One bounded attempt at the leader lease, answering it as it stands.
    async fn attempt(&self, store: &Store) -> Result<LeaseRow, String> {
        let ttl = i64::try_from(TTL.as_millis()).unwrap_or(i64::MAX);
        match tokio::time::timeout(CLAIM_TIMEOUT, store.claim_lease(LEADER, &self.id, &self.url, ttl)).await {
            Ok(Ok(lease)) => Ok(lease),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", CLAIM_TIMEOUT.as_millis())),
        }
    }

    /// This replica has the lease: fence its writes with the generation, and
    /// count a takeover when the lease was someone else's before.
    fn took(&self, lease: &LeaseRow, store: &Store) {
        store.set_fence(&self.id, lease.generation);
        if lease.generation > 1 {
            self.takeovers.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The first attempt, at start: the generation when this replica now
    /// holds the lease (call `started` once its work is up), None when
    /// another does (this replica then forwards to it).
    pub async fn claim(&self, store: &Store) -> Result<Option<i64>, String> {
        let lease = self.attempt(store).await?;
        if lease.owner == self.id {
            self.took(&lease, store);
            Ok(Some(lease.generation))
        } else {
            self.set_role(Role::Follower { leader: Some(lease.owner_url) });
            Ok(None)
        }
    }

    /// The leader's work is up: serve requests here instead of forwarding them.
    pub fn started(&self, generation: i64) {
        self.set_role(Role::Leader { generation });
    }

    /// Keeps the lease (while leading, `claimed_at` being when it was last
    /// claimed) or waits for it, then runs `lead` once on taking it over and
    /// serves locally only when `lead` is done (until then requests get 503,
    /// not a half-started leader). Returns after `release`; exits the
    /// process when the lease is lost or cannot be renewed in time.
    pub async fn run<F, Fut>(&self, store: Store, leading: bool, claimed_at: Instant, lead: F)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        enum Phase {
            Following,
            Starting(tokio::task::JoinHandle<()>, i64),
            Leading,
        }
        let mut phase = if leading { Phase::Leading } else { Phase::Following };
        let mut lead = Some(lead);
        let mut renewed = claimed_at;
        loop {
            tokio::time::sleep(RENEW).await;
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
            let asked = Instant::now();
            match (self.attempt(&store).await, phase) {
                (Ok(lease), current) if lease.owner == self.id => {
                    renewed = asked;
                    phase = match current {
                        Phase::Following => {
                            self.took(&lease, &store);
                            self.set_role(Role::Follower { leader: None });
                            tracing::warn!(replica = %self.id, "took the leader lease over: starting the leader's work");
                            // Spawned: the lease keeps being renewed while the lab starts.
                            let work = lead.take().map(|lead| tokio::spawn(lead()));
                            match work {
                                Some(handle) => Phase::Starting(handle, lease.generation),
                                None => Phase::Leading,
                            }
                        }
                        Phase::Starting(handle, generation) if handle.is_finished() => {
                            self.started(generation);
                            tracing::info!(replica = %self.id, "the leader's work is up; serving here");
                            Phase::Leading
                        }
                        other => other,
                    };
                }
                (Ok(lease), Phase::Following) => {
                    self.set_role(Role::Follower { leader: Some(lease.owner_url) });
                    phase = Phase::Following;
                }
                (Ok(_), _) => {
                    tracing::error!(replica = %self.id, "another replica holds the leader lease now; exiting");
                    std::process::exit(1);
                }
                (Err(e), Phase::Following) => {
                    tracing::warn!(replica = %self.id, error = %e, "cannot reach the database for the leader lease");
                    phase = Phase::Following;
                }
                (Err(e), current) => {
                    if renewed.elapsed() >= STEP_DOWN {
                        tracing::error!(replica = %self.id, error = %e, "cannot renew the leader lease; exiting before it expires");
                        std::process::exit(1);
                    }
                    tracing::warn!(replica = %self.id, error = %e, "cannot renew the leader lease; retrying");
                    phase = current;
                }
            }
        }
    }

    /// A clean stop: stop renewing and hand the lease over at once.
    pub async fn release(&self, store: &Store) {
        self.stopping.store(true, Ordering::Relaxed);
        if matches!(self.role(), Role::Leader { .. })
            && let Err(e) = store.release_lease(LEADER, &self.id).await
        {
            tracing::warn!(error = %e, "cannot release the leader lease; it expires on its own");
        }
    }
}

//! The scheduler loop on an injected clock (paused tokio time), exact to the millisecond:
//! posts are claimed at their due millisecond, retries at exactly what the network asked,
//! Mastodon holds what is far enough ahead, the grace window decides between sending late and
//! holding as missed, and an account that needs reconnecting holds its posts.
//!
//! Time only moves when a test advances it: a task that keeps yielding keeps tokio from
//! auto-advancing while the database and the fakes work on real threads and sockets.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use postwerk_core::Core;
use postwerk_core::clock::{Clock, TokioClock, stamp};
use postwerk_core::planner::{QueueSlot, Repeat};
use postwerk_core::publish::{HeldBy, PublishEvent, TargetState};
use postwerk_networks::backoff::Backoff;

use common::{Env, env};

struct Paused {
    clock: Arc<TokioClock>,
    core: Core,
    keeper: tokio::task::JoinHandle<()>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Paused {
    fn drop(&mut self) {
        self.keeper.abort();
        if let Some(s) = &self.scheduler {
            s.abort();
        }
    }
}

/// Pauses tokio's clock and gives the env's core a wall clock that reads `start` now.
///
/// A keeper always has a blocking task in flight, which stops tokio from auto-advancing: the
/// clock moves only when the test says so, while sockets, the database's threads and timers
/// that are due still run.
async fn pause_at(env: &Env, start: DateTime<Utc>) -> Paused {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    tokio::time::pause();
    let clock = Arc::new(TokioClock::starting_at(start));
    let keeper = tokio::spawn(async {
        let nap = || tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(2)));
        let mut previous = nap();
        loop {
            let next = nap();
            let _ = previous.await;
            previous = next;
        }
    });
    let core = env
        .core
        .clone()
        .with_clock(clock.clone())
        .with_backoff(Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(1),
        });
    Paused {
        clock,
        core,
        keeper,
        scheduler: None,
    }
}

/// Waits a little in real time without a tokio timer (the clock stands still meanwhile).
async fn real_pause() {
    let _ = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(2))).await;
}

impl Paused {
    fn start_scheduler(&mut self) {
        let core = self.core.clone();
        self.scheduler = Some(tokio::spawn(postwerk_core::scheduler::run_owned(core)));
    }

    /// Moves the clock to `at`: to just under the next millisecond of tokio's timer wheel,
    /// so every timer due at `at` fires, and the clock reads exactly `at`.
    async fn advance_to(&self, at: DateTime<Utc>) {
        let target = (at - self.clock.start()).to_std().unwrap() + Duration::from_nanos(999_999);
        let elapsed = tokio::time::Instant::now().duration_since(self.clock.origin());
        assert!(target >= elapsed, "cannot go back to {at}");
        tokio::time::advance(target - elapsed).await;
        assert_eq!(self.clock.now(), at);
        self.settle().await;
    }

    /// Lets woken tasks run (real threads answer meanwhile; the clock stands still).
    async fn settle(&self) {
        let until = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < until {
            real_pause().await;
        }
    }

    async fn state(&self, target: &str) -> (String, Option<String>, Option<String>) {
        sqlx::query_as("SELECT state, claimed_at, next_attempt_at FROM post_targets WHERE id = ?")
            .bind(target)
            .fetch_one(self.core.store().pool())
            .await
            .unwrap()
    }

    /// Waits (in real time, the clock standing still) until the target reaches `state`.
    async fn wait_for(
        &self,
        target: &str,
        state: &str,
    ) -> (String, Option<String>, Option<String>) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.state(target).await;
            if s.0 == state {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "target {target} never became {state}: {s:?}"
            );
            real_pause().await;
        }
    }
}

async fn target_of(core: &Core, post: &str) -> String {
    sqlx::query_scalar("SELECT id FROM post_targets WHERE post_id = ?")
        .bind(post)
        .fetch_one(core.store().pool())
        .await
        .unwrap()
}

impl Paused {
    /// A draft of `text` for one account, scheduled at `at` (the workspace's wall clock):
    /// (post id, target id).
    async fn scheduled(&self, env: &Env, text: &str, account: &str, at: &str) -> (String, String) {
        let post = env.draft(text, vec![], env.only(account)).await;
        self.core.schedule_post(&post, at).await.unwrap();
        let target = target_of(&self.core, &post).await;
        (post, target)
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn creates(env: &Env) -> usize {
    env.bsky
        .requests()
        .iter()
        .filter(|r| r.path == "/xrpc/com.atproto.repo.createRecord")
        .count()
}

#[tokio::test]
async fn posts_go_out_at_their_due_millisecond_and_retries_at_what_the_network_asked() {
    let env = env().await;
    // 08:59:59.123 UTC; the workspace is in Berlin (UTC+1 in December).
    let start =
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 59, 59).unwrap() + chrono::Duration::milliseconds(123);
    let mut p = pause_at(&env, start).await;
    let (_, first_t) = p
        .scheduled(&env, "Punkt zehn", &env.bsky_account, "2026-12-01 10:00")
        .await;
    let (_, second_t) = p
        .scheduled(
            &env,
            "Eine Minute später",
            &env.bsky_account,
            "2026-12-01 10:01",
        )
        .await;
    let (held, held_t) = p
        .scheduled(
            &env,
            "Mastodon hält das",
            &env.masto_account,
            "2026-12-01 10:30",
        )
        .await;
    let (_, soon_t) = p
        .scheduled(
            &env,
            "Zu knapp für Mastodon",
            &env.masto_account,
            "2026-12-01 10:05",
        )
        .await;
    p.start_scheduler();

    // At once: the post 30 minutes ahead goes to Mastodon's scheduler; the one 5 min 0.877 s
    // ahead is too close (5 min + 30 s margin) and stays with Postwerk.
    let (_, claimed, _) = p.wait_for(&held_t, "handed_off").await;
    assert_eq!(claimed.as_deref(), Some("2026-12-01T08:59:59.123Z"));
    assert_eq!(env.mastodon.scheduled().len(), 1);
    assert_eq!(p.state(&soon_t).await.0, "scheduled");
    let items = p
        .core
        .publisher()
        .queue(Some(&env.workspace))
        .await
        .unwrap();
    let held_by = |t: &str| items.iter().find(|i| i.target_id == t).unwrap().held_by;
    assert_eq!(held_by(&held_t), HeldBy::Network);
    assert_eq!(held_by(&soon_t), HeldBy::Postwerk);
    assert_eq!(
        items
            .iter()
            .find(|i| i.target_id == first_t)
            .unwrap()
            .local_time
            .as_deref(),
        Some("2026-12-01 10:00")
    );

    // One millisecond early: nothing. At the millisecond: claimed and sent.
    p.advance_to(utc("2026-12-01T08:59:59.999Z")).await;
    assert_eq!(p.state(&first_t).await.0, "scheduled");
    assert_eq!(creates(&env), 0);
    p.advance_to(utc("2026-12-01T09:00:00.000Z")).await;
    let (_, claimed, _) = p.wait_for(&first_t, "published").await;
    assert_eq!(claimed.as_deref(), Some("2026-12-01T09:00:00.000Z"));
    assert_eq!(env.bsky.records().len(), 1);

    // The next one meets a 503 with Retry-After: 7 and is tried again exactly 7 s later.
    env.bsky
        .fail_next_retry_after("/xrpc/com.atproto.repo.createRecord", 503, 1, 7);
    p.advance_to(utc("2026-12-01T09:01:00.000Z")).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (state, claimed, next) = loop {
        let s = p.state(&second_t).await;
        if s.2.is_some() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "{s:?}");
        real_pause().await;
    };
    assert_eq!(state, "scheduled");
    assert_eq!(claimed.as_deref(), Some("2026-12-01T09:01:00.000Z"));
    assert_eq!(next.as_deref(), Some("2026-12-01T09:01:07.000Z"));
    p.advance_to(utc("2026-12-01T09:01:06.999Z")).await;
    assert_eq!(p.state(&second_t).await.0, "scheduled");
    assert_eq!(env.bsky.records().len(), 1);
    p.advance_to(utc("2026-12-01T09:01:07.000Z")).await;
    let (_, claimed, _) = p.wait_for(&second_t, "published").await;
    assert_eq!(claimed.as_deref(), Some("2026-12-01T09:01:07.000Z"));
    assert_eq!(env.bsky.records().len(), 2);

    // The close one is sent by Postwerk at 10:05 Berlin.
    p.advance_to(utc("2026-12-01T09:05:00.000Z")).await;
    let (_, claimed, _) = p.wait_for(&soon_t, "published").await;
    assert_eq!(claimed.as_deref(), Some("2026-12-01T09:05:00.000Z"));

    // Mastodon publishes its copy at 10:30 Berlin; the next look finds it and its link.
    assert_eq!(
        env.mastodon
            .publish_due_scheduled(utc("2026-12-01T09:30:00Z"))
            .len(),
        1
    );
    p.advance_to(utc("2026-12-01T09:30:00.000Z")).await;
    p.wait_for(&held_t, "published").await;
    let statuses = env.mastodon.statuses();
    assert_eq!(
        statuses.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(),
        ["Zu knapp für Mastodon", "Mastodon hält das"]
    );
    let outcome = p.core.publisher().outcomes(&held).await.unwrap().remove(0);
    assert!(outcome.url.unwrap().ends_with(&statuses[1].id));
    assert_eq!(creates(&env), 3, "one failed attempt, two records");
}

#[tokio::test]
async fn on_start_a_post_within_the_grace_window_goes_out_and_a_later_one_is_missed() {
    let env = env().await;
    // Scheduled the evening before, while Postwerk ran; then it was not running until 09:00.
    let evening = Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap();
    let within = env
        .draft(
            "Genau 15 Minuten zu spät",
            vec![],
            env.only(&env.bsky_account),
        )
        .await;
    let beyond = env
        .draft("Eine Sekunde mehr", vec![], env.only(&env.bsky_account))
        .await;
    let publisher = env.core.publisher().clone();
    publisher
        .schedule(&within, "2026-12-01 09:45:00", evening)
        .await
        .unwrap();
    publisher
        .schedule(&beyond, "2026-12-01 09:44:59", evening)
        .await
        .unwrap();
    let (within_t, beyond_t) = (
        target_of(&env.core, &within).await,
        target_of(&env.core, &beyond).await,
    );

    let mut p = pause_at(&env, utc("2026-12-01T09:00:00.000Z")).await; // 10:00 Berlin
    let mut events = p.core.publisher().subscribe();
    p.start_scheduler();
    let (_, claimed, _) = p.wait_for(&within_t, "published").await;
    assert_eq!(claimed.as_deref(), Some("2026-12-01T09:00:00.000Z"));
    p.wait_for(&beyond_t, "missed").await;
    assert_eq!(env.bsky.records().len(), 1);
    let missed = loop {
        match events.try_recv() {
            Ok(PublishEvent::Missed {
                target_id,
                scheduled_local,
                ..
            }) => break (target_id, scheduled_local),
            Ok(_) => continue,
            Err(e) => panic!("no missed event: {e:?}"),
        }
    };
    assert_eq!(missed, (beyond_t.clone(), "2026-12-01 09:44".to_string()));
    // It waits for the user: still missed a minute later.
    p.advance_to(utc("2026-12-01T09:01:00.000Z")).await;
    assert_eq!(p.state(&beyond_t).await.0, "missed");
    let item = p
        .core
        .publisher()
        .queue(Some(&env.workspace))
        .await
        .unwrap();
    assert_eq!(
        item.iter()
            .find(|i| i.target_id == beyond_t)
            .unwrap()
            .held_by,
        HeldBy::Nobody
    );

    // The user publishes it now.
    let outcome = p.core.publish_target_now(&beyond_t).await.unwrap();
    assert_eq!(outcome.state, TargetState::Published);
    assert_eq!(env.bsky.records().len(), 2);
    // A wider grace window is a setting.
    let mut scheduling = p.core.settings().scheduling().await.unwrap();
    assert_eq!(scheduling.grace_minutes, 15);
    scheduling.grace_minutes = 60 * 24 * 8;
    assert!(
        p.core.set_scheduling(scheduling).await.is_err(),
        "at most a week"
    );
}

#[tokio::test]
async fn an_account_that_needs_reconnecting_holds_its_posts_until_it_is_reconnected() {
    let env = env().await;
    let mut p = pause_at(&env, utc("2026-12-01T08:00:00.000Z")).await;
    let (post, target) = p
        .scheduled(
            &env,
            "Warte auf mich",
            &env.bsky_account,
            "2026-12-01 09:10",
        )
        .await;
    sqlx::query("UPDATE accounts SET health = 'needs_reconnect', health_detail = 'the app password was revoked' WHERE id = ?")
        .bind(&env.bsky_account)
        .execute(p.core.store().pool())
        .await
        .unwrap();
    p.start_scheduler();
    p.advance_to(utc("2026-12-01T08:10:00.000Z")).await;
    p.wait_for(&target, "needs_reconnect").await;
    let before = env.bsky.requests().len();
    let outcome = p.core.publisher().outcomes(&post).await.unwrap().remove(0);
    assert_eq!(
        outcome.error.as_deref(),
        Some("the app password was revoked")
    );
    // Reconnected five minutes later: sent at once (within the grace window), once.
    p.advance_to(utc("2026-12-01T08:15:00.000Z")).await;
    assert_eq!(
        env.bsky.requests().len(),
        before,
        "nothing is tried meanwhile"
    );
    sqlx::query("UPDATE accounts SET health = 'ok', health_detail = NULL WHERE id = ?")
        .bind(&env.bsky_account)
        .execute(p.core.store().pool())
        .await
        .unwrap();
    p.advance_to(utc("2026-12-01T08:15:01.000Z")).await;
    p.wait_for(&target, "published").await;
    assert_eq!(env.bsky.records().len(), 1);
}

#[tokio::test]
async fn moving_pausing_and_cancelling_a_post_held_by_mastodon_is_passed_on() {
    let env = env().await;
    let mut p = pause_at(&env, utc("2026-12-01T08:00:00.000Z")).await;
    let (_, target) = p
        .scheduled(&env, "Verschiebbar", &env.masto_account, "2026-12-01 12:00")
        .await;
    p.start_scheduler();
    p.wait_for(&target, "handed_off").await;
    let held = env.mastodon.scheduled();
    assert_eq!(held.len(), 1);
    assert_eq!(utc(&held[0].scheduled_at), utc("2026-12-01T11:00:00Z"));

    // Moved to 13:00 Berlin: Mastodon's copy moves too.
    let item = p
        .core
        .reschedule_target(&target, "2026-12-01 13:00")
        .await
        .unwrap();
    assert_eq!(item.state, TargetState::HandedOff);
    assert_eq!(
        utc(&env.mastodon.scheduled()[0].scheduled_at),
        utc("2026-12-01T12:00:00Z")
    );

    // Moved to 09:03 Berlin, three minutes ahead: too close, so Postwerk takes it back.
    let item = p
        .core
        .reschedule_target(&target, "2026-12-01 09:03")
        .await
        .unwrap();
    assert_eq!(
        (item.state, item.held_by),
        (TargetState::Scheduled, HeldBy::Postwerk)
    );
    assert!(env.mastodon.scheduled()[0].deleted);

    // Paused, moved to the afternoon and resumed: handed off again, with a new key.
    p.core.publisher().pause_target(&target).await.unwrap();
    p.core
        .reschedule_target(&target, "2026-12-01 15:00")
        .await
        .unwrap();
    p.advance_to(utc("2026-12-01T08:03:00.000Z")).await;
    assert_eq!(
        p.state(&target).await.0,
        "paused",
        "a paused post stays put"
    );
    p.core.publisher().resume_target(&target).await.unwrap();
    p.wait_for(&target, "handed_off").await;
    let held = env.mastodon.scheduled();
    assert_eq!(held.len(), 2);
    assert_eq!(utc(&held[1].scheduled_at), utc("2026-12-01T14:00:00Z"));

    // Cancelled: gone from Mastodon too, and never sent.
    let item = p.core.publisher().cancel_target(&target).await.unwrap();
    assert_eq!(item.state, TargetState::Cancelled);
    assert!(env.mastodon.scheduled().iter().all(|s| s.deleted));
    p.advance_to(utc("2026-12-01T14:30:00.000Z")).await;
    assert_eq!(
        env.mastodon
            .publish_due_scheduled(utc("2026-12-01T14:30:00Z"))
            .len(),
        0
    );
    assert!(env.mastodon.statuses().is_empty());
}

#[tokio::test]
async fn a_weekly_post_keeps_its_wall_clock_time_across_the_daylight_saving_change() {
    let env = env().await;
    let mut p = pause_at(&env, utc("2026-10-19T06:00:00.000Z")).await;
    let post = env
        .draft("Wochenangebot", vec![], env.only(&env.bsky_account))
        .await;
    p.core
        .publisher()
        .set_repeat(
            &post,
            Repeat {
                every_days: Some(7),
                evergreen_gap_days: None,
            },
        )
        .await
        .unwrap();
    // Tuesday 20 October, 10:00 Berlin (UTC+2), then 27 October after the clocks went back.
    p.core
        .schedule_post(&post, "2026-10-20 10:00")
        .await
        .unwrap();
    p.start_scheduler();
    p.advance_to(utc("2026-10-20T08:00:00.000Z")).await;
    p.wait_for(&target_of(&p.core, &post).await, "published")
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let next = loop {
        let items = p
            .core
            .publisher()
            .queue(Some(&env.workspace))
            .await
            .unwrap();
        if let Some(next) = items.into_iter().find(|i| i.post_id != post) {
            break next;
        }
        assert!(std::time::Instant::now() < deadline, "no next occurrence");
        real_pause().await;
    };
    assert_eq!(next.local_time.as_deref(), Some("2026-10-27 10:00"));
    assert_eq!(
        next.scheduled_at.as_deref(),
        Some("2026-10-27T09:00:00.000Z")
    );
    assert_eq!(next.repeat_days, Some(7));
    p.advance_to(utc("2026-10-27T09:00:00.000Z")).await;
    p.wait_for(&next.target_id, "published").await;
    assert_eq!(env.bsky.records().len(), 2);
}

#[tokio::test]
async fn add_to_queue_takes_each_accounts_next_free_slot_and_evergreen_posts_come_back() {
    let env = env().await;
    // Monday 30 November 2026, 08:00 Berlin.
    let p = pause_at(&env, utc("2026-11-30T07:00:00.000Z")).await;
    let publisher = p.core.publisher();
    let none = env.draft("Ohne Zeiten", vec![], env.both()).await;
    let err = p.core.add_to_queue(&none).await.unwrap_err();
    assert!(err.to_string().contains("has no queue times yet"), "{err}");
    assert_eq!(
        publisher.outcomes(&none).await.unwrap()[0].state,
        TargetState::Draft,
        "still a draft"
    );

    let slots = [
        QueueSlot {
            weekday: 0,
            minute: 9 * 60,
        },
        QueueSlot {
            weekday: 2,
            minute: 12 * 60 + 30,
        },
    ];
    publisher
        .set_queue_slots(&env.bsky_account, &slots)
        .await
        .unwrap();
    assert!(
        publisher
            .set_queue_slots(
                &env.bsky_account,
                &[QueueSlot {
                    weekday: 7,
                    minute: 0
                }]
            )
            .await
            .is_err()
    );
    let a = env
        .draft("Erster", vec![], env.only(&env.bsky_account))
        .await;
    let b = env
        .draft("Zweiter", vec![], env.only(&env.bsky_account))
        .await;
    publisher
        .set_repeat(
            &b,
            Repeat {
                every_days: None,
                evergreen_gap_days: Some(7),
            },
        )
        .await
        .unwrap();
    p.core.add_to_queue(&a).await.unwrap();
    p.core.add_to_queue(&b).await.unwrap();
    let items = publisher.queue(Some(&env.workspace)).await.unwrap();
    let local = |post: &str| {
        items
            .iter()
            .find(|i| i.post_id == post)
            .unwrap()
            .local_time
            .clone()
            .unwrap()
    };
    assert_eq!(local(&a), "2026-11-30 09:00");
    assert_eq!(local(&b), "2026-12-02 12:30");
    assert!(items.iter().all(|i| i.queued));

    // Wednesday's post goes out and comes back into the queue a week later at the earliest:
    // the first free slot from Wednesday 9 December 12:30 on.
    let mut p = p;
    p.start_scheduler();
    p.advance_to(utc("2026-12-02T11:30:00.000Z")).await;
    p.wait_for(&target_of(&p.core, &b).await, "published").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let again = loop {
        let items = p
            .core
            .publisher()
            .queue(Some(&env.workspace))
            .await
            .unwrap();
        if let Some(again) = items.into_iter().find(|i| i.post_id != a && i.post_id != b) {
            break again;
        }
        assert!(std::time::Instant::now() < deadline, "not recycled");
        real_pause().await;
    };
    assert_eq!(again.local_time.as_deref(), Some("2026-12-09 12:30"));
    assert_eq!(again.evergreen_gap_days, Some(7));
    assert!(again.text.starts_with("Zweiter"));
    let _ = stamp(p.clock.now());
}

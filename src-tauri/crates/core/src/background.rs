//! What Postwerk shows while it runs in the background: the tray menu's labels (with the
//! "Next post" line) and the desktop notifications for scheduler events, in English or German.
//! Text only: the desktop shell puts it on screen.

use chrono::{DateTime, Datelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::publish::PublishEvent;
use crate::settings::Language;

/// The launch argument that starts Postwerk hidden in the tray (used for start at login).
pub const HIDDEN_ARG: &str = "--hidden";

/// The tray menu's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayLabels {
    pub open: String,
    /// "Next post: Fri 09:00" or "No posts scheduled" (shown disabled, as information).
    pub next_post: String,
    pub pause: String,
    pub quit: String,
    pub tooltip: String,
}

/// What the tray shows and what the shell keeps in step with the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayStatus {
    pub labels: TrayLabels,
    /// Publishing is paused (the tray's check item).
    pub paused: bool,
    /// Postwerk should start at login.
    pub start_at_login: bool,
}

/// A desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// More notices than this from one burst of events are summed up in one notification.
pub const MAX_SEPARATE_NOTICES: usize = 3;

/// The tray labels in `lang` (English or German; `System` means English here, resolve it
/// first with [`Language::effective`]). `next` is the next due post, shown in `zone`.
pub fn tray_labels(
    lang: Language,
    next: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    zone: Tz,
) -> TrayLabels {
    let de = lang == Language::De;
    let pick = |en: &str, de_text: &str| if de { de_text } else { en }.to_string();
    TrayLabels {
        open: pick("Open Postwerk", "Postwerk öffnen"),
        next_post: next_post_label(lang, next, now, zone),
        pause: pick("Pause publishing", "Veröffentlichen pausieren"),
        quit: pick("Quit Postwerk", "Postwerk beenden"),
        tooltip: pick(
            "Postwerk: publishes your scheduled posts",
            "Postwerk: veröffentlicht deine geplanten Beiträge",
        ),
    }
}

/// "Next post: Fri 09:00" (today, tomorrow, a weekday within the week, else a date), "Next
/// post: due now" when it is overdue (paused, or going out right now), or "No posts scheduled".
pub fn next_post_label(
    lang: Language,
    next: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    zone: Tz,
) -> String {
    let de = lang == Language::De;
    let Some(next) = next else {
        return if de {
            "Keine Beiträge geplant"
        } else {
            "No posts scheduled"
        }
        .to_string();
    };
    let prefix = if de { "Nächster Beitrag" } else { "Next post" };
    if next <= now {
        let due = if de { "jetzt fällig" } else { "due now" };
        return format!("{prefix}: {due}");
    }
    let at = next.with_timezone(&zone);
    let today = now.with_timezone(&zone).date_naive();
    let days = (at.date_naive() - today).num_days();
    let time = at.format("%H:%M");
    let day = weekday(lang, at.weekday());
    let when = match (days, de) {
        (0, false) => format!("today {time}"),
        (0, true) => format!("heute {time}"),
        (1, false) => format!("tomorrow {time}"),
        (1, true) => format!("morgen {time}"),
        (2..=6, _) => format!("{day} {time}"),
        _ => {
            let same_year = at.year() == today.year();
            match (de, same_year) {
                (false, true) => format!("{day} {} {time}", at.format("%-d %b")),
                (false, false) => format!("{day} {} {time}", at.format("%-d %b %Y")),
                (true, true) => format!("{day} {} {time}", at.format("%d.%m.")),
                (true, false) => format!("{day} {} {time}", at.format("%d.%m.%Y")),
            }
        }
    };
    format!("{prefix}: {when}")
}

fn weekday(lang: Language, day: Weekday) -> &'static str {
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const DE: [&str; 7] = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"];
    let i = day.num_days_from_monday() as usize;
    if lang == Language::De { DE[i] } else { EN[i] }
}

/// The notification for a scheduler event the user has to act on: a post that failed, one
/// that waits for an account to be reconnected, one that was missed. `None` for the rest.
pub fn notice_for(lang: Language, event: &PublishEvent) -> Option<Notice> {
    let de = lang == Language::De;
    let notice = match event {
        PublishEvent::Failed {
            handle, message, ..
        } => Notice {
            title: if de {
                format!("Beitrag nicht veröffentlicht: {handle}")
            } else {
                format!("Post not published: {handle}")
            },
            body: message.clone(),
        },
        PublishEvent::NeedsReconnect {
            handle, message, ..
        } => Notice {
            title: if de {
                format!("{handle} neu verbinden")
            } else {
                format!("Reconnect {handle}")
            },
            body: if de {
                format!(
                    "{message}. Der Beitrag wartet, bis du das Konto in Postwerk neu verbindest."
                )
            } else {
                format!("{message}. The post waits until you reconnect the account in Postwerk.")
            },
        },
        PublishEvent::Missed {
            handle,
            scheduled_local,
            ..
        } => Notice {
            title: if de {
                format!("Beitrag verpasst: {handle}")
            } else {
                format!("Post missed: {handle}")
            },
            body: if de {
                format!(
                    "Er war für {scheduled_local} geplant, als Postwerk nicht lief. Öffne Postwerk, um ihn jetzt zu veröffentlichen oder neu zu planen."
                )
            } else {
                format!(
                    "It was due at {scheduled_local} while Postwerk was not running. Open Postwerk to publish it now or pick a new time."
                )
            },
        },
        PublishEvent::Published { .. } | PublishEvent::HandedOff { .. } | PublishEvent::Changed => {
            return None;
        }
    };
    Some(notice)
}

/// Whether the event is one the user is told about ([`notice_for`] gives its text).
pub fn needs_notice(event: &PublishEvent) -> bool {
    matches!(
        event,
        PublishEvent::Failed { .. }
            | PublishEvent::NeedsReconnect { .. }
            | PublishEvent::Missed { .. }
    )
}

/// The notifications for a burst of events: one each, or one summary when there are more
/// than [`MAX_SEPARATE_NOTICES`] (a laptop back from a week away must not show twenty).
pub fn notices_for(lang: Language, events: &[PublishEvent]) -> Vec<Notice> {
    let notices: Vec<Notice> = events.iter().filter_map(|e| notice_for(lang, e)).collect();
    if notices.len() <= MAX_SEPARATE_NOTICES {
        return notices;
    }
    let count = |pred: fn(&PublishEvent) -> bool| events.iter().filter(|e| pred(e)).count();
    let failed = count(|e| matches!(e, PublishEvent::Failed { .. }));
    let reconnect = count(|e| matches!(e, PublishEvent::NeedsReconnect { .. }));
    let missed = count(|e| matches!(e, PublishEvent::Missed { .. }));
    let de = lang == Language::De;
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(if de {
            format!("{failed} fehlgeschlagen")
        } else {
            format!("{failed} failed")
        });
    }
    if reconnect > 0 {
        parts.push(if de {
            format!("{reconnect} warten auf ein neu verbundenes Konto")
        } else {
            format!("{reconnect} waiting for an account to be reconnected")
        });
    }
    if missed > 0 {
        parts.push(if de {
            format!("{missed} verpasst")
        } else {
            format!("{missed} missed")
        });
    }
    let total = notices.len();
    vec![Notice {
        title: if de {
            format!("{total} Beiträge brauchen dich")
        } else {
            format!("{total} posts need your attention")
        },
        body: if de {
            format!("{}. Öffne Postwerk, um sie zu sehen.", parts.join(", "))
        } else {
            format!("{}. Open Postwerk to see them.", parts.join(", "))
        },
    }]
}

/// Shown the first time the window is closed while a tray icon keeps Postwerk running.
pub fn kept_in_tray_notice(lang: Language) -> Notice {
    if lang == Language::De {
        Notice {
            title: "Postwerk läuft weiter".into(),
            body: "Postwerk läuft im Infobereich weiter, um deine geplanten Beiträge zu veröffentlichen.".into(),
        }
    } else {
        Notice {
            title: "Postwerk is still running".into(),
            body: "Postwerk keeps running in the tray to publish your scheduled posts.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const BERLIN: Tz = chrono_tz::Europe::Berlin;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    #[test]
    fn next_post_in_the_local_zone() {
        // Wednesday 2026-11-25 10:00 in Berlin.
        let now = utc("2026-11-25T09:00:00Z");
        let en = |t: &str| next_post_label(Language::En, Some(utc(t)), now, BERLIN);
        let de = |t: &str| next_post_label(Language::De, Some(utc(t)), now, BERLIN);
        assert_eq!(en("2026-11-25T17:30:00Z"), "Next post: today 18:30");
        assert_eq!(de("2026-11-25T17:30:00Z"), "Nächster Beitrag: heute 18:30");
        // 23:30 UTC is already Thursday in Berlin.
        assert_eq!(en("2026-11-25T23:30:00Z"), "Next post: tomorrow 00:30");
        assert_eq!(de("2026-11-25T23:30:00Z"), "Nächster Beitrag: morgen 00:30");
        assert_eq!(en("2026-11-27T08:00:00Z"), "Next post: Fri 09:00");
        assert_eq!(de("2026-11-27T08:00:00Z"), "Nächster Beitrag: Fr 09:00");
        assert_eq!(en("2026-12-01T08:00:00Z"), "Next post: Tue 09:00");
        // A week or more ahead: with the date.
        assert_eq!(en("2026-12-02T08:00:00Z"), "Next post: Wed 2 Dec 09:00");
        assert_eq!(
            de("2026-12-02T08:00:00Z"),
            "Nächster Beitrag: Mi 02.12. 09:00"
        );
        assert_eq!(
            en("2027-01-08T08:00:00Z"),
            "Next post: Fri 8 Jan 2027 09:00"
        );
        assert_eq!(
            de("2027-01-08T08:00:00Z"),
            "Nächster Beitrag: Fr 08.01.2027 09:00"
        );
    }

    #[test]
    fn the_same_instant_reads_differently_in_another_zone() {
        let now = utc("2026-11-25T09:00:00Z");
        let next = Some(utc("2026-11-27T08:00:00Z"));
        assert_eq!(
            next_post_label(Language::En, next, now, NEW_YORK),
            "Next post: Fri 03:00"
        );
        // Across the DST change in New York (1 November 2026): 14:00 UTC is 09:00 EST.
        let now = utc("2026-10-30T12:00:00Z");
        let next = Some(
            NEW_YORK
                .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
                .unwrap()
                .to_utc(),
        );
        assert_eq!(
            next_post_label(Language::En, next, now, NEW_YORK),
            "Next post: Mon 09:00"
        );
    }

    #[test]
    fn nothing_scheduled_and_overdue() {
        let now = utc("2026-11-25T09:00:00Z");
        assert_eq!(
            next_post_label(Language::En, None, now, BERLIN),
            "No posts scheduled"
        );
        assert_eq!(
            next_post_label(Language::De, None, now, BERLIN),
            "Keine Beiträge geplant"
        );
        assert_eq!(
            next_post_label(Language::En, Some(now), now, BERLIN),
            "Next post: due now"
        );
        assert_eq!(
            next_post_label(Language::De, Some(utc("2026-11-24T09:00:00Z")), now, BERLIN),
            "Nächster Beitrag: jetzt fällig"
        );
    }

    #[test]
    fn tray_labels_in_english_and_german() {
        let now = utc("2026-11-25T09:00:00Z");
        let en = tray_labels(Language::En, None, now, BERLIN);
        assert_eq!(
            (en.open.as_str(), en.pause.as_str(), en.quit.as_str()),
            ("Open Postwerk", "Pause publishing", "Quit Postwerk")
        );
        assert_eq!(en.next_post, "No posts scheduled");
        let de = tray_labels(Language::De, None, now, BERLIN);
        assert_eq!(
            (de.open.as_str(), de.pause.as_str(), de.quit.as_str()),
            (
                "Postwerk öffnen",
                "Veröffentlichen pausieren",
                "Postwerk beenden"
            )
        );
        assert_eq!(de.next_post, "Keine Beiträge geplant");
    }

    fn failed(handle: &str) -> PublishEvent {
        PublishEvent::Failed {
            post_id: "p".into(),
            target_id: "t".into(),
            handle: handle.into(),
            message: "Mastodon refused the post: text too long".into(),
        }
    }

    fn missed(handle: &str) -> PublishEvent {
        PublishEvent::Missed {
            post_id: "p".into(),
            target_id: "t".into(),
            handle: handle.into(),
            scheduled_local: "2026-11-27 09:00".into(),
        }
    }

    #[test]
    fn notices_carry_the_handle_and_the_reason_or_due_time() {
        let n = notice_for(Language::En, &failed("@anna@example.social")).unwrap();
        assert_eq!(n.title, "Post not published: @anna@example.social");
        assert_eq!(n.body, "Mastodon refused the post: text too long");
        let n = notice_for(Language::De, &missed("@anna")).unwrap();
        assert_eq!(n.title, "Beitrag verpasst: @anna");
        assert!(n.body.contains("2026-11-27 09:00"), "{}", n.body);
        let reconnect = PublishEvent::NeedsReconnect {
            post_id: "p".into(),
            target_id: "t".into(),
            handle: "anna.bsky.social".into(),
            message: "the account needs reconnecting".into(),
        };
        let n = notice_for(Language::En, &reconnect).unwrap();
        assert_eq!(n.title, "Reconnect anna.bsky.social");
        assert!(n.body.starts_with("the account needs reconnecting."));
        for quiet in [
            PublishEvent::Changed,
            PublishEvent::Published {
                post_id: "p".into(),
                target_id: "t".into(),
                handle: "@a".into(),
                url: None,
            },
            PublishEvent::HandedOff {
                post_id: "p".into(),
                target_id: "t".into(),
                handle: "@a".into(),
            },
        ] {
            assert_eq!(notice_for(Language::En, &quiet), None);
        }
    }

    #[test]
    fn a_burst_of_events_is_summed_up() {
        let few = [
            failed("@a"),
            PublishEvent::Changed,
            missed("@b"),
            missed("@c"),
        ];
        assert_eq!(notices_for(Language::En, &few).len(), 3);
        let many = [
            failed("@a"),
            missed("@b"),
            missed("@c"),
            PublishEvent::Changed,
            missed("@d"),
        ];
        let notices = notices_for(Language::En, &many);
        assert_eq!(
            notices,
            vec![Notice {
                title: "4 posts need your attention".into(),
                body: "1 failed, 3 missed. Open Postwerk to see them.".into(),
            }]
        );
        let de = notices_for(Language::De, &many);
        assert_eq!(de[0].title, "4 Beiträge brauchen dich");
        assert_eq!(
            de[0].body,
            "1 fehlgeschlagen, 3 verpasst. Öffne Postwerk, um sie zu sehen."
        );
    }

    #[test]
    fn the_tray_notice_in_both_languages() {
        assert_eq!(
            kept_in_tray_notice(Language::En).body,
            "Postwerk keeps running in the tray to publish your scheduled posts."
        );
        assert!(
            kept_in_tray_notice(Language::De)
                .body
                .contains("Infobereich")
        );
    }
}

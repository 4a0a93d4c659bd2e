//! Wall-clock times in a workspace's zone. A time that does not exist (the hour skipped when
//! clocks go forward) or exists twice (the hour repeated when they go back) is refused with an
//! explanation and the nearest valid choices; it is never shifted silently.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::tz::parse_zone;

/// The wall-clock formats accepted from people and the CLI.
const FORMATS: [&str; 3] = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"];

/// One valid choice offered instead of an impossible or ambiguous time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimeChoice {
    /// The instant (RFC 3339, UTC).
    pub utc: String,
    /// The same instant on the wall clock with its offset, e.g. "2026-10-25 02:30 +02:00".
    pub local: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleTimeError {
    #[error("\"{input}\" is not a date and time; write it as YYYY-MM-DD HH:MM")]
    Unreadable { input: String },
    #[error("{local} does not exist in {zone}: the clocks skip that hour (daylight saving time starts). Choose {} or {}", choices[0].local, choices[1].local)]
    Skipped {
        local: String,
        zone: String,
        choices: Box<[TimeChoice; 2]>,
    },
    #[error("{local} happens twice in {zone}: the clocks repeat that hour (daylight saving time ends). Choose {} (the first) or {} (the second)", choices[0].local, choices[1].local)]
    Repeated {
        local: String,
        zone: String,
        choices: Box<[TimeChoice; 2]>,
    },
}

fn choice(t: DateTime<Tz>) -> TimeChoice {
    TimeChoice {
        utc: t
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        local: t.format("%Y-%m-%d %H:%M %:z").to_string(),
    }
}

/// Parses "YYYY-MM-DD HH:MM" (also with `T` or seconds).
pub fn parse_wall_clock(input: &str) -> Result<NaiveDateTime, ScheduleTimeError> {
    let trimmed = input.trim();
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(trimmed, f).ok())
        .ok_or_else(|| ScheduleTimeError::Unreadable {
            input: trimmed.to_string(),
        })
}

/// The instant a wall-clock time in `zone` stands for, or why there is no single one.
pub fn resolve(zone: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, ScheduleTimeError> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, second) => Err(ScheduleTimeError::Repeated {
            local: local.format("%Y-%m-%d %H:%M").to_string(),
            zone: zone.name().to_string(),
            choices: Box::new([choice(first), choice(second)]),
        }),
        LocalResult::None => {
            // The last valid minute before the gap, and the first after it.
            let mut before = local;
            let earlier = loop {
                before -= Duration::minutes(1);
                if let LocalResult::Single(t) = zone.from_local_datetime(&before) {
                    break t;
                }
            };
            let mut after = local;
            let later = loop {
                after += Duration::minutes(1);
                if let LocalResult::Single(t) = zone.from_local_datetime(&after) {
                    break t;
                }
            };
            Err(ScheduleTimeError::Skipped {
                local: local.format("%Y-%m-%d %H:%M").to_string(),
                zone: zone.name().to_string(),
                choices: Box::new([choice(earlier), choice(later)]),
            })
        }
    }
}

/// For times Postwerk picks itself (queue slots, repeats), where there is nobody to ask: a
/// repeated time takes its first instant, a skipped one the first minute after the gap.
pub fn resolve_lenient(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..(24 * 60) {
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// A wall clock with the UTC offset that picks one instant of a repeated hour, as offered in
/// [`TimeChoice::local`] ("2026-10-25 02:30 +01:00").
fn with_offset(input: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_str(input.trim(), "%Y-%m-%d %H:%M %:z").ok()
}

/// [`parse_wall_clock`] and [`resolve`] for a zone given by name. A time written with its
/// offset (one of the offered choices) is that instant, when the zone has that offset then.
pub fn resolve_in(zone: &str, input: &str) -> crate::Result<DateTime<Utc>> {
    let tz = parse_zone(zone)?;
    if let Some(fixed) = with_offset(input) {
        let at = fixed.with_timezone(&Utc);
        if at.with_timezone(&tz).naive_local() != fixed.naive_local() {
            return Err(crate::Error::invalid(
                "time",
                format!("{} is not a time on the clocks of {zone}", input.trim()),
            ));
        }
        return Ok(at);
    }
    let local =
        parse_wall_clock(input).map_err(|e| crate::Error::invalid("time", e.to_string()))?;
    resolve(tz, local).map_err(|e| crate::Error::invalid("time", e.to_string()))
}

/// The wall clock of an input, without an offset ("YYYY-MM-DD HH:MM").
pub fn wall_clock_text(input: &str) -> String {
    with_offset(input)
        .map(|f| f.naive_local())
        .or_else(|| parse_wall_clock(input).ok())
        .map(|l| l.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// What the time picker shows while the user chooses: the instant, or why not and the
/// nearest valid choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimeCheck {
    /// The instant (RFC 3339, UTC) when the time is valid.
    pub utc: Option<String>,
    pub problem: Option<String>,
    pub choices: Vec<TimeChoice>,
}

/// Checks a wall-clock time in a zone (see [`TimeCheck`]).
pub fn check_time(zone: &str, input: &str) -> crate::Result<TimeCheck> {
    let tz = parse_zone(zone)?;
    if with_offset(input).is_some() {
        return Ok(match resolve_in(zone, input) {
            Ok(at) => TimeCheck {
                utc: Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                problem: None,
                choices: Vec::new(),
            },
            Err(e) => TimeCheck {
                utc: None,
                problem: Some(e.to_string()),
                choices: Vec::new(),
            },
        });
    }
    let local = match parse_wall_clock(input) {
        Ok(l) => l,
        Err(e) => {
            return Ok(TimeCheck {
                utc: None,
                problem: Some(e.to_string()),
                choices: Vec::new(),
            });
        }
    };
    Ok(match resolve(tz, local) {
        Ok(at) => TimeCheck {
            utc: Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            problem: None,
            choices: Vec::new(),
        },
        Err(e) => {
            let choices = match &e {
                ScheduleTimeError::Skipped { choices, .. }
                | ScheduleTimeError::Repeated { choices, .. } => choices.to_vec(),
                ScheduleTimeError::Unreadable { .. } => Vec::new(),
            };
            TimeCheck {
                utc: None,
                problem: Some(e.to_string()),
                choices,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        parse_wall_clock(s).unwrap()
    }

    #[test]
    fn an_ordinary_time_is_one_instant() {
        let t = resolve(chrono_tz::Europe::Berlin, at("2026-12-01 09:30")).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T08:30:00+00:00");
        let t = resolve(chrono_tz::America::New_York, at("2026-07-04T09:00")).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-04T13:00:00+00:00");
    }

    #[test]
    fn a_skipped_time_is_refused_with_the_minutes_around_the_gap() {
        // Berlin, 29 March 2026: 02:00 becomes 03:00.
        let err = resolve(chrono_tz::Europe::Berlin, at("2026-03-29 02:30")).unwrap_err();
        let ScheduleTimeError::Skipped { choices, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(choices[0].local, "2026-03-29 01:59 +01:00");
        assert_eq!(choices[1].local, "2026-03-29 03:00 +02:00");
        assert!(
            err.to_string().contains("does not exist in Europe/Berlin"),
            "{err}"
        );
    }

    #[test]
    fn a_repeated_time_is_refused_with_both_instants() {
        // Berlin, 25 October 2026: 03:00 becomes 02:00 again.
        let err = resolve(chrono_tz::Europe::Berlin, at("2026-10-25 02:30")).unwrap_err();
        let ScheduleTimeError::Repeated { choices, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(choices[0].utc, "2026-10-25T00:30:00Z");
        assert_eq!(choices[1].utc, "2026-10-25T01:30:00Z");
        assert_eq!(choices[0].local, "2026-10-25 02:30 +02:00");
        assert_eq!(choices[1].local, "2026-10-25 02:30 +01:00");
        // New York, 1 November 2026, 01:30 happens twice as well.
        assert!(matches!(
            resolve(chrono_tz::America::New_York, at("2026-11-01 01:30")),
            Err(ScheduleTimeError::Repeated { .. })
        ));
    }

    #[test]
    fn a_chosen_instant_of_a_repeated_hour_is_taken_as_written() {
        let second = resolve_in("Europe/Berlin", "2026-10-25 02:30 +01:00").unwrap();
        assert_eq!(second.to_rfc3339(), "2026-10-25T01:30:00+00:00");
        let first = resolve_in("Europe/Berlin", "2026-10-25 02:30 +02:00").unwrap();
        assert_eq!(first.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(
            wall_clock_text("2026-10-25 02:30 +01:00"),
            "2026-10-25 02:30"
        );
        // An offset the zone does not have then is refused.
        let err = resolve_in("Europe/Berlin", "2026-07-01 12:00 +01:00").unwrap_err();
        assert!(
            err.to_string().contains("not a time on the clocks"),
            "{err}"
        );
        let check = check_time("Europe/Berlin", "2026-10-25 02:30").unwrap();
        assert_eq!(check.utc, None);
        assert_eq!(check.choices.len(), 2);
        assert_eq!(
            resolve_in("Europe/Berlin", &check.choices[1].local)
                .unwrap()
                .to_rfc3339(),
            "2026-10-25T01:30:00+00:00"
        );
    }

    #[test]
    fn unreadable_input_says_the_format() {
        let err = resolve_in("Europe/Berlin", "tomorrow 9").unwrap_err();
        assert!(err.to_string().contains("YYYY-MM-DD HH:MM"), "{err}");
        let err = resolve_in("Mars/Olympus", "2026-12-01 09:00").unwrap_err();
        assert!(err.to_string().contains("not an IANA time zone"), "{err}");
    }
}

//! IANA time zones: validation, the list the UI offers, and the system's zone.

use chrono_tz::Tz;

/// Parses an IANA zone name ("Europe/Berlin"), case-insensitively, into its canonical spelling.
pub fn parse_zone(name: &str) -> crate::Result<Tz> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(crate::Error::invalid("time zone", "must not be empty"));
    }
    trimmed
        .parse::<Tz>()
        .or_else(|_| Tz::from_str_insensitive(trimmed))
        .map_err(|_| {
            crate::Error::invalid(
                "time zone",
                format!("\"{trimmed}\" is not an IANA time zone (for example Europe/Berlin or America/New_York)"),
            )
        })
}

/// Every zone the user can choose, sorted by name.
pub fn all_zones() -> Vec<String> {
    let mut zones: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name().to_string())
        .collect();
    zones.sort();
    zones
}

/// The operating system's zone when it is a valid IANA name, else UTC.
pub fn system_zone() -> String {
    match iana_time_zone::get_timezone() {
        Ok(name) => match parse_zone(&name) {
            Ok(tz) => tz.name().to_string(),
            Err(_) => {
                tracing::warn!(zone = %name, "system time zone is not an IANA zone; using UTC");
                "UTC".to_string()
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "system time zone unknown; using UTC");
            "UTC".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iana_names_and_canonicalises_case() {
        assert_eq!(parse_zone("Europe/Berlin").unwrap().name(), "Europe/Berlin");
        assert_eq!(
            parse_zone(" america/new_york ").unwrap().name(),
            "America/New_York"
        );
        assert_eq!(parse_zone("UTC").unwrap().name(), "UTC");
    }

    #[test]
    fn refuses_what_is_not_a_zone_with_a_specific_reason() {
        let err = parse_zone("Mars/Olympus_Mons").unwrap_err().to_string();
        assert!(
            err.contains("\"Mars/Olympus_Mons\" is not an IANA time zone"),
            "{err}"
        );
        let err = parse_zone("  ").unwrap_err().to_string();
        assert!(err.contains("must not be empty"), "{err}");
        // Abbreviations are ambiguous and not IANA names.
        assert!(parse_zone("CEST").is_err());
    }

    #[test]
    fn list_is_sorted_and_contains_common_zones() {
        let zones = all_zones();
        assert!(zones.windows(2).all(|w| w[0] <= w[1]));
        for z in ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"] {
            assert!(zones.iter().any(|x| x == z), "{z} missing");
        }
    }

    #[test]
    fn system_zone_is_always_valid() {
        assert!(parse_zone(&system_zone()).is_ok());
    }
}

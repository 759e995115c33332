//! Durations as kubectl prints them (`7d`, `3h59m`) and the scale-down countdown of old
//! ReplicaSets.

use jiff::Timestamp;

use super::types::ReplicaSetInfo;

/// `HumanDuration` from apimachinery: `7d`, `3h59m`, `45s`.
pub fn human_duration(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs();
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 60 * 2 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    let years = hours / 24 / 365;
    if hours < 24 * 365 * 8 {
        let dy = hours / 24 % 365;
        return if dy == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{dy}d")
        };
    }
    format!("{years}y")
}

/// `ScaleDownDelay`: `passed`, a duration, or empty when the annotation is not a time.
pub fn scale_down_delay(rs: &ReplicaSetInfo, now: Timestamp) -> String {
    match rs.scale_down_deadline.parse::<Timestamp>() {
        Ok(deadline) if deadline < now => "passed".into(),
        Ok(deadline) => human_duration(deadline.duration_since(now)),
        Err(_) => String::new(),
    }
}

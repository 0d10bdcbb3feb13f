//! Lenient deserializers for the quirks of Go's JSON (and ghodss YAML) output: `null` for empty
//! lists, zero timestamps, Go duration strings, label values that are a string or a list.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::teleport::duration::parse_go_duration;

/// `null` (or a missing field, with `#[serde(default)]`) becomes `T::default()`.
pub fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A timestamp: RFC 3339 with up to 9 fractional digits; Go's zero time, `null` and `""` are `None`.
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(s) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    parse_time(&s).map_err(de::Error::custom)
}

/// Parses one timestamp the way [`time`] does.
pub fn parse_time(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0001-01-01T00:00:00") {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| format!("invalid timestamp {s:?}: {e}"))
}

/// A duration: a Go duration string (`"30h0m0s"`) or an integer number of nanoseconds (how Go
/// marshals a plain `time.Duration`); `null`/`""` are `None`.
pub fn go_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Duration>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a Go duration string such as \"1h30m0s\" or a number of nanoseconds")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            parse_go_duration(s).map(Some).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok(Some(Duration::from_nanos(n)))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            u64::try_from(n)
                .map(|n| Some(Duration::from_nanos(n)))
                .map_err(|_| E::custom(format!("negative duration {n}ns")))
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
            Duration::try_from_secs_f64(n / 1e9).map(Some).map_err(|_| E::custom(format!("invalid duration {n}ns")))
        }
    }
    d.deserialize_option(V)
}

/// A scalar printed as text: strings as-is, numbers and booleans formatted, `null` as `""`.
/// For fields that are strings in one Teleport version and enum numbers in another.
pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(scalar_text(serde_json::Value::deserialize(d)?))
}

fn scalar_text(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A boolean that may also be printed as a string (`"true"`, `"yes"`) or be `null` (false).
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(lenient_opt_bool(d)?.unwrap_or(false))
}

/// Like [`lenient_bool`] but keeps "not set" (`null`/missing) apart from `false`; Teleport's
/// `BoolOption` fields default to true when unset.
pub fn lenient_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(b) => Ok(Some(b)),
        serde_json::Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(Some(true)),
            "false" | "no" | "off" | "" => Ok(Some(false)),
            _ => Err(de::Error::custom(format!("expected a boolean, found {s:?}"))),
        },
        // Older releases wrapped BoolOption as {"Value": true}.
        serde_json::Value::Object(map) => Ok(map.get("Value").and_then(|v| v.as_bool())),
        other => Err(de::Error::custom(format!("expected a boolean, found {other}"))),
    }
}

/// A list of strings that may be `null`, a single string, or contain non-string scalars.
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(items) => items.into_iter().filter(|v| !v.is_null()).map(scalar_text).collect(),
        other => vec![scalar_text(other)],
    })
}

/// Label maps (`node_labels`, traits): each value is a string or a list of strings (`utils.Strings`).
pub fn label_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, Vec<String>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of labels whose values are strings or lists of strings")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(V)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<serde_json::Value>()? {
                let value: serde_json::Value = map.next_value()?;
                let values = match value {
                    serde_json::Value::Array(items) => items.into_iter().map(scalar_text).collect(),
                    serde_json::Value::Null => Vec::new(),
                    other => vec![scalar_text(other)],
                };
                out.insert(scalar_text(key), values);
            }
            Ok(out)
        }
        // Some YAML documents spell an empty map as an empty list.
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            match seq.next_element::<serde_json::Value>()? {
                None => Ok(BTreeMap::new()),
                Some(_) => Err(de::Error::custom("expected a map of labels, found a list")),
            }
        }
    }
    d.deserialize_any(V)
}

/// Resource metadata labels: plain `string → string`, with lists joined by `,` just in case.
pub fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(label_map(d)?.into_iter().map(|(k, v)| (k, v.join(","))).collect())
}

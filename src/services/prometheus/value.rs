//! The HTTP API's answers as data. Prometheus sends sample values as strings (`"0.5"`, `"NaN"`,
//! `"+Inf"`, `"-Inf"`): a histogram quantile over an empty window is NaN and one past the last
//! bucket is +Inf, and both mean something, so they are parsed, never dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

/// One sample: a Unix time in seconds and its value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub t: f64,
    #[serde(serialize_with = "number_or_word")]
    pub v: f64,
}

/// One series of an instant vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub metric: BTreeMap<String, String>,
    pub point: Point,
}

/// One series of a range matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub metric: BTreeMap<String, String>,
    pub points: Vec<Point>,
}

/// A query's result, by the `resultType` Prometheus gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "result", rename_all = "lowercase")]
pub enum QueryResult {
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
    Scalar(Point),
    String { t: f64, value: String },
}

impl QueryResult {
    /// The one value of an instant query that aggregates to a single series (`sum(…)`,
    /// `histogram_quantile(…)`) or a scalar; `None` when the vector is empty (no such series).
    pub fn single(&self) -> Option<f64> {
        match self {
            QueryResult::Vector(v) => v.first().map(|s| s.point.v),
            QueryResult::Scalar(p) => Some(p.v),
            QueryResult::Matrix(m) => m.first().and_then(|s| s.points.last()).map(|p| p.v),
            QueryResult::String { .. } => None,
        }
    }

    /// The points of the first series of a range query.
    pub fn first_series(&self) -> Vec<Point> {
        match self {
            QueryResult::Matrix(m) => m.first().map(|s| s.points.clone()).unwrap_or_default(),
            QueryResult::Vector(v) => v.first().map(|s| vec![s.point]).unwrap_or_default(),
            QueryResult::Scalar(p) => vec![*p],
            QueryResult::String { .. } => Vec::new(),
        }
    }
}

/// JSON has no NaN or infinity: those are written as Prometheus writes them.
// serde's `serialize_with` hands a reference to the field.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub(crate) fn number_or_word<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_str(&word(*v))
    }
}

/// `NaN`, `+Inf`, `-Inf`, or the number.
pub fn word(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        v.to_string()
    }
}

/// A sample value as Prometheus writes it (Go's `strconv.FormatFloat`, so also `Inf`, `-Inf`).
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

/// The wire form: `{status, data: {resultType, result}, errorType, error, warnings}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    pub status: String,
    #[serde(default)]
    pub data: Option<Data>,
    #[serde(default, rename = "errorType")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Data {
    #[serde(rename = "resultType")]
    pub result_type: String,
    pub result: serde_json::Value,
}

#[derive(Deserialize)]
struct WireSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

#[derive(Deserialize)]
struct WireSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

fn point((t, v): (f64, String)) -> Result<Point, String> {
    parse_value(&v)
        .map(|v| Point { t, v })
        .ok_or_else(|| format!("the sample value {v:?} is not a number"))
}

/// `data` as a result, by its `resultType`.
pub(crate) fn result(data: &Data) -> Result<QueryResult, String> {
    let shape = |e: serde_json::Error| format!("a {} result: {e}", data.result_type);
    match data.result_type.as_str() {
        "vector" => {
            let wire: Vec<WireSample> =
                serde_json::from_value(data.result.clone()).map_err(shape)?;
            wire.into_iter()
                .map(|s| {
                    Ok(Sample {
                        metric: s.metric,
                        point: point(s.value)?,
                    })
                })
                .collect::<Result<_, String>>()
                .map(QueryResult::Vector)
        }
        "matrix" => {
            let wire: Vec<WireSeries> =
                serde_json::from_value(data.result.clone()).map_err(shape)?;
            wire.into_iter()
                .map(|s| {
                    Ok(Series {
                        metric: s.metric,
                        points: s.values.into_iter().map(point).collect::<Result<_, _>>()?,
                    })
                })
                .collect::<Result<_, String>>()
                .map(QueryResult::Matrix)
        }
        "scalar" => {
            let wire: (f64, String) = serde_json::from_value(data.result.clone()).map_err(shape)?;
            point(wire).map(QueryResult::Scalar)
        }
        "string" => {
            let (t, value): (f64, String) =
                serde_json::from_value(data.result.clone()).map_err(shape)?;
            Ok(QueryResult::String { t, value })
        }
        other => Err(format!("unknown resultType `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;

    fn parse(json: &str) -> Result<QueryResult, String> {
        let env: Envelope = serde_json::from_str(json).unwrap();
        result(&env.data.unwrap())
    }

    #[test]
    fn values_are_strings_including_nan_and_infinities() {
        assert_eq!(parse_value("0.25"), Some(0.25));
        assert_eq!(parse_value("1e-3"), Some(0.001));
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("fast"), None);
    }

    #[test]
    fn vector_matrix_scalar_and_string() {
        let v = parse(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"role":"canary"},"value":[1700000000.5,"+Inf"]}]}}"#).unwrap();
        assert_eq!(v.single(), Some(f64::INFINITY));
        let m = parse(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"NaN"]]}]}}"#).unwrap();
        let pts = m.first_series();
        assert_eq!(pts.len(), 2);
        assert!(pts[1].v.is_nan());
        let s = parse(r#"{"status":"success","data":{"resultType":"scalar","result":[3.5,"2"]}}"#)
            .unwrap();
        assert_eq!(s.single(), Some(2.0));
        let st =
            parse(r#"{"status":"success","data":{"resultType":"string","result":[3.5,"hi"]}}"#)
                .unwrap();
        assert_eq!(
            st,
            QueryResult::String {
                t: 3.5,
                value: "hi".into()
            }
        );
        let empty =
            parse(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#).unwrap();
        assert_eq!(empty.single(), None);
        assert!(parse(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#).is_err());
    }

    #[test]
    fn non_finite_values_serialize_as_prometheus_words() {
        let p = Point {
            t: 1.0,
            v: f64::NAN,
        };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"t":1.0,"v":"NaN"}"#);
        let p = Point { t: 1.0, v: 0.5 };
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"t":1.0,"v":0.5}"#);
    }
}

//! The anchor's output protocol: one JSON object per line,
//! `{"name":"<workload>[.<metric>][@rN]","value":<number>,"unit":"<unit>"}`.

use std::fmt::Write;

/// One figure, named and unitted as bench.go names it (without the round suffix).
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

impl Metric {
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Metric {
        Metric { name: name.into(), value, unit: unit.into() }
    }

    /// The JSON object, with `suffix` ("" or "@rN") appended to the name.
    pub fn json(&self, suffix: &str) -> String {
        let mut s = String::with_capacity(64);
        s.push_str("{\"name\":");
        push_str(&mut s, &self.name);
        push_str_raw(&mut s, suffix);
        s.push_str(",\"value\":");
        if self.value.is_finite() {
            // Shortest round-trip form, never exponent notation: valid JSON.
            let _ = write!(s, "{}", self.value);
        } else {
            s.push_str("null");
        }
        s.push_str(",\"unit\":");
        push_str(&mut s, &self.unit);
        s.push('}');
        s
    }
}

/// bench.go's round suffix: "" for round 1, "@rN" after.
pub fn round_suffix(round: u32) -> String {
    if round <= 1 {
        String::new()
    } else {
        format!("@r{round}")
    }
}

/// A JSON array of the metrics' objects.
pub fn json_array(metrics: &[Metric], suffix: &str) -> String {
    let items: Vec<String> = metrics.iter().map(|m| m.json(suffix)).collect();
    format!("[{}]", items.join(","))
}

fn push_str(s: &mut String, v: &str) {
    s.push('"');
    push_escaped(s, v);
    s.push('"');
}

/// Appends `v` inside the string that `push_str` just closed (for the round suffix).
fn push_str_raw(s: &mut String, v: &str) {
    if v.is_empty() {
        return;
    }
    s.pop();
    push_escaped(s, v);
    s.push('"');
}

fn push_escaped(s: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_bench_go() {
        assert_eq!(
            Metric::new("spawn", 123.5, "ns/goroutine").json(""),
            r#"{"name":"spawn","value":123.5,"unit":"ns/goroutine"}"#
        );
        assert_eq!(
            Metric::new("fib.par_wall", 20.0, "ms").json("@r2"),
            r#"{"name":"fib.par_wall@r2","value":20,"unit":"ms"}"#
        );
        assert_eq!(Metric::new("x", f64::NAN, "a\"b").json(""), r#"{"name":"x","value":null,"unit":"a\"b"}"#);
        assert_eq!(Metric::new("s", 0.0000012, "ms").json(""), r#"{"name":"s","value":0.0000012,"unit":"ms"}"#);
        assert_eq!(round_suffix(1), "");
        assert_eq!(round_suffix(2), "@r2");
    }
}

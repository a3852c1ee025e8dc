//! Collecting figures across rounds and printing the markdown table.

use std::fmt::Write as _;

use crate::runtimes::{REFERENCE, RUNTIMES};
use crate::workloads::Sample;

/// One row of the table: every round's value for every runtime.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) metric: &'static str,
    pub(crate) unit: &'static str,
    /// `values[runtime][round]`, runtimes indexed like [`RUNTIMES`].
    pub(crate) values: [Vec<f64>; RUNTIMES.len()],
}

/// The figures of a whole run, rows in the order first seen.
#[derive(Debug, Default)]
pub(crate) struct Results {
    pub(crate) rows: Vec<Row>,
}

impl Results {
    /// Record the samples of one run of runtime number `runtime`.
    pub(crate) fn record(&mut self, runtime: usize, samples: &[Sample]) {
        for s in samples {
            let i = match self.rows.iter().position(|r| r.metric == s.metric) {
                Some(i) => i,
                None => {
                    self.rows.push(Row {
                        metric: s.metric,
                        unit: s.unit,
                        values: Default::default(),
                    });
                    self.rows.len() - 1
                }
            };
            self.rows[i].values[runtime].push(s.value);
        }
    }

    /// The markdown table: metric, unit, the median of each runtime, and
    /// each median's ratio to the reference runtime's.
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let mut head = String::from("| workload | unit |");
        let mut rule = String::from("|---|---|");
        for rt in RUNTIMES {
            let _ = write!(head, " {rt} |");
            rule.push_str("---:|");
        }
        for (i, rt) in RUNTIMES.iter().enumerate() {
            if i != REFERENCE {
                let _ = write!(head, " {rt} / {} |", RUNTIMES[REFERENCE]);
                rule.push_str("---:|");
            }
        }
        let _ = writeln!(out, "{head}\n{rule}");
        for row in &self.rows {
            let medians: Vec<Option<f64>> = row.values.iter().map(|v| median(v)).collect();
            let _ = write!(out, "| {} | {} |", row.metric, row.unit);
            for m in &medians {
                let _ = write!(out, " {} |", m.map_or_else(|| "-".to_string(), fmt_value));
            }
            for (i, m) in medians.iter().enumerate() {
                if i != REFERENCE {
                    let ratio = match (m, medians[REFERENCE]) {
                        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
                        _ => "-".to_string(),
                    };
                    let _ = write!(out, " {ratio} |");
                }
            }
            out.push('\n');
        }
        out
    }
}

/// The median (mean of the middle two for an even count); `None` if empty.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// About three significant figures, no exponent.
pub(crate) fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time in seconds.
pub(crate) fn utc_date(unix_secs: u64) -> String {
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let days = (unix_secs / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn values_keep_about_three_figures() {
        assert_eq!(fmt_value(356.4), "356");
        assert_eq!(fmt_value(40.26), "40.3");
        assert_eq!(fmt_value(1.0), "1.00");
    }

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(1_735_689_600), "2025-01-01");
    }

    #[test]
    fn table_has_medians_and_ratios_to_the_reference() {
        let mut r = Results::default();
        let s = |v| Sample {
            metric: "spawn",
            unit: "ns/task",
            value: v,
        };
        for (rt, vals) in [
            [100.0, 90.0, 110.0],
            [200.0, 210.0, 190.0],
            [300.0, 1.0, 300.0],
        ]
        .iter()
        .enumerate()
        {
            for &v in vals {
                r.record(rt, &[s(v)]);
            }
        }
        let t = r.table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| workload | unit | weft | tokio | smol | weft / tokio | smol / tokio |"
        );
        assert_eq!(lines[1], "|---|---|---:|---:|---:|---:|---:|");
        assert_eq!(
            lines[2],
            "| spawn | ns/task | 100 | 200 | 300 | 0.50× | 1.50× |"
        );
        assert_eq!(lines.len(), 3);
    }
}

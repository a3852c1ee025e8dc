//! Collecting figures across rounds and printing the markdown table.

use std::fmt::Write as _;

use crate::runtimes::{REFERENCE, RUNTIMES};
use crate::workloads::Sample;

/// The table's value columns: the runtimes, then the hand-written epoll
/// loop of the network workloads (shown only when some row has a value
/// there).
pub(crate) const COLUMNS: [&str; 4] = [RUNTIMES[0], RUNTIMES[1], RUNTIMES[2], "epoll-ref"];

/// The column of the epoll reference.
pub(crate) const FLOOR: usize = 3;

/// One row of the table: every round's value for every column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) metric: String,
    pub(crate) unit: &'static str,
    /// `values[column][round]`, columns indexed like [`COLUMNS`].
    pub(crate) values: [Vec<f64>; COLUMNS.len()],
    /// Show weft's ratio to the epoll reference.
    pub(crate) vs_floor: bool,
}

/// The figures of a whole run, rows in the order first seen.
#[derive(Debug, Default)]
pub(crate) struct Results {
    pub(crate) rows: Vec<Row>,
}

impl Results {
    /// Record the samples of one run of column number `column`.
    pub(crate) fn record(&mut self, column: usize, samples: &[Sample]) {
        for s in samples {
            let i = match self.rows.iter().position(|r| r.metric == s.metric) {
                Some(i) => i,
                None => {
                    self.rows.push(Row {
                        metric: s.metric.clone(),
                        unit: s.unit,
                        values: Default::default(),
                        vs_floor: false,
                    });
                    self.rows.len() - 1
                }
            };
            self.rows[i].values[column].push(s.value);
            self.rows[i].vs_floor |= s.vs_floor;
        }
    }

    /// The markdown table: metric, unit, the median of each column, each
    /// runtime's ratio to the reference runtime's (tokio), and — when the
    /// epoll reference has figures — weft's ratio to it on the rows that
    /// ask for one (CPU time, system calls, instructions per message).
    pub(crate) fn table(&self) -> String {
        self.table_labeled(COLUMNS)
    }

    /// [`Results::table`] with other names for the columns (the
    /// multi-thread flavour's `weft-mt`, `tokio-mt`, `smol-mt`).
    pub(crate) fn table_labeled(&self, labels: [&str; COLUMNS.len()]) -> String {
        let floor = self.rows.iter().any(|r| !r.values[FLOOR].is_empty());
        let shown = if floor { COLUMNS.len() } else { RUNTIMES.len() };
        let mut out = String::new();
        let mut head = String::from("| workload | unit |");
        let mut rule = String::from("|---|---|");
        for c in &labels[..shown] {
            let _ = write!(head, " {c} |");
            rule.push_str("---:|");
        }
        for (i, rt) in labels[..RUNTIMES.len()].iter().enumerate() {
            if i != REFERENCE {
                let _ = write!(head, " {rt} / {} |", labels[REFERENCE]);
                rule.push_str("---:|");
            }
        }
        if floor {
            let _ = write!(head, " {} / {} |", labels[0], labels[FLOOR]);
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{head}\n{rule}");
        let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_string(), |r| format!("{r:.2}×"));
        for row in &self.rows {
            let medians: Vec<Option<f64>> = row.values.iter().map(|v| median(v)).collect();
            let _ = write!(out, "| {} | {} |", row.metric, row.unit);
            for m in &medians[..shown] {
                let _ = write!(out, " {} |", m.map_or_else(|| "-".to_string(), fmt_value));
            }
            for i in 0..RUNTIMES.len() {
                if i != REFERENCE {
                    let r = paired_ratio(&row.values[i], &row.values[REFERENCE]);
                    let _ = write!(out, " {} |", ratio(r));
                }
            }
            if floor {
                let r = if row.vs_floor {
                    ratio(paired_ratio(&row.values[0], &row.values[FLOOR]))
                } else {
                    String::new()
                };
                let _ = write!(out, " {r} |");
            }
            out.push('\n');
        }
        out
    }
}

/// `a`'s ratio to `b`: the median of the ratios within each round when both
/// have a value in every round (the columns of a round run back to back, so
/// a machine that is slower for a while slows both sides of a ratio alike),
/// else the ratio of the medians. `None` without values or with a zero.
pub(crate) fn paired_ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    if !a.is_empty() && a.len() == b.len() && b.iter().all(|&v| v > 0.0) {
        let per_round: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
        return median(&per_round);
    }
    match (median(a), median(b)) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
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
        let s = |v| Sample::new("spawn", "ns/task", v);
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

    #[test]
    fn ratios_are_the_median_of_each_rounds_ratio() {
        // Round 2 ran on a machine twice as slow for both: the ratio of the
        // medians (150 / 200 = 0.75) would mix rounds; each round says 0.5.
        assert_eq!(
            paired_ratio(&[100.0, 200.0, 150.0], &[200.0, 400.0, 300.0]),
            Some(0.5)
        );
        assert_eq!(
            paired_ratio(&[100.0, 400.0, 110.0], &[200.0, 420.0, 200.0]),
            Some(0.55)
        );
        // Unequal rounds (a failed run): the ratio of the medians.
        assert_eq!(paired_ratio(&[1.0, 3.0], &[4.0]), Some(0.5));
        assert_eq!(paired_ratio(&[1.0], &[0.0]), None);
        assert_eq!(paired_ratio(&[], &[1.0]), None);
    }

    #[test]
    fn columns_can_be_renamed() {
        let mut r = Results::default();
        r.record(0, &[Sample::new("yield", "ns", 3.0)]);
        r.record(1, &[Sample::new("yield", "ns", 2.0)]);
        let t = r.table_labeled(["weft-mt", "tokio-mt", "smol-mt", "epoll-ref"]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| workload | unit | weft-mt | tokio-mt | smol-mt | weft-mt / tokio-mt | smol-mt / tokio-mt |"
        );
        assert_eq!(lines[2], "| yield | ns | 3.00 | 2.00 | - | 1.50× | - |");
    }

    #[test]
    fn the_floor_column_appears_with_its_figures() {
        let mut r = Results::default();
        r.record(0, &[Sample::new("echo cpu", "µs", 6.0).vs_floor()]);
        r.record(1, &[Sample::new("echo cpu", "µs", 5.0)]);
        r.record(3, &[Sample::new("echo cpu", "µs", 4.0)]);
        r.record(0, &[Sample::new("echo p99", "µs", 10.0)]);
        r.record(3, &[Sample::new("echo p99", "µs", 9.0)]);
        let t = r.table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| workload | unit | weft | tokio | smol | epoll-ref | weft / tokio | smol / tokio | weft / epoll-ref |"
        );
        assert_eq!(
            lines[2],
            "| echo cpu | µs | 6.00 | 5.00 | - | 4.00 | 1.20× | - | 1.50× |"
        );
        assert_eq!(
            lines[3],
            "| echo p99 | µs | 10.0 | - | - | 9.00 | - | - |  |"
        );
    }
}

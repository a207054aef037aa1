//! Collected measurements and the final table: median, min and max per metric and module, and
//! the Rust/C ratio of every round (rounds alternate the modules on the same machine).

use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    C,
    Rust,
}

impl Module {
    pub fn label(self) -> &'static str {
        match self {
            Module::C => "C",
            Module::Rust => "Rust",
        }
    }
}

/// One metric under one memory manager: values per round, per module.
#[derive(Debug)]
pub struct Row {
    pub mm: String,
    pub metric: String,
    pub c: Vec<f64>,
    pub rust: Vec<f64>,
}

impl Row {
    fn values(&self, m: Module) -> &[f64] {
        match m {
            Module::C => &self.c,
            Module::Rust => &self.rust,
        }
    }

    /// Rust/C of every round both modules have.
    pub fn ratios(&self) -> Vec<f64> {
        self.c
            .iter()
            .zip(&self.rust)
            .map(|(c, r)| if *c == 0.0 { f64::NAN } else { r / c })
            .collect()
    }

    pub fn median(&self, m: Module) -> f64 {
        median(self.values(m))
    }

    /// Median of the per-round Rust/C ratios; `None` when no round has both.
    pub fn median_ratio(&self) -> Option<f64> {
        let x = median(&self.ratios());
        (!x.is_nan()).then_some(x)
    }
}

#[derive(Debug, Default)]
pub struct Results {
    pub rows: Vec<Row>,
}

impl Results {
    pub fn add(&mut self, mm: &str, metric: &str, module: Module, value: f64) {
        let i = match self
            .rows
            .iter()
            .position(|r| r.mm == mm && r.metric == metric)
        {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    mm: mm.to_string(),
                    metric: metric.to_string(),
                    c: Vec::new(),
                    rust: Vec::new(),
                });
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[i];
        match module {
            Module::C => row.c.push(value),
            Module::Rust => row.rust.push(value),
        }
    }

    pub fn get(&self, mm: &str, metric: &str) -> Option<&Row> {
        self.find(mm, |m| m == metric)
    }

    /// The first row of manager `mm` whose metric `matches`.
    pub fn find(&self, mm: &str, matches: impl Fn(&str) -> bool) -> Option<&Row> {
        self.rows.iter().find(|r| r.mm == mm && matches(&r.metric))
    }

    /// The markdown table.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| manager | metric | C median (min..max) | Rust median (min..max) | Rust/C median | Rust/C per round |\n\
             |---|---|---:|---:|---:|---|\n",
        );
        for r in &self.rows {
            let ratios = r.ratios();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r.mm,
                r.metric,
                spread(&r.c),
                spread(&r.rust),
                fmt_ratio(median(&ratios)),
                ratios
                    .iter()
                    .map(|x| fmt_ratio(*x))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        out
    }

    /// Tab-separated raw values (one line per metric, module and round).
    pub fn tsv(&self) -> String {
        let mut out = String::from("manager\tmetric\tmodule\tround\tvalue\n");
        for r in &self.rows {
            for m in [Module::C, Module::Rust] {
                for (i, v) in r.values(m).iter().enumerate() {
                    let _ = writeln!(out, "{}\t{}\t{}\t{}\t{v}", r.mm, r.metric, m.label(), i + 1);
                }
            }
        }
        out
    }
}

pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if x.is_nan() {
        "-".into()
    } else if a >= 100_000.0 {
        format!("{:.0}", x)
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(",")
            .replace("-,", "-")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn fmt_ratio(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{x:.2}")
    }
}

fn spread(v: &[f64]) -> String {
    match v.len() {
        0 => "-".into(),
        1 => fmt_num(v[0]),
        _ => {
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!(
                "{} ({}..{})",
                fmt_num(median(v)),
                fmt_num(min),
                fmt_num(max)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_ratios_per_round() {
        let mut r = Results::default();
        for (c, rust) in [(200.0, 100.0), (180.0, 60.0), (220.0, 110.0)] {
            r.add("qm", "CPU us/NOTIFY", Module::C, c);
            r.add("qm", "CPU us/NOTIFY", Module::Rust, rust);
        }
        let row = r.get("qm", "CPU us/NOTIFY").unwrap();
        assert_eq!(row.median(Module::C), 200.0);
        assert_eq!(row.ratios(), vec![0.5, 1.0 / 3.0, 0.5]);
        assert_eq!(row.median_ratio(), Some(0.5));
        r.add("qm", "C only", Module::C, 1.0);
        assert_eq!(r.get("qm", "C only").unwrap().median_ratio(), None);
        assert!(r.find("qm", |m| m.starts_with("CPU")).is_some());
        let t = r.table();
        assert!(
            t.contains(
                "| qm | CPU us/NOTIFY | 200 (180..220) | 100 (60.0..110) | 0.50 | 0.50 0.33 0.50 |"
            ),
            "{t}"
        );
        assert_eq!(fmt_num(1_234_567.0), "1,234,567");
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), 2.5);
    }
}

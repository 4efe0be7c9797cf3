//! numpy-compatible summary statistics: mean, population std, median and linearly
//! interpolated percentiles (`numpy.percentile` default), 0 for an empty list as
//! bench_serving reports it.

/// Arithmetic mean; 0 for an empty slice.
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Population standard deviation (`numpy.std`, ddof 0); 0 for an empty slice.
pub fn std(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
}

/// A sorted copy of a sample, for several percentiles at once.
#[derive(Debug, Clone, Default)]
pub struct Sorted(Vec<f64>);

impl Sorted {
    /// Sorts a copy of `v` (NaN values are dropped).
    pub fn new(v: &[f64]) -> Self {
        let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        s.sort_by(f64::total_cmp);
        Self(s)
    }

    /// `numpy.percentile(v, p)` with linear interpolation; 0 when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        let s = &self.0;
        if s.is_empty() {
            return 0.0;
        }
        let rank = p.clamp(0.0, 100.0) / 100.0 * (s.len() - 1) as f64;
        let lo = rank.floor() as usize;
        let hi = rank.ceil() as usize;
        let frac = rank - lo as f64;
        s[lo] + (s[hi] - s[lo]) * frac
    }

    /// `numpy.median`.
    pub fn median(&self) -> f64 {
        self.percentile(50.0)
    }

    /// Largest value; 0 when empty.
    pub fn max(&self) -> f64 {
        self.0.last().copied().unwrap_or(0.0)
    }
}

/// Wilson score interval for `k` successes out of `n` at 95% confidence; `(0, 0)` when `n == 0`.
pub fn wilson95(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let denom = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denom;
    let half = z * ((p * (1.0 - p) / n_f) + z * z / (4.0 * n_f * n_f)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [50, 90, 99]) == [2.5, 3.7, 3.97]
        let s = Sorted::new(&[4.0, 1.0, 3.0, 2.0]);
        assert!((s.median() - 2.5).abs() < 1e-12);
        assert!((s.percentile(90.0) - 3.7).abs() < 1e-12);
        assert!((s.percentile(99.0) - 3.97).abs() < 1e-12);
        assert_eq!(s.max(), 4.0);
        assert_eq!(Sorted::new(&[]).percentile(99.0), 0.0);
        assert_eq!(Sorted::new(&[5.0]).percentile(99.0), 5.0);
    }

    #[test]
    fn std_is_population_std() {
        // numpy.std([1, 2, 3, 4]) == 1.118033988749895
        assert!((std(&[1.0, 2.0, 3.0, 4.0]) - 1.118_033_988_749_895).abs() < 1e-12);
        assert_eq!(mean(&[]), 0.0);
    }

    #[test]
    fn wilson_interval_brackets_the_estimate() {
        let (lo, hi) = wilson95(190, 200);
        assert!(lo < 0.95 && hi > 0.95);
        assert!(
            (lo - 0.9103).abs() < 0.001 && (hi - 0.9726).abs() < 0.001,
            "{lo} {hi}"
        );
    }
}

//! Hand-made series: what each rule says and why.

use proptest::prelude::*;

use super::*;

fn key(metric: Metric) -> SeriesKey {
    SeriesKey {
        hardware: "mi30x".into(),
        model: "GROK1".into(),
        variant: "MOE-I4F8".into(),
        metric,
        load: Load::Rate("4".into()),
    }
}

/// Nights on consecutive dates from 2025-11-01.
fn nights(values: &[f64]) -> Vec<Night> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| Night {
            date: Date::parse(&format!("202511{:02}", i + 1)).unwrap(),
            value: v,
            image_tag: format!("v0.5.5-rocm700-mi30x-202511{:02}", i + 1),
            fallback: false,
            simulated: false,
            source: PathBuf::from("x.csv"),
        })
        .collect()
}

fn ttft(values: &[f64]) -> Series {
    Series::new(key(Metric::TtftMs), nights(values))
}

/// Seven quiet nights around 100 (±1 %), then `tail`.
fn quiet_then(tail: &[f64]) -> Series {
    let mut v = vec![100.0, 101.0, 99.0, 100.5, 99.5, 100.0, 100.2];
    v.extend_from_slice(tail);
    ttft(&v)
}

fn robust(s: &Series) -> Verdict {
    analyze(s, &Rule::ROBUST)
}

#[test]
fn two_consecutive_bad_nights_are_a_regression() {
    let v = robust(&quiet_then(&[120.0, 121.0]));
    assert_eq!(v.kind, VerdictKind::Regression, "{}", v.evidence);
    assert_eq!(v.baseline, Some(100.0));
    assert_eq!(v.band_pct, Some(5.0), "quiet series: the floor");
    assert_eq!(v.values.len(), 2);
    assert!((v.change_pct().unwrap() - 21.0).abs() < 1e-9);
    assert_eq!(v.baseline_nights.len(), 5);
    assert!(
        v.evidence.contains("both worse than the band"),
        "{}",
        v.evidence
    );
}

#[test]
fn one_noisy_night_is_suspicious_not_a_regression() {
    let v = robust(&quiet_then(&[100.3, 120.0]));
    assert_eq!(v.kind, VerdictKind::Suspicious, "{}", v.evidence);
    // And the night after it recovered: no change.
    let v = robust(&quiet_then(&[120.0, 100.4]));
    assert_eq!(v.kind, VerdictKind::NoChange, "{}", v.evidence);
}

#[test]
fn one_night_beyond_the_hard_band_is_a_regression() {
    let v = robust(&quiet_then(&[100.3, 130.0]));
    assert_eq!(v.kind, VerdictKind::Regression, "{}", v.evidence);
    assert_eq!(v.hard_pct, Some(25.0));
    assert!(v.evidence.contains("hard band"), "{}", v.evidence);
}

#[test]
fn fewer_than_n_nights_is_insufficient_history() {
    // Two judged nights + 4 baseline nights < 5.
    let v = robust(&ttft(&[100.0, 100.0, 100.0, 100.0, 150.0, 150.0]));
    assert_eq!(v.kind, VerdictKind::InsufficientHistory, "{}", v.evidence);
    assert!(v.evidence.contains("4 of 5"), "{}", v.evidence);
    assert_eq!(v.baseline, None);
    // One more night is enough.
    let v = robust(&ttft(&[100.0, 100.0, 100.0, 100.0, 100.0, 150.0, 150.0]));
    assert_eq!(v.kind, VerdictKind::Regression, "{}", v.evidence);
    assert_eq!(
        robust(&ttft(&[])).kind,
        VerdictKind::InsufficientHistory,
        "an empty series"
    );
}

#[test]
fn fallback_and_simulated_nights_stay_out_of_the_baseline() {
    // Five quiet real nights, then three slow nights that were fallback or simulated: with
    // them in the baseline, the median would be slow and 120 would look normal.
    let mut ns = nights(&[
        100.0, 100.0, 100.0, 100.0, 100.0, 120.0, 120.0, 120.0, 120.0, 121.0,
    ]);
    ns[5].fallback = true;
    ns[6].simulated = true;
    ns[7].fallback = true;
    let s = Series::new(key(Metric::TtftMs), ns.clone());
    let v = robust(&s);
    assert_eq!(v.kind, VerdictKind::Regression, "{}", v.evidence);
    assert_eq!(v.baseline, Some(100.0));
    assert!(
        v.baseline_nights
            .iter()
            .all(|d| d.to_string().as_str() <= "20251105"),
        "{:?}",
        v.baseline_nights
    );
    // Legacy counts every night: the latest earlier night (a fallback, 120) is its baseline.
    let l = analyze(&s, &Rule::LEGACY);
    assert_eq!(l.kind, VerdictKind::NoChange, "{}", l.evidence);
    assert_eq!(l.baseline, Some(120.0));
}

#[test]
fn a_simulated_night_is_judged_against_simulated_history_only() {
    let mut ns = nights(&[50.0; 6]);
    ns.extend(
        nights(&[100.0, 100.0, 100.0, 100.0, 100.0, 120.0, 121.0])
            .into_iter()
            .map(|mut n| {
                n.simulated = true;
                n.date = Date::parse(&format!("202512{}", &n.date.to_string()[6..])).unwrap();
                n
            }),
    );
    let v = robust(&Series::new(key(Metric::TtftMs), ns));
    assert!(v.simulated);
    assert_eq!(v.baseline, Some(100.0), "{}", v.evidence);
    assert_eq!(v.kind, VerdictKind::Regression, "{}", v.evidence);
}

#[test]
fn noisy_series_widen_the_band() {
    // ±10 % noise: MAD 10 → band 3 × 1.4826 × 10 % ≈ 44 %, so +20 % twice is no change.
    let v = robust(&ttft(&[90.0, 110.0, 100.0, 90.0, 110.0, 120.0, 120.0]));
    assert_eq!(v.kind, VerdictKind::NoChange, "{}", v.evidence);
    assert!(v.band_pct.unwrap() > 40.0, "{:?}", v.band_pct);
    assert!(v.hard_pct.unwrap() > 80.0, "{:?}", v.hard_pct);
}

#[test]
fn direction_follows_the_metric() {
    let up = [100.0, 100.0, 100.0, 100.0, 100.0, 120.0, 121.0];
    let down = [100.0, 100.0, 100.0, 100.0, 100.0, 80.0, 79.0];
    let acc = |v: &[f64]| Series::new(key(Metric::Gsm8kAccuracy), nights(v));
    assert_eq!(robust(&ttft(&up)).kind, VerdictKind::Regression);
    assert_eq!(robust(&ttft(&down)).kind, VerdictKind::Improved);
    assert_eq!(robust(&acc(&up)).kind, VerdictKind::Improved);
    assert_eq!(robust(&acc(&down)).kind, VerdictKind::Regression);
    assert_eq!(
        analyze(&acc(&down), &Rule::LEGACY).kind,
        VerdictKind::NoChange
    );
    assert_eq!(
        analyze(&acc(&[0.95, 0.90]), &Rule::LEGACY).kind,
        VerdictKind::Regression
    );
}

#[test]
fn legacy_is_the_originals_rule() {
    // Strictly more than 5 %.
    assert_eq!(
        analyze(&ttft(&[100.0, 105.0]), &Rule::LEGACY).kind,
        VerdictKind::NoChange
    );
    let v = analyze(&ttft(&[100.0, 105.1]), &Rule::LEGACY);
    assert_eq!(v.kind, VerdictKind::Regression);
    assert_eq!(
        v.evidence,
        "20251102 105.1 vs 20251101 100 (+5.1%, threshold 5%)"
    );
    // The latest earlier night, not the median: one slow night moves the baseline.
    assert_eq!(
        analyze(&ttft(&[100.0, 130.0, 100.0]), &Rule::LEGACY).kind,
        VerdictKind::NoChange
    );
    // Only nights within the window count.
    let mut ns = nights(&[100.0, 200.0]);
    ns[1].date = Date::parse("20251108").unwrap();
    let s = Series::new(key(Metric::TtftMs), ns.clone());
    assert_eq!(analyze(&s, &Rule::LEGACY).kind, VerdictKind::Regression);
    ns[1].date = Date::parse("20251109").unwrap();
    let s = Series::new(key(Metric::TtftMs), ns);
    let v = analyze(&s, &Rule::LEGACY);
    assert_eq!(v.kind, VerdictKind::InsufficientHistory, "{}", v.evidence);
    // Improvements are not the original's business.
    assert_eq!(
        analyze(&ttft(&[100.0, 50.0]), &Rule::LEGACY).kind,
        VerdictKind::NoChange
    );
}

#[test]
fn replay_judges_every_night() {
    let s = quiet_then(&[120.0, 121.0]);
    let all = replay(&s, &Rule::ROBUST);
    assert_eq!(all.len(), s.nights.len());
    assert_eq!(all.last(), Some(&robust(&s)));
    let kinds: Vec<VerdictKind> = all.iter().map(|v| v.kind).collect();
    assert_eq!(kinds[..6], [VerdictKind::InsufficientHistory; 6]);
    assert_eq!(kinds[7], VerdictKind::Suspicious);
    assert_eq!(kinds[8], VerdictKind::Regression);
    let at = |d: &str| analyze_at(&s, &Rule::ROBUST, Date::parse(d).unwrap());
    assert_eq!(at("20251108").as_ref(), Some(&all[7]));
    assert_eq!(at("20251130"), None);
}

#[test]
fn dates() {
    let d = |s| Date::parse(s).unwrap().days();
    assert_eq!(d("19700101"), 0);
    assert_eq!(d("20251101") - d("20251031"), 1);
    assert_eq!(d("20250301") - d("20250228"), 1);
    assert_eq!(d("20240301") - d("20240228"), 2);
    assert_eq!(d("20260101") - d("20251231"), 1);
    assert_eq!(Date::parse("20250229"), None);
    assert_eq!(Date::parse("2025111"), None);
    assert_eq!(Date::parse("20251301"), None);
}

#[test]
fn names_round_trip() {
    for k in VerdictKind::ALL {
        assert_eq!(VerdictKind::parse(k.name()), Some(k));
    }
    assert_eq!(VerdictKind::parse("no_change"), Some(VerdictKind::NoChange));
    for m in Metric::ALL {
        assert_eq!(Metric::parse(m.name()), Some(m));
    }
}

fn series_strategy() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(1.0f64..1000.0, 0..20)
}

proptest! {
    #[test]
    fn never_panics_and_evidence_is_consistent(values in series_strategy(), rule in 0..2u8) {
        let rule = if rule == 0 { Rule::LEGACY } else { Rule::ROBUST };
        let s = ttft(&values);
        let v = analyze(&s, &rule);
        prop_assert!(!v.evidence.is_empty());
        if v.kind == VerdictKind::InsufficientHistory {
            prop_assert!(v.baseline.is_none());
        } else {
            let b = v.baseline.unwrap();
            prop_assert!(b > 0.0);
            // A regression's newest night is worse than the baseline by more than the band.
            if v.kind == VerdictKind::Regression {
                prop_assert!(v.change_pct().unwrap() > v.band_pct.unwrap());
            }
            if v.kind == VerdictKind::Improved {
                prop_assert!(v.change_pct().unwrap() < -v.band_pct.unwrap());
            }
        }
    }

    #[test]
    fn scaling_every_value_keeps_the_verdict(values in series_strategy(), c in 0.01f64..100.0) {
        let a = robust(&ttft(&values));
        let scaled: Vec<f64> = values.iter().map(|v| v * c).collect();
        let b = robust(&ttft(&scaled));
        // Scaling is exact up to rounding; only verdicts at a band edge could flip.
        let edge = a.values.iter().any(|j| {
            let band = a.band_pct.unwrap_or(0.0);
            let hard = a.hard_pct.unwrap_or(0.0);
            [band, hard].iter().any(|e| (j.change_pct.abs() - e).abs() < 1e-6)
        });
        if !edge {
            prop_assert_eq!(a.kind, b.kind);
        }
    }

    #[test]
    fn a_worse_newest_night_never_lowers_the_alarm(values in prop::collection::vec(50.0f64..150.0, 8..16), extra in 0.0f64..500.0) {
        let rank = |k: VerdictKind| match k {
            VerdictKind::Regression => 3,
            VerdictKind::Suspicious => 2,
            VerdictKind::NoChange | VerdictKind::InsufficientHistory => 1,
            VerdictKind::Improved => 0,
        };
        let a = robust(&ttft(&values));
        let mut worse = values.clone();
        *worse.last_mut().unwrap() += extra;
        let b = robust(&ttft(&worse));
        prop_assert!(rank(b.kind) >= rank(a.kind), "{:?} -> {:?}", a.kind, b.kind);
    }

    #[test]
    fn a_flat_series_is_no_change(v in 1.0f64..1000.0, len in 7usize..20) {
        let s = ttft(&vec![v; len]);
        prop_assert_eq!(robust(&s).kind, VerdictKind::NoChange);
        prop_assert_eq!(analyze(&s, &Rule::LEGACY).kind, VerdictKind::NoChange);
    }
}

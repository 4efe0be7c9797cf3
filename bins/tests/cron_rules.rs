//! cron/crontab_rules_mi30x.txt and cron/crontab_rules_mi35x.txt against spec nightly.md §9
//! and benchmarks.md §8.15: every schedule of the original is there once, TZ is set, logs go
//! to `cron/cron_log/$HARDWARE_TYPE/<CT date>/`, and each job either runs a binary of this
//! workspace from `$SGLCI_BIN` or is marked "Not ported yet" and keeps the original script.

use std::path::Path;

fn rules(hw: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../cron/crontab_rules_{hw}.txt"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// (schedule, comment above it, command) of every job line.
fn jobs(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut comment = String::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix('#') {
            comment = c.trim().to_owned();
            continue;
        }
        let f: Vec<&str> = line.splitn(6, ' ').collect();
        if f.len() == 6 && f[0].chars().all(|c| c.is_ascii_digit()) {
            out.push((f[..5].join(" "), comment.clone(), f[5].to_owned()));
        }
    }
    out
}

fn binary_exists(name: &str) -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("src/bin/{name}.rs"))
        .is_file()
}

fn check(hw: &str, schedule: &[(&str, &str)]) {
    let text = rules(hw);
    for var in [
        "TZ=America/Chicago",
        "CRON_TZ=America/Chicago",
        "SGLCI_BIN=",
        "SHELL=/bin/bash",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(var)),
            "{hw}: {var} missing"
        );
    }
    assert!(text.contains(&format!("HARDWARE_TYPE={hw}\n")));
    let jobs = jobs(&text);
    let got: Vec<(&str, String)> = jobs
        .iter()
        .map(|(s, _, cmd)| {
            let log = cmd
                .split(" > cron/cron_log/$HARDWARE_TYPE/$(date +\\%Y\\%m\\%d)/")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap_or_else(|| panic!("{hw}: no log redirect in {cmd}"));
            (s.as_str(), log.to_owned())
        })
        .collect();
    let want: Vec<(&str, String)> = schedule
        .iter()
        .map(|(s, l)| (*s, (*l).to_owned()))
        .collect();
    assert_eq!(got, want, "{hw}: schedules and log names");
    for (sched, comment, cmd) in &jobs {
        assert!(
            cmd.starts_with("cd $SGL_BENCHMARK_CI_DIR && mkdir -p cron/cron_log/$HARDWARE_TYPE/$(date +\\%Y\\%m\\%d) && "),
            "{hw} {sched}: {cmd}"
        );
        // Issue 14: the upload after a successful job is the ported binary, never the script.
        assert!(
            cmd.contains(" 2>&1 && $SGLCI_BIN/github-log-upload"),
            "{hw} {sched}: {cmd}"
        );
        assert!(!cmd.contains("github_log_upload.sh"), "{hw} {sched}: {cmd}");
        for rest in cmd.split("$SGLCI_BIN/").skip(1) {
            let bin = rest.split(' ').next().unwrap();
            assert!(
                binary_exists(bin),
                "{hw} {sched}: {bin} is not a binary of the workspace"
            );
        }
        // The job itself is what comes before its log redirect (the upload follows it).
        let job = cmd.split(" > cron/cron_log/").next().unwrap();
        // Issue 14: every job is ported; none still runs a script of the shell toolkit.
        let rest = job
            .split("$SGLCI_BIN/")
            .nth(1)
            .unwrap_or_else(|| panic!("{hw} {sched}: the job runs no sglang-ci binary: {job}"));
        let bin = rest.split(' ').next().unwrap();
        assert!(
            binary_exists(bin),
            "{hw} {sched}: {bin} is not a binary of the workspace"
        );
        assert!(
            !job.contains("bash ") && !job.contains(".sh") && !job.contains("python"),
            "{hw} {sched}: a job still runs a script: {job}"
        );
        assert!(!comment.contains("ot ported"), "{hw} {sched}: {comment}");
    }
}

/// The morning both node types share: image check, test suites, sanity, DeepSeek variants.
const MORNING: [(&str, &str); 7] = [
    ("0 11 * * *", "docker_image_check.log"),
    ("5 11 * * *", "test_nightly.log"),
    ("10 11 * * *", "test_nightly_pd.log"),
    ("40 11 * * *", "sanity_check_nightly.log"),
    ("30 12 * * *", "deepseek_dp_attention.log"),
    ("0 13 * * *", "deepseek_torch_compile.log"),
    ("30 13 * * *", "deepseek_dp_attention_torch_compile.log"),
];

#[test]
fn mi30x_schedule_is_the_originals() {
    check(
        "mi30x",
        &[
            &MORNING[..],
            &[
                ("0 14 * * *", "grok_nightly.log"),
                ("45 15 * * *", "grok2_nightly_online.log"),
                ("30 17 * * *", "deepseek_nightly_online.log"),
                ("30 21 * * *", "daily_summary_alert.log"),
            ],
        ]
        .concat(),
    );
}

#[test]
fn mi35x_schedule_is_the_originals_with_distinct_log_names() {
    check(
        "mi35x",
        &[
            &MORNING[..],
            &[
                // Q-CRON-1: the original wrote these two into the 13:00/13:30 files.
                ("0 14 * * *", "deepseek_r1_mxfp4_torch_compile.log"),
                (
                    "30 14 * * *",
                    "deepseek_r1_mxfp4_dp_attention_torch_compile.log",
                ),
                ("0 15 * * *", "deepseek_r1_mxfp4_mtp.log"),
                ("50 15 * * *", "deepseek_r1_mxfp4_dp_test.log"),
                ("0 17 * * *", "deepseek_r1_mxfp4_dp_mtp.log"),
                ("0 18 * * *", "pd_test_nightly.log"),
                ("30 18 * * *", "grok2_nightly_online.log"),
                ("0 20 * * *", "grok_nightly.log"),
                ("30 21 * * *", "deepseek_nightly_online.log"),
                ("30 23 * * *", "daily_summary_alert.log"),
            ],
        ]
        .concat(),
    );
    let text = rules("mi35x");
    let r1 = jobs(&text)
        .into_iter()
        .filter(|(_, _, c)| c.contains("--model-name=\"DeepSeek-R1-MXFP4-Preview\""))
        .count();
    assert_eq!(r1, 6, "six R1 jobs pass --model-name");
}

//! The start banner and the "cannot access Docker" block the nightly orchestrators share
//! (`perf-nightly`'s `[nightly]`, `test-nightly`'s `[test]`: spec benchmarks.md §8.4,
//! nightly.md §4.9), one definition for every prefix.

use docker_ctl::EngineConfig;

/// The lines of the start banner: the title between two rules, `Command:`, `Start time:`,
/// `Machine:`, `Working directory:`, `Script location:`, `Process ID:`, a rule, an empty line,
/// `Runtime Environment:` and the `User: ... | Groups: ... | Docker: <docker>` line. `prefix`
/// is `[nightly]` / `[test]`; `start` the formatted start time.
pub fn start_lines(
    prefix: &str,
    title: &str,
    command: &str,
    start: &str,
    docker: &str,
) -> Vec<String> {
    let rule = format!("{prefix} ==========================================");
    let (user, groups) = crate::nightly::user_and_groups();
    let first3 = groups.iter().take(3).cloned().collect::<Vec<_>>().join(" ");
    let cwd = std::env::current_dir().map_or_else(|_| "?".to_owned(), |d| d.display().to_string());
    let exe = std::env::current_exe().map_or_else(|_| "?".to_owned(), |d| d.display().to_string());
    vec![
        rule.clone(),
        format!("{prefix} {title}"),
        rule.clone(),
        format!("{prefix} Command: {command}"),
        format!("{prefix} Start time: {start}"),
        format!("{prefix} Machine: {}", crate::config::hostname()),
        format!("{prefix} Working directory: {cwd}"),
        format!("{prefix} Script location: {exe}"),
        format!("{prefix} Process ID: {}", std::process::id()),
        rule,
        String::new(),
        format!("{prefix} Runtime Environment:"),
        format!("{prefix} User: {user} | Groups: {first3}... | Docker: {docker}"),
    ]
}

/// The lines printed when the Docker daemon does not answer (`error`: why).
pub fn docker_unreachable_lines(prefix: &str, error: &str) -> Vec<String> {
    vec![
        format!("{prefix} ERROR: Cannot access Docker daemon. Please check:"),
        format!("{prefix}   1. The Docker daemon is running (sudo systemctl start docker)"),
        format!(
            "{prefix}   2. This user may use its socket (the docker group), or DOCKER_HOST names one it may use"
        ),
        format!(
            "{prefix}   3. DOCKER_HOST={}",
            EngineConfig::from_env().host
        ),
        format!("{prefix}   {error}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_has_the_originals_shape_for_any_prefix() {
        let l = start_lines("[test]", "SGL Nightly Unit Test Started", "x --y", "T", "D");
        assert_eq!(l.len(), 13);
        assert_eq!(l[0], "[test] ==========================================");
        assert_eq!(l[1], "[test] SGL Nightly Unit Test Started");
        assert_eq!(l[3], "[test] Command: x --y");
        assert_eq!(l[4], "[test] Start time: T");
        assert_eq!(l[10], "");
        assert!(l[12].starts_with("[test] User: ") && l[12].ends_with("| Docker: D"));
        let d = docker_unreachable_lines("[nightly]", "boom");
        assert_eq!(
            d[0],
            "[nightly] ERROR: Cannot access Docker daemon. Please check:"
        );
        assert_eq!(d[4], "[nightly]   boom");
    }
}

//! Shell-style file-name patterns (`*`, `?`, `[abc]`, `[!a-z]`) as Python's `fnmatch` reads
//! them, for `GSM8K_LOG_PATTERNS` and the `*.csv` selection. Case-sensitive; a pattern that
//! does not start with `.` never matches a hidden file (as `glob.glob` does).

/// True when `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class(p, pi, n[ni]) {
                        if ok {
                            pi = next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        // An unclosed `[` is a literal.
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Evaluates the class starting at `p[start] == '['` against `c`: `(matched, index after ])`,
/// `None` when the class is not closed.
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let mut first = true;
    let mut hit = false;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                hit = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                hit = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn the_default_gsm8k_patterns() {
        assert!(matches(
            "*gsm8k*.log",
            "sglang_client_log_GROK1_gsm8k_aiter.log"
        ));
        assert!(!matches("*gsm8k*.log", "sglang_client_log_GROK1_GSM8K.log"));
        assert!(matches("*GSM8K*.log", "sglang_client_log_GROK1_GSM8K.log"));
        assert!(matches(
            "sglang_client_log_*_gsm8k*.log",
            "sglang_client_log_DeepSeek-V3-0324_gsm8k.log"
        ));
        assert!(!matches("*gsm8k*.log", "sglang_client_log_gsm8k.log.bak"));
    }

    #[test]
    fn star_question_and_classes() {
        assert!(matches("*.csv", "a.csv"));
        assert!(!matches("*.csv", ".csv.csv"));
        assert!(!matches("*.csv", ".hidden.csv"));
        assert!(matches(".*.csv", ".hidden.csv"));
        assert!(matches("run?.log", "run1.log"));
        assert!(!matches("run?.log", "run12.log"));
        assert!(matches("run[0-9].log", "run7.log"));
        assert!(!matches("run[!0-9].log", "run7.log"));
        assert!(matches("a[b", "a[b"));
        assert!(matches("*a*b*c", "xxaxxbxxc"));
        assert!(!matches("*a*b*c", "xxaxxcxxb"));
        assert!(matches("*", ""));
    }
}

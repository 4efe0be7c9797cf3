//! Webhook URLs carry their credential in the path or query (Power Automate's `sig=`), so they
//! are only ever shown as `<scheme>://<host>/…`.

/// `https://<host>[:port]/…` for a URL; `<webhook URL>` when it does not look like one.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<webhook URL>".to_owned();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in the authority (`user:pass@host`) are dropped too.
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || scheme.is_empty() {
        return "<webhook URL>".to_owned();
    }
    format!("{scheme}://{host}/…")
}

/// `text` with every occurrence of `url` (and of its path-and-query part) replaced by
/// [`mask_url`]`(url)`.
pub fn mask_in(text: &str, url: &str) -> String {
    if url.len() < 8 {
        return text.to_owned();
    }
    let masked = mask_url(url);
    let mut out = text.replace(url, &masked);
    if let Some((_, rest)) = url.split_once("://")
        && let Some(i) = rest.find(['/', '?'])
    {
        let tail = &rest[i..];
        if tail.len() >= 8 {
            out = out.replace(tail, "/…");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_scheme_and_host_only() {
        assert_eq!(
            mask_url(
                "https://x.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRET"
            ),
            "https://x.environment.api.powerplatform.com:443/…"
        );
        assert_eq!(
            mask_url("http://127.0.0.1:4000/hook?sig=s"),
            "http://127.0.0.1:4000/…"
        );
        assert_eq!(mask_url("https://user:pw@h/x"), "https://h/…");
        assert_eq!(mask_url("not a url"), "<webhook URL>");
    }

    #[test]
    fn mask_in_hides_the_url_and_its_path() {
        let url = "http://127.0.0.1:9/workflows/abc/invoke?sig=SECRET123";
        let t = mask_in(
            &format!("POST {url} failed; path /workflows/abc/invoke?sig=SECRET123"),
            url,
        );
        assert!(!t.contains("SECRET123"), "{t}");
        assert!(t.contains("http://127.0.0.1:9/…"), "{t}");
    }
}

//! `amd-smi metric --usage --mem-usage --json`.
//!
//! Documented shapes: ROCm 6.x prints a JSON array with one object per GPU; ROCm 7 wraps the
//! same objects as `{"gpu_data": [...]}`. Each object has `gpu` (index), `usage.gfx_activity`
//! and `mem_usage.used_vram` / `mem_usage.total_vram`. A value is either `{"value": N, "unit":
//! "%"|"MB"}`, a bare number, a string like `"42 %"`, or `"N/A"`; a whole section can be `"N/A"`.

use serde_json::Value;

use crate::{GpuUsage, ParseError, percent};

/// Parses the JSON into one [`GpuUsage`] per GPU object.
pub fn parse(output: &[u8]) -> Result<Vec<GpuUsage>, ParseError> {
    let doc: Value =
        serde_json::from_slice(output).map_err(|e| ParseError::AmdSmiJson(e.to_string()))?;
    let list = match &doc {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("gpu_data") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(ParseError::AmdSmiJson(
                    "neither a list of GPUs nor an object with a `gpu_data` list".into(),
                ));
            }
        },
        _ => {
            return Err(ParseError::AmdSmiJson(
                "top level is not a list or an object".into(),
            ));
        }
    };
    let mut gpus = Vec::with_capacity(list.len());
    for (pos, item) in list.iter().enumerate() {
        let Value::Object(obj) = item else {
            return Err(ParseError::AmdSmiJson(format!(
                "GPU entry {pos} is not an object"
            )));
        };
        let index = obj
            .get("gpu")
            .and_then(Value::as_u64)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| ParseError::AmdSmiJson(format!("GPU entry {pos} has no `gpu` index")))?;
        let gpu_pct = obj
            .get("usage")
            .and_then(|u| u.get("gfx_activity"))
            .and_then(number);
        let used = obj
            .get("mem_usage")
            .and_then(|m| m.get("used_vram"))
            .and_then(number);
        let total = obj
            .get("mem_usage")
            .and_then(|m| m.get("total_vram"))
            .and_then(number);
        gpus.push(GpuUsage::from_amounts(index, gpu_pct, used, total));
    }
    Ok(gpus)
}

/// `{"value": N}`, `N`, `"N %"`, `"N MB"`; `"N/A"` and anything else is `None`.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Object(o) => o.get("value").and_then(number),
        Value::String(s) => {
            let t = s.trim();
            let t = t.strip_suffix("MB").unwrap_or(t);
            percent(t)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_and_strings() {
        let out = br#"[{"gpu":3,"usage":{"gfx_activity":"12 %"},"mem_usage":{"used_vram":"50 MB","total_vram":200}}]"#;
        let g = parse(out).unwrap();
        assert_eq!(g[0].index, 3);
        assert_eq!(g[0].gpu_pct, Some(12.0));
        assert_eq!(g[0].vram_pct, Some(25.0));
    }

    #[test]
    fn not_json_is_an_error_naming_the_invocation() {
        let e = parse(b"GPU: 0\n  USAGE:\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("amd-smi metric --usage --mem-usage --json")
        );
    }

    #[test]
    fn missing_index_is_an_error() {
        assert!(parse(br#"[{"usage":{}}]"#).is_err());
        assert!(parse(br#"{"other":1}"#).is_err());
    }
}

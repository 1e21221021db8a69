//! The handlebars registry over dw's embedded templates, in strict mode: a value the plan does
//! not have is an error naming the template and line, never an empty string. Output is shell, so
//! the escape function quotes every `{{value}}` for bash (comments too); the `sh` helper does the
//! same for helper arguments. Templates never use `{{{raw}}}`.

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde::Serialize;

use crate::error::{Error, Result};

/// Every template, embedded at build time: (name, source).
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("common", include_str!("../../templates/common.sh.hbs")),
    (
        "bootstrap/install-dw.sh",
        include_str!("../../templates/bootstrap/install-dw.sh.hbs"),
    ),
    (
        "bootstrap/zookeeper.sh",
        include_str!("../../templates/bootstrap/zookeeper.sh.hbs"),
    ),
    (
        "bootstrap/kafka.sh",
        include_str!("../../templates/bootstrap/kafka.sh.hbs"),
    ),
    (
        "bootstrap/scorers.sh",
        include_str!("../../templates/bootstrap/scorers.sh.hbs"),
    ),
    (
        "bootstrap/ganglia.sh",
        include_str!("../../templates/bootstrap/ganglia.sh.hbs"),
    ),
    (
        "bootstrap/watchdog.sh",
        include_str!("../../templates/bootstrap/watchdog.sh.hbs"),
    ),
    (
        "steps/create-topic.sh",
        include_str!("../../templates/steps/create-topic.sh.hbs"),
    ),
    (
        "steps/start-job.sh",
        include_str!("../../templates/steps/start-job.sh.hbs"),
    ),
    (
        "steps/finish-replay.sh",
        include_str!("../../templates/steps/finish-replay.sh.hbs"),
    ),
];

/// Quotes a value for bash: `it's` becomes `'it'\''s'`, and a control character (a newline,
/// a tab, ...) is written as `$'\xHH'`, so the value stays on its line (a comment cannot be
/// ended by it) and is never interpreted. Values of safe characters stay as they are.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c))
    {
        return s.to_string();
    }
    let mut out = String::new();
    let mut quoted = String::new();
    let close = |quoted: &mut String, out: &mut String| {
        if !quoted.is_empty() {
            out.push('\'');
            out.push_str(&quoted.replace('\'', r"'\''"));
            out.push('\'');
            quoted.clear();
        }
    };
    for c in s.chars() {
        if c.is_control() {
            close(&mut quoted, &mut out);
            let mut buf = [0u8; 4];
            out.push_str("$'");
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
            out.push('\'');
        } else {
            quoted.push(c);
        }
    }
    close(&mut quoted, &mut out);
    if out.is_empty() {
        out.push_str("''");
    }
    out
}

fn sh_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let param = h
        .param(0)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("sh", 0))?;
    // Strict mode does not reach into helper parameters: check here.
    if param.is_value_missing() {
        return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
    }
    let text = match param.value() {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        other => {
            return Err(RenderErrorReason::Other(format!(
                "sh: cannot quote {other} for the shell"
            ))
            .into());
        }
    };
    out.write(&shell_quote(&text))?;
    Ok(())
}

pub(crate) struct Renderer {
    registry: Handlebars<'static>,
}

impl Renderer {
    /// The registry with dw's templates.
    pub(crate) fn new() -> Result<Renderer> {
        Renderer::with_templates(TEMPLATES)
    }

    /// A registry with other templates (tests use it to show how errors read).
    pub(crate) fn with_templates(templates: &[(&str, &str)]) -> Result<Renderer> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        // Every `{{value}}` is quoted for the shell, in commands and comments alike: no value
        // can reach a script as code.
        registry.register_escape_fn(shell_quote);
        registry.register_helper("sh", Box::new(sh_helper));
        for (name, source) in templates {
            registry
                .register_template_string(name, *source)
                .map_err(|e| Error::Failed(format!("template {name}: {e}")))?;
        }
        Ok(Renderer { registry })
    }

    /// Renders template `name` with `data`.
    pub(crate) fn render<T: Serialize>(&self, name: &str, data: &T) -> Result<String> {
        self.registry
            .render(name, data)
            .map_err(|e| render_error(name, &e))
    }
}

fn render_error(name: &str, e: &RenderError) -> Error {
    let template = e.template_name.clone().unwrap_or_else(|| name.to_string());
    let at = match (e.line_no, e.column_no) {
        (Some(l), Some(c)) => format!("templates/{template}.hbs:{l}:{c}"),
        (Some(l), None) => format!("templates/{template}.hbs:{l}"),
        _ => format!("templates/{template}.hbs"),
    };
    let reason = match e.reason() {
        RenderErrorReason::MissingVariable(Some(path)) => {
            format!("the plan has no value `{path}`")
        }
        other => other.to_string(),
    };
    Error::Failed(format!("{at}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(
            shell_quote("kafka://h:9092/tweets"),
            "kafka://h:9092/tweets"
        );
        assert_eq!(shell_quote("Donald Trump"), "'Donald Trump'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn control_characters_stay_on_their_line() {
        assert_eq!(shell_quote("a\nb"), r"'a'$'\x0a''b'");
        assert_eq!(shell_quote("\t"), r"$'\x09'");
    }

    /// Hostile values in a comment, in arguments and in a double-quoted string never run:
    /// the rendered script prints each value literally and creates no file.
    #[test]
    fn no_value_reaches_a_script_as_code() {
        let r = Renderer::with_templates(&[(
            "t",
            "#!/usr/bin/env bash\nset -eu\n# a comment about {{v}}\nprintf '%s\\n' {{v}}\nprintf '%s\\n' {{sh v}}\n",
        )])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("pwned");
        let m = marker.display();
        for v in [
            format!("x\ntouch {m}\n"),
            format!("x\"; touch {m}; \""),
            format!("$(touch {m})"),
            format!("`touch {m}`"),
            format!("'; touch {m}; '"),
            format!("a\r\ntouch {m} # \u{202e}\u{200b}"),
        ] {
            let script = r.render("t", &serde_json::json!({ "v": v })).unwrap();
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(&script)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{script}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!marker.exists(), "ran code from {v:?}:\n{script}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("{v}\n{v}\n"),
                "{script}"
            );
        }
        assert!(
            TEMPLATES.iter().all(|(_, source)| !source.contains("{{{")),
            "no template bypasses the quoting with {{{{{{raw}}}}}}"
        );
    }

    #[test]
    fn an_unknown_value_fails_with_the_template_and_line() {
        let r = Renderer::with_templates(&[("steps/x.sh", "echo ok\necho {{sh kafka.topik}}\n")])
            .unwrap();
        let err = r
            .render(
                "steps/x.sh",
                &serde_json::json!({"kafka": {"topic": "tweets"}}),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "templates/steps/x.sh.hbs:2:6: the plan has no value `kafka.topik`"
        );
    }
}

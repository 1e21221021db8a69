//! The handlebars registry over dw's embedded templates, in strict mode: a value the plan does
//! not have is an error naming the template and line, never an empty string. Output is shell, so
//! nothing is HTML-escaped; string values go through the `sh` helper, which single-quotes them.

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde::Serialize;

use crate::error::{Error, Result};

/// Every template, embedded at build time: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    ("common", include_str!("../templates/common.sh.hbs")),
    (
        "bootstrap/install-dw.sh",
        include_str!("../templates/bootstrap/install-dw.sh.hbs"),
    ),
    (
        "bootstrap/zookeeper.sh",
        include_str!("../templates/bootstrap/zookeeper.sh.hbs"),
    ),
    (
        "bootstrap/kafka.sh",
        include_str!("../templates/bootstrap/kafka.sh.hbs"),
    ),
    (
        "bootstrap/ganglia.sh",
        include_str!("../templates/bootstrap/ganglia.sh.hbs"),
    ),
    (
        "bootstrap/watchdog.sh",
        include_str!("../templates/bootstrap/watchdog.sh.hbs"),
    ),
    (
        "steps/create-topic.sh",
        include_str!("../templates/steps/create-topic.sh.hbs"),
    ),
    (
        "steps/start-job.sh",
        include_str!("../templates/steps/start-job.sh.hbs"),
    ),
];

/// Quotes a value for a POSIX shell: `it's` becomes `'it'\''s'`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
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

pub struct Renderer {
    registry: Handlebars<'static>,
}

impl Renderer {
    /// The registry with dw's templates.
    pub fn new() -> Result<Renderer> {
        Renderer::with_templates(TEMPLATES)
    }

    /// A registry with other templates (tests use it to show how errors read).
    pub fn with_templates(templates: &[(&str, &str)]) -> Result<Renderer> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("sh", Box::new(sh_helper));
        for (name, source) in templates {
            registry
                .register_template_string(name, *source)
                .map_err(|e| Error::Failed(format!("template {name}: {e}")))?;
        }
        Ok(Renderer { registry })
    }

    /// Renders template `name` with `data`.
    pub fn render<T: Serialize>(&self, name: &str, data: &T) -> Result<String> {
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

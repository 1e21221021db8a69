//! The scripts a cluster runs: the steps' and the bootstrap actions' templates rendered over
//! one context (the debate, the node layout, the tarballs, the watchdog), each staged.

use serde_json::{Value, json};

use crate::bootstrap;
use crate::error::Result;
use crate::launch::artifacts::Stager;
use crate::launch::plan::{ActionPlan, Staged, StagedKind};
use crate::launch::render::Renderer;
use crate::steps::Step;
use crate::units::ReleaseLabel;

pub(crate) struct Scripts {
    renderer: Renderer,
    /// What every template sees.
    base: Value,
}

impl Scripts {
    pub(crate) fn new(base: Value) -> Result<Scripts> {
        Ok(Scripts {
            renderer: Renderer::new()?,
            base,
        })
    }

    /// The base context with a template's own fields added.
    fn context(&self, extra: Value) -> Value {
        let mut c = self.base.clone();
        if let (Some(c), Value::Object(e)) = (c.as_object_mut(), extra) {
            c.extend(e);
        }
        c
    }

    pub(crate) fn steps(&self, stager: &mut Stager<'_>, steps: &[Step]) -> Result<Vec<Staged>> {
        steps
            .iter()
            .map(|step| {
                let text = self.renderer.render(
                    step.template,
                    &self.context(json!({"script": step.script, "job": step.job})),
                )?;
                Ok(stager.add_rendered(StagedKind::Steps, &step.script, text))
            })
            .collect()
    }

    /// The release's bootstrap actions; each gets the staged binaries and step scripts (it
    /// fetches and checks them) and the scorers' job.
    pub(crate) fn bootstrap_actions(
        &self,
        stager: &mut Stager<'_>,
        release: ReleaseLabel,
        binaries: &[Staged],
        step_scripts: &[Staged],
        score: &Value,
    ) -> Result<Vec<ActionPlan>> {
        let entries = |items: &[Staged]| -> Vec<Value> {
            items
                .iter()
                .map(|s| json!({"name": s.name, "uri": s.uri, "sha256": s.sha256}))
                .collect()
        };
        bootstrap::actions(release)
            .into_iter()
            .map(|action| {
                let text = self.renderer.render(
                    action.template,
                    &self.context(json!({
                        "script": action.name,
                        "binaries": entries(binaries),
                        "step_scripts": entries(step_scripts),
                        "score": score,
                    })),
                )?;
                let staged = stager.add_rendered(StagedKind::Bootstrap, action.name, text);
                Ok(ActionPlan {
                    name: action.description.to_string(),
                    description: action.description.to_string(),
                    script: staged.uri,
                })
            })
            .collect()
    }
}

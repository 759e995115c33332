//! AnalysisRuns: the one each analysis step starts, and the measurements that settle it,
//! drawn from the scenario its image tag names (a tag containing `bad` fails success-rate).

use std::time::Instant;

use serde_json::{Value, json};

use super::pass::Pass;
use super::{COMPONENT, HASH_LABEL, REVISION, RolloutsSim, SCENARIO, image_tag, obj_key};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::sim::{create, event, i, owned_by, owner_ref, parse_duration, s, write};
use crate::sandbox::kube::store::{StoreError, now_rfc3339};

impl RolloutsSim {
    /// Finds or creates the AnalysisRun of an analysis step.
    pub(super) fn step_analysis_run(
        &mut self,
        p: &Pass,
        analysis: &Value,
    ) -> Result<Value, StoreError> {
        let (ro, ns, ro_uid) = (p.ro, &p.ns, &p.uid);
        let (hash, rev, idx) = (p.hash.as_str(), p.current_rev, p.idx);
        let base = format!("{}-{hash}-{rev}-{idx}", s(ro, "/metadata/name"));
        let retried_at: Option<Instant> = self.marks.peek(&format!("retry/{ro_uid}"));
        let mine: Vec<&Value> = p
            .data
            .ars
            .iter()
            .filter(|a| {
                owned_by(a, ro_uid)
                    && (s(a, "/metadata/name") == base
                        || s(a, "/metadata/name").starts_with(&format!("{base}.")))
            })
            .collect();
        let fresh = mine.iter().find(|a| {
            let seen = self.marks.first_seen(&obj_key(a));
            retried_at.is_none_or(|r| seen >= r)
        });
        if let Some(a) = fresh {
            return Ok((*a).clone());
        }
        let name = if mine.is_empty() {
            base
        } else {
            format!("{base}.{}", mine.len())
        };
        let mut metrics = Vec::new();
        let mut template_args = Vec::new();
        for t in analysis
            .get("templates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(tpl) = self
                .store
                .get(ids::analysistemplates(), ns, s(t, "/templateName"))
            {
                let tpl = tpl.value();
                metrics.extend(
                    tpl.pointer("/spec/metrics")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
                for a in tpl
                    .pointer("/spec/args")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let an = s(a, "/name");
                    if template_args.iter().any(|x: &Value| s(x, "/name") == an) {
                        continue;
                    }
                    let given = analysis
                        .get("args")
                        .and_then(Value::as_array)
                        .and_then(|g| g.iter().find(|g| s(g, "/name") == an))
                        .and_then(|g| g.get("value").cloned());
                    template_args.push(json!({"name": an, "value": given.unwrap_or_else(|| json!(format!("{}-canary", s(ro, "/metadata/name"))))}));
                }
            }
        }
        let image = ro
            .pointer("/spec/template/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let scenario = if image_tag(image).contains("bad") {
            "bad"
        } else {
            "good"
        };
        let mut spec = json!({"metrics": metrics});
        if !template_args.is_empty() {
            spec["args"] = json!(template_args);
        }
        let ar = json!({
            "metadata": {
                "name": name, "namespace": ns,
                "labels": {"rollout-type": "Step", "step-index": idx.to_string(), HASH_LABEL: hash},
                "annotations": {REVISION: rev.to_string(), SCENARIO: scenario},
                "ownerReferences": [owner_ref(ro)],
            },
            "spec": spec,
            "status": {"phase": "Running", "startedAt": now_rfc3339()},
        });
        let created = create(&self.store, ids::analysisruns(), ar)?;
        self.marks.first_seen(&obj_key(&created));
        event(
            &self.store,
            ro,
            "Normal",
            "AnalysisRunRunning",
            &format!("Step Analysis Run '{name}' Status New: 'Running'"),
            COMPONENT,
        );
        Ok(created)
    }

    /// Takes the measurements that are due and settles the run's phase.
    pub(super) fn reconcile_analysis(&mut self, ar: &Value) -> Result<(), StoreError> {
        let phase = s(ar, "/status/phase");
        if matches!(phase, "Successful" | "Failed" | "Error" | "Inconclusive") {
            return Ok(());
        }
        let started = self.marks.first_seen(&obj_key(ar));
        let elapsed = self.clock.since(started);
        let bad = s(
            ar,
            &format!("/metadata/annotations/{}", SCENARIO.replace('/', "~1")),
        ) == "bad";
        let metrics = ar
            .pointer("/spec/metrics")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut results: Vec<Value> = ar
            .pointer("/status/metricResults")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut failed_msg = None;
        let mut all_done = true;
        for m in &metrics {
            let mname = s(m, "/name").to_owned();
            let pos = results
                .iter()
                .position(|r| s(r, "/name") == mname)
                .unwrap_or_else(|| {
                    results.push(
                        json!({"name": mname, "phase": "Running", "measurements": [], "count": 0}),
                    );
                    results.len() - 1
                });
            let r = &mut results[pos];
            if matches!(s(r, "/phase"), "Successful" | "Failed") {
                if s(r, "/phase") == "Failed" {
                    failed_msg.get_or_insert_with(|| s(r, "/message").to_owned());
                }
                continue;
            }
            let interval = m.get("interval").and_then(parse_duration).unwrap_or(5.0);
            let delay = m
                .get("initialDelay")
                .and_then(parse_duration)
                .unwrap_or(0.0);
            let limit = m.get("count").and_then(Value::as_i64).unwrap_or(3).max(1);
            let failure_limit = m.get("failureLimit").and_then(Value::as_i64).unwrap_or(0);
            let count = i(r, "/count");
            #[allow(clippy::cast_precision_loss)]
            let due = delay + interval * count as f64;
            if elapsed >= due && count < limit {
                let (value, ok) = scenario_value(&mname, bad);
                let now = now_rfc3339();
                let meas = json!({"phase": if ok { "Successful" } else { "Failed" }, "startedAt": now, "finishedAt": now, "value": value});
                let list = r["measurements"].as_array_mut();
                if let Some(list) = list {
                    list.push(meas);
                    if list.len() > 10 {
                        list.remove(0);
                    }
                }
                r["count"] = json!(count + 1);
                let key = if ok { "successful" } else { "failed" };
                r[key] = json!(i(r, &format!("/{key}")) + 1);
                if ok {
                    r["consecutiveSuccess"] = json!(i(r, "/consecutiveSuccess") + 1);
                }
            }
            let failed = i(r, "/failed");
            if failed > failure_limit {
                let msg = format!(
                    "Metric \"{mname}\" assessed Failed due to failed ({failed}) > failureLimit ({failure_limit})"
                );
                r["phase"] = json!("Failed");
                r["message"] = json!(msg);
                failed_msg.get_or_insert(msg);
            } else if i(r, "/count") >= limit {
                r["phase"] = json!("Successful");
            } else {
                all_done = false;
            }
        }
        let mut new = ar.clone();
        let summary = |p: &str| {
            i64::try_from(results.iter().filter(|r| s(r, "/phase") == p).count()).unwrap_or(0)
        };
        new["status"]["runSummary"] = json!({"count": metrics.len(), "successful": summary("Successful"), "failed": summary("Failed")});
        new["status"]["metricResults"] = json!(results);
        if let Some(msg) = failed_msg {
            new["status"]["phase"] = json!("Failed");
            new["status"]["message"] = json!(msg);
            new["status"]["completedAt"] = json!(now_rfc3339());
        } else if all_done {
            new["status"]["phase"] = json!("Successful");
            new["status"]["completedAt"] = json!(now_rfc3339());
        } else {
            new["status"]["phase"] = json!("Running");
        }
        if new != *ar {
            // The analysis controller's word on the run itself, once it settles.
            let name = s(ar, "/metadata/name");
            match s(&new, "/status/phase") {
                "Failed" => event(
                    &self.store,
                    ar,
                    "Warning",
                    "AnalysisRunFailed",
                    &format!(
                        "Analysis Run '{name}' Status Completed: 'Failed' ({})",
                        s(&new, "/status/message")
                    ),
                    COMPONENT,
                ),
                "Successful" => event(
                    &self.store,
                    ar,
                    "Normal",
                    "AnalysisRunSuccessful",
                    &format!("Analysis Run '{name}' Status Completed: 'Successful'"),
                    COMPONENT,
                ),
                _ => {}
            }
            write(&self.store, ids::analysisruns(), new)?;
        }
        Ok(())
    }
}

/// The measured value for a metric: Prometheus-shaped (`[0.99]`), bad for success-rate when
/// the scenario says so.
fn scenario_value(metric: &str, bad: bool) -> (String, bool) {
    let jitter = f64::from(rand::random::<u8>()) / 255.0;
    match metric {
        "success-rate" if bad => (format!("[{:.3}]", 0.55 + jitter * 0.1), false),
        "success-rate" => (format!("[{:.3}]", 0.985 + jitter * 0.014), true),
        "latency-p99" => (format!("[{:.3}]", 0.12 + jitter * 0.08), true),
        _ => ("[1]".to_owned(), true),
    }
}

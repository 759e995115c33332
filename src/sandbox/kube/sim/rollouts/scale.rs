//! Scaling: the desired size of each ReplicaSet for the canary's weight, and pods that are
//! created, removed and brought to ready over simulated time.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::pass::{Pass, hash_of};
use super::{POD_PENDING_SECS, POD_READY_SECS, RolloutsSim, canary_replicas, obj_key, pod_ready};
use crate::sandbox::kube::resources::ids;
use crate::sandbox::kube::sim::{create, event, i, owner_ref, s, write};
use crate::sandbox::kube::store::{StoreError, now_rfc3339};

impl RolloutsSim {
    /// Traffic routing keeps stable at full size while the canary gets its weight's share;
    /// every other ReplicaSet goes to zero.
    pub(super) fn scale_replicasets(&mut self, p: &Pass) -> Result<(), StoreError> {
        let mut desired: HashMap<String, i64> = HashMap::new();
        desired.insert(p.stable(), p.replicas);
        if !p.fully_promoted && !p.aborted {
            desired.insert(
                p.hash.clone(),
                canary_replicas(p.weight(), p.replicas).min(p.replicas),
            );
        }
        for rs in &p.replicasets {
            let want = desired.get(&hash_of(rs)).copied().unwrap_or(0);
            self.sync_replicaset(rs, want, &p.pods_of(rs))?;
        }
        Ok(())
    }

    /// Scales a ReplicaSet to `want` pods and moves each pod towards ready.
    fn sync_replicaset(
        &mut self,
        rs: &Value,
        want: i64,
        pods: &[&Value],
    ) -> Result<(), StoreError> {
        let ns = s(rs, "/metadata/namespace").to_owned();
        let rs_name = s(rs, "/metadata/name").to_owned();
        if i(rs, "/spec/replicas") != want {
            let mut new = rs.clone();
            new["spec"]["replicas"] = json!(want);
            write(&self.store, ids::replicasets(), new)?;
        }
        let have = i64::try_from(pods.len()).unwrap_or(0);
        for _ in have..want {
            let mut spec = rs
                .pointer("/spec/template/spec")
                .cloned()
                .unwrap_or_else(|| json!({}));
            spec["nodeName"] = json!("sandbox-node-1");
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "generateName": format!("{rs_name}-"), "namespace": ns,
                    "labels": rs.pointer("/spec/template/metadata/labels").cloned().unwrap_or_else(|| json!({})),
                    "ownerReferences": [owner_ref(rs)],
                },
                "spec": spec,
                "status": {"phase": "Pending", "qosClass": "BestEffort",
                           "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}]},
            });
            let pod = create(&self.store, ids::pods(), pod)?;
            // As the ReplicaSet controller and the scheduler leave them.
            let name = s(&pod, "/metadata/name").to_owned();
            event(
                &self.store,
                rs,
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {name}"),
                "replicaset-controller",
            );
            event(
                &self.store,
                &pod,
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {ns}/{name} to sandbox-node-1"),
                "default-scheduler",
            );
        }
        if have > want {
            // Scale down the youngest (not-ready first), as the ReplicaSet controller prefers.
            let mut victims: Vec<&&Value> = pods.iter().collect();
            victims.sort_by_key(|p| {
                (
                    pod_ready(p),
                    std::cmp::Reverse(s(p, "/metadata/creationTimestamp").to_owned()),
                )
            });
            for p in victims
                .iter()
                .take(usize::try_from(have - want).unwrap_or(0))
            {
                let name = s(p, "/metadata/name");
                event(
                    &self.store,
                    p,
                    "Normal",
                    "Killing",
                    "Stopping container",
                    "kubelet",
                );
                event(
                    &self.store,
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {name}"),
                    "replicaset-controller",
                );
                let _ = self.store.delete(ids::pods(), &ns, name);
                self.marks.forget(&obj_key(p));
            }
        }
        let mut ready = 0i64;
        for p in pods {
            let born = self.marks.first_seen(&obj_key(p));
            let age = self.clock.since(born);
            let target = if age < POD_PENDING_SECS {
                0
            } else if age < POD_READY_SECS {
                1
            } else {
                2
            };
            let current = match (s(p, "/status/phase"), pod_ready(p)) {
                ("Running", true) => 2,
                ("Running", false) => 1,
                _ => 0,
            };
            if target == 2 {
                ready += 1;
            }
            if target > current {
                if current == 0 {
                    let image = s(p, "/spec/containers/0/image");
                    event(
                        &self.store,
                        p,
                        "Normal",
                        "Started",
                        &format!("Started container (image {image})"),
                        "kubelet",
                    );
                }
                let mut new = (*p).clone();
                new["status"] = pod_status(p, target == 2);
                write(&self.store, ids::pods(), new)?;
            }
        }
        let mut st = json!({"replicas": have.min(want.max(have)), "observedGeneration": i(rs, "/metadata/generation")});
        st["replicas"] = json!(pods.len());
        if !pods.is_empty() {
            st["fullyLabeledReplicas"] = json!(pods.len());
        }
        if ready > 0 {
            st["readyReplicas"] = json!(ready);
            st["availableReplicas"] = json!(ready);
        }
        if rs.get("status") != Some(&st) {
            let mut new = rs.clone();
            new["spec"]["replicas"] = json!(want);
            new["status"] = st;
            write(&self.store, ids::replicasets(), new)?;
        }
        Ok(())
    }
}

fn pod_status(p: &Value, ready: bool) -> Value {
    let now = now_rfc3339();
    let started = p
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .map_or_else(|| now.clone(), str::to_owned);
    let r = if ready { "True" } else { "False" };
    let containers: Vec<Value> = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": s(c, "/name"), "image": s(c, "/image"), "imageID": "",
                "ready": ready, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": started}},
            })
        })
        .collect();
    json!({
        "phase": "Running", "qosClass": "BestEffort", "hostIP": "10.0.0.1",
        "podIP": format!("10.244.0.{}", 2 + rand::random::<u8>() % 250),
        "startTime": started,
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": started},
            {"type": "Ready", "status": r, "lastTransitionTime": now},
            {"type": "ContainersReady", "status": r, "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": started},
        ],
        "containerStatuses": containers,
    })
}

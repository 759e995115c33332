//! The REST API through kube-rs.

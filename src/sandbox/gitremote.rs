//! A seeded GitOps repository pushed to a local bare remote (demo and tests).

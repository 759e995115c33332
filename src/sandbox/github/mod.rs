//! Not built yet: see the open issues.
pub mod graphql;

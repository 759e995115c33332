//! The GitHub GraphQL endpoint of the sandbox (org teams and members), used by the Feishu sync.

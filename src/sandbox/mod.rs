//! Local stand-ins for the far end (our sandbox): servers on 127.0.0.1 that speak the real
//! protocols, used by `shipdeck demo` and by the tests. Product code never knows it talks to them.

pub mod ci;
pub mod feishu;
pub mod github;
pub mod gitremote;
pub mod kube;

//! Demo access requests: one pending request for `editor` waiting on `bob`, and one request for
//! the root role that `bob` denied.

use chrono::Duration;

use super::{Clock, Gen};
use crate::requests::review::submit;
use crate::requests::{NewRequest, RequestState};
use crate::value::Value;

/// The demo's requests, oldest first.
pub fn all(clock: &Clock) -> Vec<Value> {
    let mut rng = Gen::new(0x7265_7173);
    let mut denied = NewRequest::new("frank", vec!["ops-root".to_owned()]);
    denied.reason = "Restart the payment workers on prod-db-02".to_owned();
    let created = clock.now - Duration::hours(3);
    let mut denied = denied.to_value(&rng.uuid(), created);
    // The demo's own data: the review cannot be refused.
    let _ =
        submit(&mut denied, "bob", RequestState::Denied, "Change freeze until Monday", created + Duration::minutes(12));

    let mut pending = NewRequest::new("carol", vec!["editor".to_owned()]);
    pending.reason = "JIRA-2231: deploy the payments hotfix to staging".to_owned();
    pending.reviewers = vec!["bob".to_owned()];
    let pending = pending.to_value(&rng.uuid(), clock.now - Duration::minutes(40));
    vec![denied, pending]
}

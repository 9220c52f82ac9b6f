//! Fault rules, shared by every mock (the Salesforce org's are specified in
//! ../shared/reference/salesforce-api.md 5.3): matched by operation, method, target (an app, a
//! user: whatever the mock's paths name), nth call and probability; `before` fails without
//! effect, `after` applies the effect and then fails. Actions: a status with a body, latency,
//! a hang, a connection reset, or a latch that holds the response until released through the
//! control API.

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Match {
    pub op: Option<String>,
    pub method: Option<String>,
    /// The target the request's path names (Salesforce: an app id, 15 or 18 characters).
    pub app: Option<String>,
    /// Fire from the nth matching call (1-based); earlier calls pass.
    pub nth: Option<u64>,
    /// How many times the rule fires at most (default: unlimited).
    pub times: Option<u64>,
    /// Chance of firing once the other conditions hold (default 1).
    pub probability: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Action {
    pub status: Option<u16>,
    /// `json` (Salesforce's error array for the status), `html`, `empty`, or a literal body.
    pub body: Option<String>,
    pub headers: std::collections::BTreeMap<String, String>,
    pub latency_ms: u64,
    pub hang: bool,
    pub reset: bool,
    pub latch: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Rule {
    pub id: String,
    #[serde(rename = "match", default)]
    pub when: Match,
    /// `before` or `after`.
    #[serde(default = "before")]
    pub phase: String,
    #[serde(default)]
    pub action: Action,
    /// Matching calls seen so far.
    #[serde(default)]
    pub seen: u64,
    /// Times fired so far.
    #[serde(default)]
    pub fired: u64,
}

fn before() -> String {
    "before".into()
}

/// The request facts rules look at.
pub struct Call<'a> {
    pub op: &'a str,
    pub method: &'a str,
    pub app: Option<&'a str>,
}

/// Finds the first rule that fires for this call in this phase, counting the call.
/// `same_target` says whether a rule's target names the call's (Salesforce: the same id in
/// its 15- or 18-character form).
pub fn pick(
    rules: &mut [Rule],
    call: &Call,
    phase: &str,
    rng: &mut impl Rng,
    same_target: fn(&str, &str) -> bool,
) -> Option<Action> {
    for rule in rules.iter_mut() {
        if rule.phase != phase {
            continue;
        }
        let w = &rule.when;
        if w.op.as_deref().is_some_and(|op| op != call.op)
            || w.method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(call.method))
            || w.app.as_deref().is_some_and(|a| {
                !call
                    .app
                    .is_some_and(|c| same_target(c, a) || same_target(a, c))
            })
        {
            continue;
        }
        rule.seen += 1;
        if w.nth.is_some_and(|nth| rule.seen < nth) {
            continue;
        }
        if w.times.is_some_and(|times| rule.fired >= times) {
            continue;
        }
        if let Some(p) = w.probability {
            if rng.gen::<f64>() >= p {
                continue;
            }
        }
        rule.fired += 1;
        return Some(rule.action.clone());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::salesforce::model::same_id;
    use rand::SeedableRng;

    fn rule(phase: &str, when: Match) -> Rule {
        Rule {
            id: "r".into(),
            when,
            phase: phase.into(),
            action: Action {
                status: Some(503),
                ..Default::default()
            },
            seen: 0,
            fired: 0,
        }
    }

    #[test]
    fn nth_and_times_select_which_calls_fail() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut rules = vec![rule(
            "before",
            Match {
                op: Some("rotate".into()),
                nth: Some(2),
                times: Some(1),
                ..Default::default()
            },
        )];
        let call = Call {
            op: "rotate",
            method: "PATCH",
            app: None,
        };
        let other = Call {
            op: "token",
            method: "POST",
            app: None,
        };
        assert!(pick(&mut rules, &other, "before", &mut rng, same_id).is_none());
        assert!(pick(&mut rules, &call, "before", &mut rng, same_id).is_none());
        assert!(pick(&mut rules, &call, "after", &mut rng, same_id).is_none());
        assert!(pick(&mut rules, &call, "before", &mut rng, same_id).is_some());
        assert!(pick(&mut rules, &call, "before", &mut rng, same_id).is_none());
    }

    #[test]
    fn probability_zero_never_fires_and_app_must_match() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut rules = vec![rule(
            "before",
            Match {
                probability: Some(0.0),
                ..Default::default()
            },
        )];
        let call = Call {
            op: "token",
            method: "POST",
            app: None,
        };
        for _ in 0..50 {
            assert!(pick(&mut rules, &call, "before", &mut rng, same_id).is_none());
        }
        let mut rules = vec![rule(
            "before",
            Match {
                app: Some("0xIAAAAAAAAAAAAAAA".into()),
                ..Default::default()
            },
        )];
        assert!(pick(
            &mut rules,
            &Call {
                op: "x",
                method: "GET",
                app: Some("0xIBBBBBBBBBBBBBBB")
            },
            "before",
            &mut rng,
            same_id
        )
        .is_none());
        assert!(pick(
            &mut rules,
            &Call {
                op: "x",
                method: "GET",
                app: Some("0xIAAAAAAAAAAAA")
            },
            "before",
            &mut rng,
            same_id
        )
        .is_some());
    }
}

//! Replay: a version run again on recorded runs, each with the input (and so the `now`) it
//! had and its own config or a given one, and its decisions compared with the recorded
//! ones. The tally is shared by the admin API (runs in PostgreSQL, a stored version) and
//! `edgecart plugin replay --wasm` (runs fetched over the API, a local component).

use serde_json::Value;

use super::{CallFailure, FailureKind, Hook, HookInput, PluginConfig, json};
use crate::{domain::Run, rules::Decision};

/// Runs one replay takes at most.
pub const MAX_REPLAY_RUNS: i64 = 10_000;
/// Runs one replay takes when not told.
pub const DEFAULT_REPLAY_RUNS: i64 = 1_000;
/// Disagreements and failures a report shows, the first ones met.
pub const MAX_SAMPLES: usize = 20;

/// One run whose replay did not agree: what was recorded and what the replay decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The recorded run.
    pub run_id: i64,
    /// Its recorded decision, as JSON.
    pub recorded: Value,
    /// The replayed outcome, as JSON.
    pub replayed: Value,
}

/// What a replay found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replayed {
    /// Runs replayed.
    pub runs: usize,
    /// Runs that came to the recorded outcome (prices compared without their reasons).
    pub agreed: usize,
    /// Runs that came to another decision (or decided where the recorded run failed).
    pub disagreed: usize,
    /// Runs whose replay failed.
    pub failed: usize,
    /// The first [`MAX_SAMPLES`] disagreements and failures.
    pub samples: Vec<Sample>,
}

/// What a recorded run is replayed with: its hook's input and a config.
#[derive(Debug)]
pub struct Replay {
    /// The input as recorded.
    pub input: HookInput,
    /// The config to run with.
    pub config: PluginConfig,
}

impl Replay {
    /// The input and config of `run` for `hook`, with `config` instead of the recorded one
    /// when given; a recorded input that no longer parses is the failure to report.
    pub fn of(run: &Run, hook: Hook, config: Option<&PluginConfig>) -> Result<Self, CallFailure> {
        let input = HookInput::parse(hook, &run.input).map_err(|e| CallFailure {
            kind: FailureKind::Contract,
            message: format!("the recorded input no longer parses: {e}"),
        })?;
        let config = config
            .cloned()
            .unwrap_or_else(|| PluginConfig::new(&run.config));
        Ok(Self { input, config })
    }
}

impl Replayed {
    /// Adds the replay of `run`, which came to `replayed`.
    pub fn add(&mut self, run: &Run, replayed: &Result<Decision, CallFailure>) {
        self.runs += 1;
        let recorded = json::decision_from_json(&run.decision);
        match (replayed, recorded) {
            (Err(_), _) => self.failed += 1,
            (Ok(now), Some(then)) if now.same_outcome(&then) => {
                self.agreed += 1;
                return;
            }
            (Ok(_), _) => self.disagreed += 1,
        }
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(Sample {
                run_id: run.id,
                recorded: run.decision.clone(),
                replayed: json::outcome_json(replayed),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{domain::RunOutcome, rules::Rejection};

    fn run(id: i64, decision: Value) -> Run {
        Run {
            id,
            plugin: "p".into(),
            version: "1.0.0".into(),
            hook: "charge.validate".into(),
            outcome: RunOutcome::Accepted,
            input: serde_json::json!({"userId": 1, "amount": 5, "now": 7}),
            config: serde_json::json!({"max": "9"}),
            decision,
            fuel: 1,
            duration_micros: 1,
            logs: serde_json::json!([]),
            recorded_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn agreements_disagreements_and_failures_are_told_apart() {
        let reject = Decision::Reject(Rejection {
            code: "NO".into(),
            message: "no".into(),
        });
        let trap = CallFailure {
            kind: FailureKind::Trap,
            message: "unreachable".into(),
        };
        let accepted = serde_json::json!({"accept": true});
        let failed = json::outcome_json(&Err(trap.clone()));
        let mut tally = Replayed::default();
        tally.add(&run(1, accepted.clone()), &Ok(Decision::Accept));
        tally.add(&run(2, accepted.clone()), &Ok(reject.clone()));
        tally.add(&run(3, accepted), &Err(trap));
        tally.add(&run(4, failed), &Ok(Decision::Accept));
        assert_eq!(
            (tally.runs, tally.agreed, tally.disagreed, tally.failed),
            (4, 1, 2, 1)
        );
        let ids: Vec<i64> = tally.samples.iter().map(|s| s.run_id).collect();
        assert_eq!(ids, [2, 3, 4]);
        assert_eq!(tally.samples[0].replayed["reject"]["code"], "NO");
    }

    #[test]
    fn samples_stop_at_the_cap_and_the_counts_go_on() {
        let mut tally = Replayed::default();
        for id in 0..50 {
            tally.add(
                &run(id, serde_json::json!({"accept": true})),
                &Ok(Decision::Prices(vec![])),
            );
        }
        assert_eq!(tally.disagreed, 50);
        assert_eq!(tally.samples.len(), MAX_SAMPLES);
    }

    #[test]
    fn a_replay_runs_with_the_recorded_input_and_config_unless_given_one() {
        let recorded = run(1, serde_json::json!({"accept": true}));
        let own = Replay::of(&recorded, Hook::ChargeValidate, None).unwrap();
        assert_eq!(own.config, PluginConfig::new(&recorded.config));
        let HookInput::Charge(charge) = own.input else {
            panic!("a charge input");
        };
        assert_eq!((charge.amount, charge.now_ms), (5, 7));
        let given = PluginConfig::new(&serde_json::json!({"max": "1"}));
        let with = Replay::of(&recorded, Hook::ChargeValidate, Some(&given)).unwrap();
        assert_eq!(with.config, given);
        let broken = Replay::of(&recorded, Hook::OrderPrice, None).unwrap_err();
        assert_eq!(broken.kind, FailureKind::Contract);
    }
}

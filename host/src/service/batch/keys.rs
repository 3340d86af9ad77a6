//! The idempotency side of a batch: every key claimed at once in the batch's transaction, a
//! key repeated within the batch answered from its first request, and each fresh answer
//! recorded beside the batch's writes, so a key is applied once however its requests meet.

use std::collections::HashMap;

use super::super::{Answer, Error, Origin, Unavailable};
use crate::{
    domain::UserId,
    idempotency::{
        IdempotentRequest, StoredResponse,
        durable::{self, Claim, Completions, Releases},
    },
    metrics::{IdempotencyOutcome, Metrics},
    store::{self, BatchRows, Bound},
};

/// What a batch decided for one job it ran.
#[derive(Debug)]
pub enum Outcome {
    /// Applied; the answer is recorded for its key.
    Applied(StoredResponse),
    /// Refused (a business error, nothing changed); the refusal is recorded for its key.
    Refused(StoredResponse),
    /// Its inputs changed since it was prepared: its claim is given up, and the caller
    /// prepares it again.
    Stale(Error),
}

/// Where a job stands once the keys are claimed.
enum Standing {
    /// The batch decides it (no key, or a key claimed now).
    Fresh,
    /// An earlier request's answer (a replay), or 422 for a key used for another request.
    Earlier(Result<Answer, Error>),
    /// The same key as an earlier job of this batch (its index).
    Repeat(usize),
}

/// The keys of a batch's jobs, claimed in its transaction.
pub struct Keys<'a> {
    requests: Vec<Option<&'a IdempotentRequest>>,
    standing: Vec<Standing>,
}

impl<'a> Keys<'a> {
    /// Prepares, on `tx`'s connection, the claim statements and `after` (the statements a
    /// batch pipelines behind its claims with `try_join!`), so that the claims really reach
    /// PostgreSQL first: a batch that locked its rows before claiming its keys could
    /// deadlock with one that claimed a shared key first and now waits for those rows.
    pub async fn prepare(
        tx: &impl deadpool_postgres::GenericClient,
        after: &[&str],
    ) -> Result<(), Error> {
        let statements: Vec<&str> = durable::CLAIM_STATEMENTS
            .iter()
            .chain(after)
            .copied()
            .collect();
        Ok(store::prepare_all(tx, &statements).await?)
    }

    /// Claims the keys of `requests` (one per job; `None` for a job without a key) in `tx`.
    pub async fn claim(
        tx: &impl deadpool_postgres::GenericClient,
        requests: Vec<Option<&'a IdempotentRequest>>,
        metrics: &Metrics,
    ) -> Result<Self, Error> {
        let mut first: HashMap<(UserId, &str), usize> = HashMap::new();
        let mut standing = Vec::with_capacity(requests.len());
        let mut claimed = Vec::new();
        for (i, request) in requests.iter().enumerate() {
            let Some(req) = request else {
                standing.push(Standing::Fresh);
                continue;
            };
            match first.get(&(req.user, req.key.as_str())) {
                Some(&earlier) => standing.push(Standing::Repeat(earlier)),
                None => {
                    first.insert((req.user, req.key.as_str()), i);
                    claimed.push(i);
                    standing.push(Standing::Fresh);
                }
            }
        }
        let reqs: Vec<&IdempotentRequest> = claimed.iter().filter_map(|&i| requests[i]).collect();
        let claims = durable::claim_all(tx, &reqs).await?;
        for ((&i, req), claim) in claimed.iter().zip(reqs).zip(claims) {
            standing[i] = match claim {
                Claim::New => Standing::Fresh,
                Claim::Done(fingerprint, _) if fingerprint != req.fingerprint => {
                    metrics.idempotency(IdempotencyOutcome::Reused);
                    Standing::Earlier(Err(Error::IdempotencyKeyReused))
                }
                Claim::Done(_, response) => {
                    metrics.idempotency(IdempotencyOutcome::Replayed);
                    Standing::Earlier(Ok(Answer::replayed(response)))
                }
            };
        }
        Ok(Self { requests, standing })
    }

    /// Whether the batch decides job `i` (it is not answered by an earlier request).
    pub fn is_fresh(&self, i: usize) -> bool {
        matches!(self.standing[i], Standing::Fresh)
    }

    /// Every job's answer from the batch's `outcomes` (`None` where the job was not fresh),
    /// and the records to write beside the batch's changes. A repeated key gets its first
    /// request's answer as a replay (422 when it asks for something else, 409 while the first
    /// is still to be prepared again).
    pub fn settle(
        self,
        outcomes: Vec<Option<Outcome>>,
        metrics: &Metrics,
    ) -> (Vec<Result<Answer, Error>>, Records) {
        let mut records = Records::default();
        let mut answers: Vec<Result<Answer, Error>> = Vec::with_capacity(outcomes.len());
        let jobs = self.standing.into_iter().zip(outcomes).zip(&self.requests);
        for ((standing, outcome), &request) in jobs {
            let answer = match standing {
                Standing::Earlier(answer) => answer,
                Standing::Repeat(first) => {
                    repeat_of(&answers[first], request, self.requests[first], metrics)
                }
                Standing::Fresh => match outcome {
                    Some(Outcome::Applied(response)) => {
                        records.record(request, response, Origin::Applied, metrics)
                    }
                    Some(Outcome::Refused(response)) => {
                        records.record(request, response, Origin::Refused, metrics)
                    }
                    Some(Outcome::Stale(error)) => {
                        if let Some(req) = request {
                            records.releases.push(req);
                        }
                        Err(error)
                    }
                    None => Err(Error::DatabaseUnavailable(Unavailable::Batch(
                        "the batch gave no outcome for a request",
                    ))),
                },
            };
            answers.push(answer);
        }
        (answers, records)
    }
}

/// The answer to a request whose key an earlier job of its batch had.
fn repeat_of(
    first: &Result<Answer, Error>,
    request: Option<&IdempotentRequest>,
    first_request: Option<&IdempotentRequest>,
    metrics: &Metrics,
) -> Result<Answer, Error> {
    // Another request than the first, or the same as a first that was itself a reuse.
    let reused = request.map(|r| r.fingerprint) != first_request.map(|r| r.fingerprint)
        || matches!(first, Err(Error::IdempotencyKeyReused));
    match first {
        _ if reused => {
            metrics.idempotency(IdempotencyOutcome::Reused);
            Err(Error::IdempotencyKeyReused)
        }
        Ok(answer) => {
            metrics.idempotency(IdempotencyOutcome::Replayed);
            Ok(Answer::replayed(answer.response.clone()))
        }
        Err(_) => {
            metrics.idempotency(IdempotencyOutcome::InUse);
            Err(Error::IdempotencyKeyInUse)
        }
    }
}

/// The records a batch writes beside its changes: answers of the keys it claimed, and the
/// claims of stale jobs given up.
#[derive(Debug, Default)]
pub struct Records {
    completions: Completions,
    releases: Releases,
}

impl Records {
    /// Records `response` for `request`'s key (when it has one) and answers with it.
    fn record(
        &mut self,
        request: Option<&IdempotentRequest>,
        response: StoredResponse,
        origin: Origin,
        metrics: &Metrics,
    ) -> Result<Answer, Error> {
        if let Some(req) = request {
            self.completions.push(req, &response);
            metrics.idempotency(IdempotencyOutcome::Fresh);
        }
        Ok(Answer { response, origin })
    }
}

impl BatchRows for Records {
    fn statements(&self) -> Vec<Bound<'_>> {
        let mut statements = self.completions.statements();
        statements.extend(self.releases.statements());
        statements
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::domain::IdempotencyKey;

    fn request(key: &str, amount: i64) -> IdempotentRequest {
        let key = IdempotencyKey::parse(key.as_bytes()).unwrap();
        let user = UserId::new(7).unwrap();
        IdempotentRequest::new(user, key, "POST", "/x", &amount)
    }

    fn response(status: u16) -> StoredResponse {
        StoredResponse {
            status,
            content_type: "application/json".into(),
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn a_repeated_key_gets_its_first_requests_answer_and_only_the_first_is_recorded() {
        let (first, same, other) = (request("k", 1), request("k", 1), request("k", 2));
        let keys = Keys {
            requests: vec![Some(&first), Some(&same), Some(&other), None],
            standing: vec![
                Standing::Fresh,
                Standing::Repeat(0),
                Standing::Repeat(0),
                Standing::Fresh,
            ],
        };
        let outcomes = vec![
            Some(Outcome::Applied(response(201))),
            None,
            None,
            Some(Outcome::Refused(response(409))),
        ];
        let (answers, records) = keys.settle(outcomes, &Metrics::new());

        let origins: Vec<_> = answers
            .iter()
            .map(|a| a.as_ref().map(|a| (a.origin, a.response.status)).ok())
            .collect();
        assert_eq!(
            origins,
            vec![
                Some((Origin::Applied, 201)),
                Some((Origin::Replayed, 201)),
                None,
                Some((Origin::Refused, 409)),
            ]
        );
        assert!(matches!(answers[2], Err(Error::IdempotencyKeyReused)));
        // One completion (the first's key; the keyless refusal has none), no release.
        assert_eq!(records.statements().len(), 1);
    }

    #[test]
    fn a_stale_first_gives_up_its_claim_and_its_repeat_is_in_use() {
        let (first, same) = (request("k", 1), request("k", 1));
        let keys = Keys {
            requests: vec![Some(&first), Some(&same)],
            standing: vec![Standing::Fresh, Standing::Repeat(0)],
        };
        let outcomes = vec![Some(Outcome::Stale(Error::PriceChanged)), None];
        let (answers, records) = keys.settle(outcomes, &Metrics::new());

        assert!(matches!(answers[0], Err(Error::PriceChanged)));
        assert!(matches!(answers[1], Err(Error::IdempotencyKeyInUse)));
        let statements = records.statements();
        assert_eq!(statements.len(), 1);
        assert!(statements[0].0.starts_with("DELETE"), "{}", statements[0].0);
    }
}

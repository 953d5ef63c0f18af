//! How a benchmark worker turns engine events into attempt outcomes and user states.
#![allow(clippy::disallowed_methods)] // events are stamped with the worker's clock

use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ims_core::engine::{Command, Event};
use ims_core::ua::{MessageError, RegistrationError};

use super::metrics::End;
use super::worker::{BenchWorker, UserState};
use crate::vu::{plain_response, status_for_request};

impl BenchWorker {
    /// Turns one engine event into attempt outcomes and user states.
    pub(super) fn handle_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Registered { account, .. } => {
                let user = account.index();
                match self.states.get(user) {
                    Some(UserState::Preamble) => {
                        self.metrics
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .preamble_registered += 1;
                        self.shared.preamble_settled.fetch_add(1, Ordering::AcqRel);
                        self.release(user, true);
                    }
                    Some(UserState::Busy) => {
                        if let Some(attempt) = self.attempts.remove(&user) {
                            self.end(attempt, End::Status(200), now);
                        }
                    }
                    _ => {}
                }
            }
            Event::RegistrationFailed {
                account, reason, ..
            } => {
                let user = account.index();
                let end = registration_end(&reason);
                match self.states.get(user) {
                    Some(UserState::Preamble) => {
                        tracing::debug!(worker = self.index, user, %reason, "preamble registration failed");
                        self.metrics
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .preamble_failed += 1;
                        self.shared.preamble_settled.fetch_add(1, Ordering::AcqRel);
                        self.states[user] = UserState::Cleaning;
                        self.send(now, user, |account| Command::Unregister { account });
                    }
                    Some(UserState::Busy) => {
                        if let Some(attempt) = self.attempts.remove(&user) {
                            self.end(attempt, end, now);
                        }
                    }
                    Some(UserState::Registered) => {
                        // A refresh of the engine's own failed: out of the pool, cleaned.
                        self.registered.retain(|u| *u != user);
                        self.set_registered(user, false);
                        self.states[user] = UserState::Cleaning;
                        self.send(now, user, |account| Command::Unregister { account });
                    }
                    Some(UserState::Final) => {
                        self.metrics
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .final_failed += 1;
                        self.set_registered(user, false);
                        self.states[user] = UserState::Done;
                    }
                    _ => {}
                }
            }
            Event::Unregistered { account } => {
                let user = account.index();
                match self.states.get(user) {
                    Some(UserState::Busy) => {
                        if let Some(attempt) = self.attempts.remove(&user) {
                            self.end(attempt, End::Status(200), now);
                        }
                    }
                    Some(UserState::Cleaning) => self.release(user, false),
                    Some(UserState::Final) => {
                        self.metrics
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .final_deregistered += 1;
                        self.set_registered(user, false);
                        self.states[user] = UserState::Done;
                    }
                    Some(UserState::Registered) => {
                        // The registrar dropped the binding: stop the engine registering
                        // again by itself; the user is not registered.
                        self.registered.retain(|u| *u != user);
                        self.states[user] = UserState::Cleaning;
                        self.set_registered(user, false);
                        self.send(now, user, |account| Command::Unregister { account });
                    }
                    _ => {}
                }
            }
            Event::MessageAccepted { id, status, .. } => {
                if let Some(attempt) = self.messages.remove(&id) {
                    self.end(attempt, End::Status(status), now);
                }
            }
            Event::MessageFailed { id, reason, .. } => {
                if let Some(attempt) = self.messages.remove(&id) {
                    self.end(attempt, message_end(&reason), now);
                }
            }
            Event::MessageReceived(incoming) => {
                self.metrics
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .messages_received += 1;
                self.respond(now, incoming.transaction, 200);
            }
            Event::IncomingRequest(request) => {
                let status = status_for_request(request.method.as_str());
                self.respond(now, request.transaction, status);
            }
            _ => {}
        }
    }

    fn respond(
        &mut self,
        now: Instant,
        transaction: ims_core::transaction::TransactionKey,
        status: u16,
    ) {
        self.command(now, plain_response(transaction, status));
    }
}

/// How a failed registration ends its attempt.
fn registration_end(error: &RegistrationError) -> End {
    match error {
        RegistrationError::Rejected { status, .. }
        | RegistrationError::Unavailable { status, .. }
        | RegistrationError::NoUsableChallenge { status } => End::Status(*status),
        RegistrationError::AuthenticationFailed { .. } | RegistrationError::ChallengeLoop => {
            End::Status(401)
        }
        RegistrationError::IntervalTooBrief => End::Status(423),
        RegistrationError::Timeout { .. } => End::Timeout,
        _ => End::Error,
    }
}

fn message_end(error: &MessageError) -> End {
    match error {
        MessageError::Rejected { status, .. } => End::Status(*status),
        MessageError::Timeout => End::Timeout,
        _ => End::Error,
    }
}

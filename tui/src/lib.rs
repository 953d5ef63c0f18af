//! imsphone: the keyboard-driven terminal IMS softphone, as a library so that its state
//! machine and screens are tested without a terminal.
//!
//! The shape (STYLE.md §10): terminal keys become an [`Action`] through the
//! [`keymap`]; [`App::update`] changes the state and returns [`Effect`]s; the
//! [`Backend`](backend::Backend) carries effects out against the store and the engine
//! and answers with more actions; [`components`] draw the state and nothing else.

pub mod account_form;
pub mod accounts;
pub mod action;
pub mod app;
pub mod backend;
pub mod command_line;
pub mod components;
pub mod editor;
pub mod forms;
pub mod import;
pub mod keymap;
pub mod mouse;
pub mod run;
pub mod session;
pub mod settings;
pub mod text;
pub mod trace;

pub use action::{Action, Effect, Pane, Screen, Target};
pub use app::App;

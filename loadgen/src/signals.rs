//! SIGINT and SIGTERM for the controllers of a run and of a benchmark.

/// The next SIGINT or SIGTERM (never, for a stream that could not be set up).
pub(crate) async fn next_signal(
    interrupt: &mut Option<tokio::signal::unix::Signal>,
    terminate: &mut Option<tokio::signal::unix::Signal>,
) {
    let one = async {
        match interrupt.as_mut() {
            Some(stream) => {
                stream.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    let other = async {
        match terminate.as_mut() {
            Some(stream) => {
                stream.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = one => {}
        () = other => {}
    }
}

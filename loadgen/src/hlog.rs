//! `latency.hlog`: HdrHistogram interval logs (one compressed histogram per transaction
//! type and interval, tagged with the type's name; values in microseconds), readable by
//! HdrHistogram's own tools (HistogramLogProcessor, HdrHistogram plotters).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use crate::metrics::{Kind, Metrics, new_histogram};

/// The log being written, and the totals it had reached at the last interval.
pub struct HistogramLog {
    file: BufWriter<File>,
    serializer: V2DeflateSerializer,
    previous: Vec<Histogram<u64>>,
    /// Where each interval is computed, kept from one to the next (a histogram is 170 kB:
    /// one allocated per interval would cost its page faults each time).
    scratch: Vec<Histogram<u64>>,
    /// End of the last interval written (since the run started).
    last: Duration,
}

impl HistogramLog {
    /// Creates `dir/latency.hlog` with its header; `start` is when the run started.
    pub fn create(dir: &Path, start: SystemTime, scenario: &str) -> std::io::Result<HistogramLog> {
        std::fs::create_dir_all(dir)?;
        let mut file = BufWriter::new(File::create(dir.join("latency.hlog"))?);
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment(&format!(
                "imsload {} {scenario}: latency in microseconds per transaction type (tag)",
                env!("CARGO_PKG_VERSION")
            ))
            .with_start_time(start)
            .with_base_time(start)
            .begin_log_with(&mut file, &mut serializer)?;
        file.write_all(
            b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
        )?;
        Ok(HistogramLog {
            file,
            serializer,
            previous: Kind::ALL.iter().map(|_| new_histogram()).collect(),
            scratch: Kind::ALL.iter().map(|_| new_histogram()).collect(),
            last: Duration::ZERO,
        })
    }

    /// Writes the interval from the last one to `now` (since the run started): for each
    /// type with new measurements, what `totals` holds beyond the last totals.
    pub fn interval(&mut self, totals: &Metrics, now: Duration) -> std::io::Result<()> {
        let length = now.saturating_sub(self.last);
        let histograms = self.previous.iter_mut().zip(self.scratch.iter_mut());
        for (kind, (previous, interval)) in Kind::ALL.iter().zip(histograms) {
            let total = &totals.kind(*kind).latency;
            if total.len() == previous.len() {
                continue;
            }
            if !interval.is_empty() {
                interval.reset();
            }
            // Same bounds on both sides: adding cannot fail (into an empty one it copies).
            let _ = interval.add(total);
            // `previous` is an earlier state of the same totals: never more in any bucket.
            if interval.subtract(&*previous).is_err() {
                tracing::warn!(kind = kind.name(), "histogram totals went backwards");
                continue;
            }
            let mut writer = IntervalLogWriterBuilder::new()
                .begin_log_with(&mut self.file, &mut self.serializer)?;
            writer
                .write_histogram(interval, self.last, length, Tag::new(kind.name()))
                .map_err(std::io::Error::other)?;
            // The earlier totals and what they gained: the totals now.
            let _ = previous.add(&*interval);
        }
        self.last = now;
        self.file.flush()
    }
}

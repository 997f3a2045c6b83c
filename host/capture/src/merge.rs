//! Stable k-way merge of several captures by timestamp (DESIGN section 7).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use crate::reader::CaptureReader;
use crate::source::CaptureError;
use tickcross_core::frame::Frame;

/// Merges frame streams by timestamp. Ties go to the source given first; within one source the
/// records keep their order even when the source itself is out of order, because only each
/// source's next record takes part in the comparison.
///
/// The first error from any source is yielded (after every frame that precedes it in merge
/// order) and ends the merge.
pub struct MergedCaptures<I = CaptureReader> {
    sources: Vec<I>,
    /// Each source's pending record.
    heads: Vec<Option<Frame>>,
    /// (timestamp, source) of every pending record; the minimum comes out first.
    heap: BinaryHeap<Reverse<(u64, usize)>>,
    primed: bool,
    /// Source whose head was yielded last and must be refilled before the next comparison.
    refill: Option<usize>,
    done: bool,
}

impl<I: Iterator<Item = Result<Frame, CaptureError>>> MergedCaptures<I> {
    pub fn new(sources: Vec<I>) -> Self {
        let n = sources.len();
        MergedCaptures {
            sources,
            heads: (0..n).map(|_| None).collect(),
            heap: BinaryHeap::with_capacity(n),
            primed: false,
            refill: None,
            done: false,
        }
    }

    /// The sources, e.g. to read their stats after the merge.
    pub fn sources(&self) -> &[I] {
        &self.sources
    }

    pub fn into_sources(self) -> Vec<I> {
        self.sources
    }

    /// Pulls source `i`'s next record into the heap.
    fn pull(&mut self, i: usize) -> Result<(), CaptureError> {
        match self.sources[i].next() {
            Some(Ok(f)) => {
                self.heap.push(Reverse((f.ts_ns, i)));
                self.heads[i] = Some(f);
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None => Ok(()),
        }
    }

    /// The next frame in merge order, with the index of the source it came from.
    pub fn next_with_source(&mut self) -> Option<Result<(usize, Frame), CaptureError>> {
        if self.done {
            return None;
        }
        let step = if !self.primed {
            self.primed = true;
            (0..self.sources.len()).try_for_each(|i| self.pull(i))
        } else if let Some(i) = self.refill.take() {
            self.pull(i)
        } else {
            Ok(())
        };
        if let Err(e) = step {
            self.done = true;
            return Some(Err(e));
        }
        let Some(Reverse((_, i))) = self.heap.pop() else {
            self.done = true;
            return None;
        };
        self.refill = Some(i);
        // The heap holds exactly one entry per filled head.
        self.heads[i].take().map(|f| Ok((i, f)))
    }
}

impl<I: Iterator<Item = Result<Frame, CaptureError>>> Iterator for MergedCaptures<I> {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with_source().map(|r| r.map(|(_, f)| f))
    }
}

/// Opens every capture in `paths` and merges them (ties: the order of `paths`).
pub fn open_merged<P: AsRef<Path>>(paths: &[P]) -> Result<MergedCaptures, CaptureError> {
    let readers = paths
        .iter()
        .map(CaptureReader::open)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MergedCaptures::new(readers))
}

//! The CLI's one way of running work on several threads: [`in_order`] works on items on N threads,
//! the calling one among them, and hands the results back on the calling thread in the items'
//! order. The main command analyses several small captures at once with it, `summary` its files,
//! and the JSON lines of many verdicts ready at once are formatted on it ([`crate::parallel_json`]).
//!
//! One capture's own threads are the engine's ([`shakedown::analyze_parallel`]); this pool is for
//! independent pieces of work whose results go out in order. Its threads live for one call: for
//! the JSON lines held back at the end of a 1 GB capture, that measured no slower than helper
//! threads kept for the whole capture. Memory stays bounded: an item is started only when fewer
//! than a few results per thread wait for those before them to be taken.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Results that may wait to be taken, per thread: an item further ahead is not started.
const AHEAD_PER_THREAD: usize = 4;

/// Runs `work` on every item on `threads` threads (at least one: the calling thread, which also
/// works when no result is ready), and gives each result to `take` on the calling thread, in the
/// items' order, as soon as it and every one before it are there. When `take` says
/// [`ControlFlow::Break`], no further item is started; the call returns once the items begun are
/// done. A panic in `work` goes on on the calling thread.
pub(crate) fn in_order<T, R, I>(
    items: I,
    threads: usize,
    work: impl Fn(T) -> R + Sync,
    mut take: impl FnMut(R) -> ControlFlow<()>,
) where
    I: IntoIterator<Item = T>,
    I::IntoIter: Send,
    T: Send,
    R: Send,
{
    let threads = threads.max(1);
    let pool = Pool {
        items: Mutex::new(Items {
            iter: items.into_iter().enumerate(),
            handed: 0,
            exhausted: false,
            taken: 0,
            stop: false,
        }),
        room: Condvar::new(),
        ahead: threads.saturating_mul(AHEAD_PER_THREAD),
    };
    let (done, results) = mpsc::channel::<(usize, std::thread::Result<R>)>();
    std::thread::scope(|scope| {
        let (pool, work) = (&pool, &work);
        for _ in 1..threads {
            let done = done.clone();
            scope.spawn(move || {
                while let Some((i, item)) = pool.next(true) {
                    if done.send((i, run(work, item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut ready = BTreeMap::new();
        let mut next = 0;
        loop {
            while let Some(result) = ready.remove(&next) {
                next += 1;
                let result = match result {
                    Ok(result) => result,
                    Err(panic) => {
                        pool.stop();
                        std::panic::resume_unwind(panic)
                    }
                };
                pool.took(next);
                if take(result).is_break() {
                    pool.stop();
                    return;
                }
            }
            match results.try_recv() {
                Ok((i, result)) => {
                    ready.insert(i, result);
                    continue;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
            }
            // Nothing is there yet: work on an item meanwhile, if one may be started.
            if let Some((i, item)) = pool.next(false) {
                ready.insert(i, run(work, item));
                continue;
            }
            if pool.all_taken(next) {
                return;
            }
            match results.recv() {
                Ok((i, result)) => {
                    ready.insert(i, result);
                }
                // Every other thread has ended and the result waited for is not there: it was
                // the calling thread's own, so it is there (no other way out of the loop).
                Err(_) => return,
            }
        }
    });
}

/// `work` on `item`, a panic caught to be resumed on the calling thread.
fn run<T, R>(work: &impl Fn(T) -> R, item: T) -> std::thread::Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(item)))
}

/// The items, handed out in order, and how far the results were taken.
struct Pool<I> {
    items: Mutex<Items<I>>,
    /// Threads wait here for an item within reach.
    room: Condvar,
    /// Results that may wait to be taken.
    ahead: usize,
}

struct Items<I> {
    iter: I,
    /// Items handed out so far.
    handed: usize,
    exhausted: bool,
    /// Results taken so far.
    taken: usize,
    stop: bool,
}

impl<T, I: Iterator<Item = (usize, T)>> Pool<I> {
    fn lock(&self) -> MutexGuard<'_, Items<I>> {
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next item, if one is left and within reach of the results taken (waiting for that if
    /// `wait`); `None` when none is left, everything stops, or (not waiting) it is out of reach.
    fn next(&self, wait: bool) -> Option<(usize, T)> {
        let mut items = self.lock();
        loop {
            if items.stop || items.exhausted {
                return None;
            }
            if items.handed < items.taken + self.ahead {
                break;
            }
            if !wait {
                return None;
            }
            items = self
                .room
                .wait(items)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        let next = items.iter.next();
        match next {
            Some(_) => items.handed += 1,
            None => items.exhausted = true,
        }
        next
    }

    /// `taken` results have been taken: items further on are within reach.
    fn took(&self, taken: usize) {
        self.lock().taken = taken;
        self.room.notify_all();
    }

    /// Whether every item was handed out and `taken` results were taken of them: all of them.
    fn all_taken(&self, taken: usize) -> bool {
        let items = self.lock();
        items.exhausted && items.handed == taken
    }

    /// No item is started any more.
    fn stop(&self) {
        self.lock().stop = true;
        self.room.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn results_come_in_the_items_order_whatever_the_threads() {
        for threads in [1, 2, 3, 8] {
            for n in [0, 1, 2, 7, 100] {
                let mut got = Vec::new();
                in_order(
                    0..n,
                    threads,
                    // Later items finish first.
                    |i: u64| {
                        std::thread::sleep(Duration::from_micros((n - i) * 20));
                        i * i
                    },
                    |r| {
                        got.push(r);
                        ControlFlow::Continue(())
                    },
                );
                let want: Vec<u64> = (0..n).map(|i| i * i).collect();
                assert_eq!(got, want, "{threads} threads, {n} items");
            }
        }
    }

    #[test]
    fn only_a_few_results_wait_ahead_of_the_one_taken() {
        let started = AtomicUsize::new(0);
        let mut most_ahead = 0;
        let mut taken = 0;
        in_order(
            0..200,
            3,
            |i: usize| {
                started.fetch_add(1, Ordering::SeqCst);
                // The first item is slow: the others must not all be started meanwhile.
                if i == 0 {
                    std::thread::sleep(Duration::from_millis(50));
                }
                i
            },
            |i| {
                most_ahead = most_ahead.max(started.load(Ordering::SeqCst) - taken);
                taken += 1;
                assert_eq!(i, taken - 1);
                ControlFlow::Continue(())
            },
        );
        assert_eq!(taken, 200);
        assert!(
            most_ahead <= 3 * AHEAD_PER_THREAD + 1,
            "{most_ahead} started ahead"
        );
    }

    #[test]
    fn a_break_starts_no_further_item() {
        let started = AtomicUsize::new(0);
        let mut got = Vec::new();
        in_order(
            0..1000,
            2,
            |i: usize| {
                started.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i| {
                got.push(i);
                if i == 5 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(got, [0, 1, 2, 3, 4, 5]);
        assert!(started.load(Ordering::SeqCst) <= 6 + 2 * AHEAD_PER_THREAD);
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_calling_thread() {
        let caught = std::panic::catch_unwind(|| {
            in_order(
                0..50,
                3,
                |i: usize| {
                    assert!(i != 17, "item 17 is cursed");
                    i
                },
                |_| ControlFlow::Continue(()),
            );
        });
        assert!(caught.is_err());
    }
}

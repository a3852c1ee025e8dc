//! Compile-time tests of weft's macros.
//!
//! The tests live in `tests/`: `macros.rs` runs the trybuild cases in
//! `tests/pass` and `tests/fail`, and `mock_runtime.rs` runs the macros
//! against [`mock`], a stand-in runtime reached through the `crate = "..."`
//! argument, which records the builder calls the expansion made.
#![forbid(unsafe_code)]

/// A stand-in for `weft` with the API surface the macros call, in the same
/// `&mut self` builder style as `weft::runtime::Builder`:
/// `runtime::Builder::{new_current_thread, new_multi_thread}`,
/// `.worker_threads(n)`, `.start_paused(b)`, `.build()` and
/// `Runtime::block_on`. It exists so that options the real runtime does not
/// have yet (the multi-thread flavour) can be checked end to end.
pub mod mock {
    /// The builder and the runtime; see the module docs.
    pub mod runtime {
        use std::cell::RefCell;
        use std::future::Future;
        use std::pin::pin;
        use std::sync::Arc;
        use std::task::{Context, Poll, Wake, Waker};
        use std::thread::{self, Thread};

        thread_local! {
            static CURRENT: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
        }

        /// The builder calls that made the runtime whose `block_on` is running
        /// on this thread, such as `["new_multi_thread", "worker_threads(4)"]`;
        /// `None` outside `block_on`.
        pub fn current_calls() -> Option<Vec<String>> {
            CURRENT.with(|c| c.borrow().clone())
        }

        /// Records each call, for [`current_calls`].
        #[derive(Debug)]
        pub struct Builder {
            calls: Vec<String>,
        }

        impl Builder {
            fn with(first: &str) -> Builder {
                Builder {
                    calls: vec![first.to_string()],
                }
            }

            /// Like `weft::runtime::Builder::new_current_thread`.
            pub fn new_current_thread() -> Builder {
                Builder::with("new_current_thread")
            }

            /// Like the multi-thread builder of issue 7.
            pub fn new_multi_thread() -> Builder {
                Builder::with("new_multi_thread")
            }

            /// Records `worker_threads(n)`.
            pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
                self.calls.push(format!("worker_threads({n})"));
                self
            }

            /// Records `start_paused(b)`.
            pub fn start_paused(&mut self, paused: bool) -> &mut Builder {
                self.calls.push(format!("start_paused({paused})"));
                self
            }

            /// Builds the runtime.
            ///
            /// # Errors
            ///
            /// Never; the signature is the real builder's.
            pub fn build(&mut self) -> std::io::Result<Runtime> {
                Ok(Runtime {
                    calls: self.calls.clone(),
                })
            }
        }

        /// Runs one future to completion on the calling thread.
        #[derive(Debug)]
        pub struct Runtime {
            calls: Vec<String>,
        }

        struct Unpark(Thread);

        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }

        /// Restores the previous `CURRENT` on drop, also when the body panics.
        struct Restore(Option<Vec<String>>);

        impl Drop for Restore {
            fn drop(&mut self) {
                let prev = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = prev);
            }
        }

        impl Runtime {
            /// Polls `fut` on this thread until it completes, parking in between.
            pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
                let prev = CURRENT.with(|c| c.borrow_mut().replace(self.calls.clone()));
                let _restore = Restore(prev);
                let waker = Waker::from(Arc::new(Unpark(thread::current())));
                let mut cx = Context::from_waker(&waker);
                let mut fut = pin!(fut);
                loop {
                    if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                        return out;
                    }
                    thread::park();
                }
            }
        }
    }
}

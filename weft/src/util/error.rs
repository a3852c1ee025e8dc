//! User-visible messages about runtime state, each defined once.

pub(crate) const NO_RUNTIME_SPAWN: &str =
    "`weft::spawn` called outside a weft runtime: call it from inside `Runtime::block_on`, \
     `weft::block_on`, a task, or a function run by `#[weft::main]`";

pub(crate) const NO_RUNTIME_SPAWN_LOCAL: &str =
    "`weft::spawn_local` called outside a thread that is driving a weft runtime: call it from \
     inside `Runtime::block_on` or a task of that runtime, or inside a `weft::task::LocalSet`";

pub(crate) const NESTED_BLOCK_ON: &str =
    "cannot start `block_on` from inside a weft runtime: this would block the thread that runs \
     the runtime's tasks; await the future instead, or move the blocking work to \
     `weft::spawn_blocking`";

pub(crate) const NO_RUNTIME_SPAWN_BLOCKING: &str =
    "`weft::spawn_blocking` called outside a weft runtime: call it from inside \
     `Runtime::block_on`, a task, or a blocking closure of a runtime";

pub(crate) const LOCAL_TASKS_PIN_THE_RUNTIME: &str =
    "this runtime holds `!Send` tasks spawned with `weft::spawn_local`, so only the thread \
     that spawned them may run `block_on` on it";

pub(crate) const LOCAL_TASKS_LEAKED: &str =
    "a runtime holding `!Send` tasks (from `spawn_local`) was dropped on another thread than \
     theirs; their futures cannot be dropped here and were leaked";

pub(crate) const NO_RUNTIME_IO: &str =
    "weft sockets must be created inside a weft runtime (in `block_on`, a task, or \
     `#[weft::main]`): there is no reactor to register the socket with";

pub(crate) const NO_RUNTIME_HANDLE: &str =
    "`weft::runtime::Handle::current` called outside a weft runtime: call it from inside \
     `Runtime::block_on`, a task, or a blocking closure of a runtime";

pub(crate) const SPAWN_LOCAL_MULTI_THREAD: &str =
    "`weft::spawn_local` called on the multi-thread runtime outside a `weft::task::LocalSet` \
     (the runtime's tasks move between worker threads): run the `!Send` futures inside a \
     `LocalSet` (`LocalSet::run_until` or `LocalSet::block_on`), use `weft::spawn` with a `Send` \
     future, or use a current-thread runtime";

//! Lending a value to code that runs inside a thread-local's access.

use std::thread::LocalKey;

/// Runs `f` with the thread-local `key` and `value`; `f` returns `Err(value)` to decline. The
/// value also comes back as `Err` when the thread's locals are already gone (a destructor
/// running at thread exit), so a caller can always take another path with it (a task to
/// schedule, a future to spawn elsewhere).
#[inline]
pub(crate) fn lend<K: 'static, T, R>(
    key: &'static LocalKey<K>,
    value: T,
    f: impl FnOnce(&K, T) -> Result<R, T>,
) -> Result<R, T> {
    let mut slot = Some(value);
    match key.try_with(|k| slot.take().map(|value| f(k, value))) {
        Ok(Some(res)) => res,
        // `try_with` failed before running the closure, so the value is still in the slot.
        _ => match slot.take() {
            Some(value) => Err(value),
            None => unreachable!("the value was taken without a result"),
        },
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::lend;
    use std::cell::Cell;

    thread_local! {
        static FLAG: Cell<bool> = const { Cell::new(false) };
    }

    #[test]
    fn the_value_comes_back_when_declined_and_is_used_when_not() {
        FLAG.with(|f| f.set(true));
        assert_eq!(
            lend(&FLAG, 5, |f, v| if f.get() { Ok(v * 2) } else { Err(v) }),
            Ok(10)
        );
        FLAG.with(|f| f.set(false));
        assert_eq!(
            lend(&FLAG, 5, |f, v| if f.get() { Ok(v * 2) } else { Err(v) }),
            Err(5)
        );
    }
}

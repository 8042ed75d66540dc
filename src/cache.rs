//! A small bounded memo table shared by all threads. Used for values that repeat
//! across calls and cost a keccak to compute (EIP-55 checksums, EIP-712 type hashes).
//! When full it is cleared: memory stays bounded and hot entries come back at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct Memo<K, V> {
    capacity: usize,
    map: Mutex<Option<HashMap<K, V>>>,
}

impl<K: Eq + Hash, V: Copy> Memo<K, V> {
    pub const fn new(capacity: usize) -> Self {
        Memo {
            capacity,
            map: Mutex::new(None),
        }
    }

    pub fn get_or_insert_with<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> V
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        match self.try_get_or_insert_with(key, || Ok::<V, std::convert::Infallible>(make())) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`Memo::get_or_insert_with`]; an error is returned and not stored.
    pub fn try_get_or_insert_with<Q, E>(
        &self,
        key: &Q,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(v) = self.lock().as_ref().and_then(|m| m.get(key)) {
            return Ok(*v);
        }
        let value = make()?;
        let mut guard = self.lock();
        let map = guard.get_or_insert_with(HashMap::new);
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key.to_owned(), value);
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<HashMap<K, V>>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_memoizing() {
        let memo: Memo<u32, u32> = Memo::new(2);
        let mut calls = 0;
        for k in [1, 1, 2, 1, 3, 1] {
            memo.get_or_insert_with(&k, || {
                calls += 1;
                k * 10
            });
        }
        // 1, 2 computed; 1 hit; 3 clears the table; 1 recomputed.
        assert_eq!(calls, 4);
        assert_eq!(memo.get_or_insert_with(&3, || 0), 30);
    }

    #[test]
    fn errors_are_not_stored() {
        let memo: Memo<u32, u32> = Memo::new(8);
        assert_eq!(memo.try_get_or_insert_with(&1, || Err("bad")), Err("bad"));
        assert_eq!(memo.try_get_or_insert_with(&1, || Ok::<_, ()>(7)), Ok(7));
    }
}

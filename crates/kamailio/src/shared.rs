//! A small fixed-capacity map in memory shared by every Kamailio process: an anonymous shared
//! mapping made before fork (so every child sees the same pages), guarded by a robust,
//! process-shared mutex (a process that dies holding it does not wedge the others).
//!
//! Keys and values are byte strings with fixed maximum sizes; the table never grows, so its
//! memory is bounded and known at start-up: `capacity * (5 + key_max + value_max)` bytes plus a
//! header and one bit per slot (which slots are in use, so [`SharedMap::entries`] reads only
//! those), of which only touched pages become resident.

use std::ptr::NonNull;

use libc::{c_int, pthread_mutex_t};

/// Why an insert was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedMapError {
    Full,
    KeyTooLong,
    ValueTooLong,
}

impl std::fmt::Display for SharedMapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Full => "table full",
            Self::KeyTooLong => "key too long",
            Self::ValueTooLong => "value too long",
        })
    }
}

#[repr(C)]
struct Header {
    mutex: pthread_mutex_t,
    used: usize,
}

const EMPTY: u8 = 0;
const USED: u8 = 1;
const REMOVED: u8 = 2;
/// state (1) + key length (2) + value length (2)
const SLOT_HEAD: usize = 5;

/// What [`SharedMap::update`] does with the entry it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Leave it as it is (or absent).
    Keep,
    /// Insert or replace it with this value.
    Set(Vec<u8>),
    /// Remove it.
    Remove,
}

/// The map. Copies of the handle made by fork all refer to the same memory.
pub struct SharedMap {
    header: NonNull<Header>,
    /// One bit per slot, set while the slot is in use.
    in_use: NonNull<u64>,
    slots: NonNull<u8>,
    capacity: usize,
    key_max: usize,
    value_max: usize,
}

// SAFETY: all access to the shared memory happens under the process-shared mutex.
unsafe impl Send for SharedMap {}
unsafe impl Sync for SharedMap {}

/// Holds the mutex; unlocks on drop.
struct Locked<'a>(&'a SharedMap);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // SAFETY: we hold the lock.
        unsafe { libc::pthread_mutex_unlock(&mut (*self.0.header.as_ptr()).mutex) };
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl SharedMap {
    /// Maps a new table. Call before the host forks its workers.
    pub fn create(capacity: usize, key_max: usize, value_max: usize) -> std::io::Result<Self> {
        let capacity = capacity.max(1);
        if key_max > u16::MAX as usize || value_max > u16::MAX as usize {
            return Err(std::io::Error::other(
                "key_max and value_max must fit in 16 bits",
            ));
        }
        let slot = SLOT_HEAD + key_max + value_max;
        let words = capacity.div_ceil(64);
        let bitmap_at = std::mem::size_of::<Header>().next_multiple_of(8);
        let slots_at = bitmap_at + words * 8;
        let size = slots_at + capacity * slot;
        // SAFETY: a fresh anonymous shared mapping; checked for failure.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let header = base.cast::<Header>();
        // SAFETY: the mapping is zero-filled, writable and large enough; the mutex is
        // initialised once here, before any other process can see it.
        unsafe {
            let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
            libc::pthread_mutexattr_init(&mut attr);
            libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
            libc::pthread_mutexattr_setrobust(&mut attr, libc::PTHREAD_MUTEX_ROBUST);
            let rc = libc::pthread_mutex_init(&mut (*header).mutex, &attr);
            libc::pthread_mutexattr_destroy(&mut attr);
            if rc != 0 {
                libc::munmap(base, size);
                return Err(std::io::Error::from_raw_os_error(rc));
            }
            Ok(Self {
                header: NonNull::new_unchecked(header),
                in_use: NonNull::new_unchecked(base.cast::<u8>().add(bitmap_at).cast::<u64>()),
                slots: NonNull::new_unchecked(base.cast::<u8>().add(slots_at)),
                capacity,
                key_max,
                value_max,
            })
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> Locked<'_> {
        // SAFETY: the mutex was initialised in `create` and lives as long as the mapping.
        unsafe {
            let mutex = &mut (*self.header.as_ptr()).mutex;
            let rc: c_int = libc::pthread_mutex_lock(mutex);
            if rc == libc::EOWNERDEAD {
                // A process died holding the lock. Slots are published by their state byte,
                // written last, so the table is usable; recount what is in use.
                libc::pthread_mutex_consistent(mutex);
                let used = (0..self.capacity)
                    .filter(|&i| *self.slot(i) == USED)
                    .inspect(|&i| self.mark(i, true))
                    .count();
                (*self.header.as_ptr()).used = used;
                ::log::warn!("a process died holding the shared table lock; recovered");
            }
        }
        Locked(self)
    }

    fn slot(&self, i: usize) -> *mut u8 {
        // SAFETY: i < capacity, inside the mapping.
        unsafe {
            self.slots
                .as_ptr()
                .add(i * (SLOT_HEAD + self.key_max + self.value_max))
        }
    }

    /// Records whether slot `i` is in use (caller holds the lock).
    fn mark(&self, i: usize, used: bool) {
        // SAFETY: i < capacity, so word i / 64 is inside the bitmap.
        unsafe {
            let word = self.in_use.as_ptr().add(i / 64);
            let bit = 1u64 << (i % 64);
            *word = if used { *word | bit } else { *word & !bit };
        }
    }

    /// Slot state, key and value of slot `i` (caller holds the lock).
    fn read(&self, i: usize) -> (u8, &[u8], &[u8]) {
        let p = self.slot(i);
        // SAFETY: lengths are written by `write_slot`, bounded by key_max/value_max.
        unsafe {
            let klen = u16::from_ne_bytes([*p.add(1), *p.add(2)]) as usize;
            let vlen = u16::from_ne_bytes([*p.add(3), *p.add(4)]) as usize;
            (
                *p,
                std::slice::from_raw_parts(p.add(SLOT_HEAD), klen.min(self.key_max)),
                std::slice::from_raw_parts(
                    p.add(SLOT_HEAD + self.key_max),
                    vlen.min(self.value_max),
                ),
            )
        }
    }

    /// Finds `key`'s slot, or the first free slot of its probe chain.
    fn probe(&self, key: &[u8]) -> (Option<usize>, Option<usize>) {
        let start = (fnv1a(key) % self.capacity as u64) as usize;
        let mut free = None;
        for n in 0..self.capacity {
            let i = (start + n) % self.capacity;
            match self.read(i) {
                (USED, k, _) if k == key => return (Some(i), free),
                (EMPTY, _, _) => return (None, free.or(Some(i))),
                (REMOVED, _, _) => free = free.or(Some(i)),
                _ => {}
            }
        }
        (None, free)
    }

    fn write_slot(&self, i: usize, key: &[u8], value: &[u8]) {
        let p = self.slot(i);
        // SAFETY: lengths checked by the caller; the state byte is written last so a process
        // dying mid-write leaves the slot unpublished.
        unsafe {
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(SLOT_HEAD), key.len());
            std::ptr::copy_nonoverlapping(
                value.as_ptr(),
                p.add(SLOT_HEAD + self.key_max),
                value.len(),
            );
            let (k, v) = (
                (key.len() as u16).to_ne_bytes(),
                (value.len() as u16).to_ne_bytes(),
            );
            std::ptr::copy_nonoverlapping([k[0], k[1], v[0], v[1]].as_ptr(), p.add(1), 4);
            std::ptr::write_volatile(p, USED);
        }
    }

    /// Inserts or replaces `key`'s value.
    pub fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), SharedMapError> {
        self.check(key, value)?;
        let _lock = self.lock();
        self.set_locked(key, value)
    }

    fn check(&self, key: &[u8], value: &[u8]) -> Result<(), SharedMapError> {
        if key.len() > self.key_max {
            return Err(SharedMapError::KeyTooLong);
        }
        if value.len() > self.value_max {
            return Err(SharedMapError::ValueTooLong);
        }
        Ok(())
    }

    /// Inserts or replaces (caller holds the lock; sizes checked).
    fn set_locked(&self, key: &[u8], value: &[u8]) -> Result<(), SharedMapError> {
        match self.probe(key) {
            (Some(i), _) => self.write_slot(i, key, value),
            (None, Some(i)) => {
                self.write_slot(i, key, value);
                self.mark(i, true);
                // SAFETY: under the lock.
                unsafe { (*self.header.as_ptr()).used += 1 };
            }
            (None, None) => return Err(SharedMapError::Full),
        }
        Ok(())
    }

    /// Removes slot `i` (caller holds the lock; the slot is in use).
    fn remove_locked(&self, i: usize) {
        // SAFETY: under the lock; slot i is inside the mapping.
        unsafe {
            std::ptr::write_volatile(self.slot(i), REMOVED);
            (*self.header.as_ptr()).used -= 1;
        }
        self.mark(i, false);
    }

    /// Reads and changes `key`'s entry in one step, under the lock, so that no other process
    /// changes it in between: `f` sees the current value (or `None`) and says what to do.
    /// Keep `f` short: every process waits for it.
    pub fn update(
        &self,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> Update,
    ) -> Result<(), SharedMapError> {
        if key.len() > self.key_max {
            return Err(SharedMapError::KeyTooLong);
        }
        let _lock = self.lock();
        let found = self.probe(key).0;
        match (f(found.map(|i| self.read(i).2)), found) {
            (Update::Keep, _) | (Update::Remove, None) => Ok(()),
            (Update::Remove, Some(i)) => {
                self.remove_locked(i);
                Ok(())
            }
            (Update::Set(value), _) => {
                self.check(key, &value)?;
                self.set_locked(key, &value)
            }
        }
    }

    /// A copy of every entry (key, value), read slot by slot through the in-use bitmap, so
    /// that unused slots are never touched.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let _lock = self.lock();
        let mut out = Vec::new();
        for w in 0..self.capacity.div_ceil(64) {
            // SAFETY: w < words, inside the bitmap; under the lock.
            let mut word = unsafe { *self.in_use.as_ptr().add(w) };
            while word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                if let (USED, k, v) = self.read(i) {
                    out.push((k.to_vec(), v.to_vec()));
                }
            }
        }
        out
    }

    /// A copy of `key`'s value.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let _lock = self.lock();
        self.probe(key).0.map(|i| self.read(i).2.to_vec())
    }

    /// Removes `key`; true if it was there.
    pub fn remove(&self, key: &[u8]) -> bool {
        let _lock = self.lock();
        match self.probe(key).0 {
            Some(i) => {
                self.remove_locked(i);
                true
            }
            None => false,
        }
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        let _lock = self.lock();
        // SAFETY: under the lock.
        unsafe { (*self.header.as_ptr()).used }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_replace_remove() {
        let m = SharedMap::create(8, 16, 16).unwrap();
        assert_eq!(m.get(b"a"), None);
        m.insert(b"a", b"1").unwrap();
        m.insert(b"b", b"2").unwrap();
        m.insert(b"a", b"3").unwrap();
        assert_eq!(m.get(b"a").as_deref(), Some(&b"3"[..]));
        assert_eq!(m.len(), 2);
        assert!(m.remove(b"a"));
        assert!(!m.remove(b"a"));
        assert_eq!(m.get(b"a"), None);
        assert_eq!(m.get(b"b").as_deref(), Some(&b"2"[..]));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn bounded_sizes_and_capacity() {
        let m = SharedMap::create(2, 4, 4).unwrap();
        assert_eq!(m.insert(b"toolong", b"x"), Err(SharedMapError::KeyTooLong));
        assert_eq!(
            m.insert(b"k", b"toolong"),
            Err(SharedMapError::ValueTooLong)
        );
        m.insert(b"k1", b"v").unwrap();
        m.insert(b"k2", b"v").unwrap();
        assert_eq!(m.insert(b"k3", b"v"), Err(SharedMapError::Full));
        // Removing frees a slot for reuse, including across tombstones.
        assert!(m.remove(b"k1"));
        m.insert(b"k3", b"w").unwrap();
        assert_eq!(m.get(b"k3").as_deref(), Some(&b"w"[..]));
        assert_eq!(m.get(b"k2").as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn update_reads_and_changes_in_one_step() {
        let m = SharedMap::create(4, 8, 8).unwrap();
        m.update(b"k", |v| {
            assert_eq!(v, None);
            Update::Set(b"1".to_vec())
        })
        .unwrap();
        m.update(b"k", |v| {
            let mut next = v.unwrap().to_vec();
            next.push(b'2');
            Update::Set(next)
        })
        .unwrap();
        assert_eq!(m.get(b"k").as_deref(), Some(&b"12"[..]));
        m.update(b"k", |_| Update::Keep).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(
            m.update(b"k", |_| Update::Set(vec![0; 9])),
            Err(SharedMapError::ValueTooLong)
        );
        m.update(b"k", |_| Update::Remove).unwrap();
        m.update(b"absent", |_| Update::Remove).unwrap();
        assert!(m.is_empty());
    }

    #[test]
    fn entries_lists_exactly_what_is_in_use() {
        let m = SharedMap::create(130, 8, 8).unwrap();
        for i in 0..100u8 {
            m.insert(&[b'k', i], &[i]).unwrap();
        }
        for i in (0..100u8).step_by(3) {
            assert!(m.remove(&[b'k', i]));
        }
        let mut entries = m.entries();
        entries.sort();
        let expected: Vec<_> = (0..100u8)
            .filter(|i| i % 3 != 0)
            .map(|i| (vec![b'k', i], vec![i]))
            .collect();
        assert_eq!(entries, expected);
        assert_eq!(entries.len(), m.len());
    }

    #[test]
    fn shared_across_fork_and_survives_a_dead_lock_holder() {
        let m = SharedMap::create(16, 16, 16).unwrap();
        m.insert(b"before", b"fork").unwrap();
        // SAFETY: the child only touches the map and exits without unwinding.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            m.insert(b"child", b"wrote").unwrap();
            // Die while holding the lock.
            std::mem::forget(m.lock());
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(m.get(b"child").as_deref(), Some(&b"wrote"[..]));
        assert_eq!(m.get(b"before").as_deref(), Some(&b"fork"[..]));
        assert_eq!(m.len(), 2);
    }
}

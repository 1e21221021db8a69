//! The ids of recent tweets, to drop one that arrives again (reconnects overlap, archives
//! repeat). Bounded: the oldest ids are forgotten first.

use std::collections::{HashSet, VecDeque};

pub struct RecentIds {
    set: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl RecentIds {
    pub fn new(capacity: usize) -> RecentIds {
        RecentIds {
            set: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// True the first time `id` is seen (within the last `capacity` ids).
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        self.set.insert(id.to_string());
        self.order.push_back(id.to_string());
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_caught_within_the_capacity() {
        let mut r = RecentIds::new(2);
        assert!(r.first_time("1") && r.first_time("2"));
        assert!(!r.first_time("1"));
        assert!(r.first_time("3")); // forgets "1"
        assert!(r.first_time("1"));
    }
}

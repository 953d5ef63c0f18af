//! The challenges a registration answers, with the first one held in place.
//!
//! A registration almost always answers one challenge (its registrar's); a proxy's as well
//! makes two. Held in a `Vec`, that one challenge was a heap block of its own: an allocation
//! at the first 401 of each account, and one more cache line to fetch whenever the account
//! writes a REGISTER. Here the first sits inside the registration, and only a second or
//! later one goes to the heap.

use super::registration::CachedChallenge;

/// Challenges in the order they were stored (see the [module docs](self)). Invariant:
/// `rest` is empty whenever `first` is `None`.
#[derive(Debug, Default)]
pub(crate) struct Challenges {
    first: Option<CachedChallenge>,
    rest: Vec<CachedChallenge>,
}

impl Challenges {
    /// No challenge stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// How many are stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Forgets them all.
    pub(crate) fn clear(&mut self) {
        self.first = None;
        self.rest.clear();
    }

    /// Stores `challenge` after the others.
    pub(crate) fn push(&mut self, challenge: CachedChallenge) {
        match self.first {
            None => self.first = Some(challenge),
            Some(_) => self.rest.push(challenge),
        }
    }

    /// Keeps only the challenges `keep` says yes to, in their order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&CachedChallenge) -> bool) {
        if self.first.as_ref().is_some_and(|first| !keep(first)) {
            self.first = None;
        }
        self.rest.retain(&mut keep);
        if self.first.is_none() && !self.rest.is_empty() {
            self.first = Some(self.rest.remove(0));
        }
    }

    /// The challenges in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &CachedChallenge> {
        self.first.iter().chain(&self.rest)
    }

    /// Heap bytes held beyond the registration itself (the second and later challenges).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.rest.capacity() * std::mem::size_of::<CachedChallenge>()
    }
}

impl<'a> IntoIterator for &'a mut Challenges {
    type Item = &'a mut CachedChallenge;
    type IntoIter = std::iter::Chain<
        std::option::IterMut<'a, CachedChallenge>,
        std::slice::IterMut<'a, CachedChallenge>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.first.iter_mut().chain(self.rest.iter_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::digest::DigestChallenge;

    fn cached(nonce: &str, proxy: bool) -> CachedChallenge {
        let mut challenge = DigestChallenge::new("ims.test", nonce);
        challenge.proxy = proxy;
        CachedChallenge {
            challenge,
            nc: 0,
            password: None,
            auts: None,
            empty_response: false,
            credentials: None,
        }
    }

    fn nonces(challenges: &Challenges) -> Vec<&str> {
        challenges.iter().map(|c| c.challenge.nonce()).collect()
    }

    #[test]
    fn behaves_as_a_vec_of_the_same_challenges() {
        let mut challenges = Challenges::default();
        assert!(challenges.is_empty());
        challenges.push(cached("a", false));
        assert!(!challenges.is_empty());
        assert_eq!(challenges.heap_bytes(), 0, "one challenge stays in place");
        challenges.push(cached("b", true));
        challenges.push(cached("c", false));
        assert_eq!(nonces(&challenges), ["a", "b", "c"]);
        assert_eq!(challenges.len(), 3);

        for challenge in &mut challenges {
            challenge.nc += 1;
        }
        assert!(challenges.iter().all(|c| c.nc == 1));

        // Dropping the first moves the next one up, order kept.
        challenges.retain(|c| c.challenge.proxy);
        assert_eq!(nonces(&challenges), ["b"]);
        challenges.push(cached("d", false));
        challenges.retain(|c| c.challenge.nonce() != "b");
        assert_eq!(nonces(&challenges), ["d"]);
        assert!(!challenges.is_empty());

        challenges.retain(|_| false);
        assert!(challenges.is_empty());
        assert_eq!(challenges.len(), 0);
        challenges.push(cached("e", false));
        challenges.push(cached("f", false));
        challenges.clear();
        assert!(challenges.is_empty());
        assert_eq!(nonces(&challenges), Vec::<&str>::new());
    }
}

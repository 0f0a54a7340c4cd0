//! Bootstrap committee for query-by-committee (Seung, Opper & Sompolinsky 1992; bagging
//! as in Abe & Mamitsuka 1998, "Query learning strategies using boosting and bagging").
//! Each of k members is fitted on n rows drawn with replacement from the labelled set,
//! stratified by class (see [`stratified_bootstrap`]); the committee exposes every member's probabilities (for vote entropy, KL disagreement)
//! and their mean (the consensus, used as the model's prediction).

use ndarray::{Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::any::{ClassMapped, ModelSpec};
use crate::{Error, Result};

/// Row indices of each label present in `y`, by ascending label (absent labels skipped).
fn rows_by_class(y: &[u32]) -> Vec<Vec<usize>> {
    let k = y.iter().max().map_or(0, |&m| m as usize + 1);
    let mut groups = vec![Vec::new(); k];
    for (i, &l) in y.iter().enumerate() {
        groups[l as usize].push(i);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// A bootstrap sample stratified by class: each class's n_c rows are resampled with
/// replacement within that class (the stratified bootstrap, Efron & Tibshirani, *An
/// Introduction to the Bootstrap*, 1993, ch. 8). A plain bootstrap of the whole set misses
/// a class with probability (1 − n_c/n)^n, about e^(−n_c): a class labelled once is
/// absent from a third of the members, which then cannot predict it at all and disagree
/// with the rest for that reason alone, early in a session when the committee's
/// disagreement matters most. Stratified, every member sees every labelled class in its
/// labelled proportion. Rows come back sorted (the fit does not depend on their order).
fn stratified_bootstrap(by_class: &[Vec<usize>], rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut rows: Vec<usize> = by_class.iter().flat_map(|g| (0..g.len()).map(|_| g[rng.random_range(0..g.len())]).collect::<Vec<_>>()).collect();
    rows.sort_unstable();
    rows
}

/// A committee of `k` bootstrap-resampled members of one model family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Committee {
    members: Vec<ClassMapped>,
    seed: u64,
    /// Fits so far; each fit draws fresh bootstraps from (seed, fits, member).
    fits: u64,
}

impl Committee {
    /// `k ≥ 2` unfitted members of `spec` over `n_classes` classes.
    pub fn new(spec: ModelSpec, k: usize, n_classes: usize, seed: u64) -> Result<Self> {
        if k < 2 {
            return Err(Error::param("committee", format!("needs at least 2 members, got {k}")));
        }
        let members = (0..k as u64)
            .map(|m| ClassMapped::new(spec.clone(), n_classes, seed.wrapping_add(m.wrapping_mul(0xA24B_AED4_963E_E407))))
            .collect::<Result<_>>()?;
        Ok(Committee { members, seed, fits: 0 })
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: a committee has at least two members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Fit every member on its own bootstrap sample of (x, y).
    pub fn fit(&mut self, x: ArrayView2<f32>, y: &[u32]) -> Result<()> {
        let n = x.nrows();
        if n == 0 {
            return Err(Error::Empty("labelled set".into()));
        }
        if y.len() != n {
            return Err(Error::Shape { what: "labels vs feature rows".into(), expected: n, got: y.len() });
        }
        self.fits += 1;
        let by_class = rows_by_class(y);
        for (m, member) in self.members.iter_mut().enumerate() {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ self.fits.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (m as u64) << 48);
            let rows = stratified_bootstrap(&by_class, &mut rng);
            let xb = x.select(Axis(0), &rows);
            let yb: Vec<u32> = rows.iter().map(|&i| y[i]).collect();
            member.fit(xb.view(), &yb)?;
        }
        Ok(())
    }

    /// Each member's class probabilities (each n × n_classes).
    pub fn member_proba(&self, x: ArrayView2<f32>) -> Result<Vec<Array2<f32>>> {
        self.members.iter().map(|m| m.predict_proba(x)).collect()
    }

    /// The consensus: the mean of the members' probabilities.
    pub fn mean_proba(members: &[Array2<f32>]) -> Array2<f32> {
        let mut mean = members[0].clone();
        for p in &members[1..] {
            mean += p;
        }
        mean / members.len() as f32
    }

    /// Check every member against the session's shape (see [`ClassMapped::check_shape`]).
    pub fn check_shape(&self, d: usize, n_classes: usize) -> Result<()> {
        if self.members.len() < 2 {
            return Err(Error::param("committee", format!("needs at least 2 members, got {}", self.members.len())));
        }
        self.members.iter().try_for_each(|m| m.check_shape(d, n_classes))
    }

    /// The members.
    pub fn members(&self) -> &[ClassMapped] {
        &self.members
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mlp::MlpParams;
    use ndarray::array;

    #[test]
    fn members_differ_by_bootstrap_and_mean_is_their_average() {
        let x = array![[0.0f32, 0.1], [0.2, 0.0], [0.4, 0.5], [1.0, 0.9], [0.8, 1.0], [0.6, 0.4]];
        let y = [0u32, 0, 0, 1, 1, 1];
        let mut c = Committee::new(ModelSpec::default(), 4, 2, 9).unwrap();
        c.fit(x.view(), &y).unwrap();
        let ps = c.member_proba(x.view()).unwrap();
        assert_eq!(ps.len(), 4);
        assert!(ps.windows(2).any(|w| w[0] != w[1]), "bootstraps should give different members");
        let mean = Committee::mean_proba(&ps);
        let manual = (&ps[0] + &ps[1] + &ps[2] + &ps[3]) / 4.0;
        assert!((mean - manual).iter().all(|d| d.abs() < 1e-6));
        let mut again = Committee::new(ModelSpec::default(), 4, 2, 9).unwrap();
        again.fit(x.view(), &y).unwrap();
        assert_eq!(c, again, "seeded");
        let mut mlps = Committee::new(ModelSpec::Mlp(MlpParams::default().hidden(&[4])), 2, 2, 1).unwrap();
        mlps.fit(x.view(), &y).unwrap();
        assert_eq!(mlps.member_proba(x.view()).unwrap()[0].dim(), (6, 2));
        assert!(Committee::new(ModelSpec::default(), 1, 2, 0).is_err());
    }

    #[test]
    fn every_member_sees_every_labelled_class() {
        // Class 2 has a single row out of ten: an unstratified bootstrap leaves it out of
        // a member with probability 0.9^10 ≈ 0.35, so 8 members × 5 fits would all but
        // surely lose it somewhere.
        let x = Array2::from_shape_fn((10, 2), |(i, j)| (i * 3 + j) as f32 * 0.1);
        let y = [0u32, 1, 0, 1, 0, 1, 0, 1, 0, 2];
        let mut c = Committee::new(ModelSpec::default(), 8, 4, 3).unwrap();
        for _ in 0..5 {
            c.fit(x.view(), &y).unwrap();
            for m in c.members() {
                assert_eq!(m.classes(), [0, 1, 2]);
            }
        }
        // Class proportions are kept exactly; rows are drawn within their class.
        let groups = rows_by_class(&y);
        assert_eq!(groups, [vec![0, 2, 4, 6, 8], vec![1, 3, 5, 7], vec![9]]);
        let rows = stratified_bootstrap(&groups, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(rows.len(), 10);
        assert_eq!(rows.iter().filter(|&&i| y[i] == 0).count(), 5);
        assert_eq!(rows.iter().filter(|&&i| y[i] == 1).count(), 4);
        assert_eq!(rows.iter().filter(|&&i| i == 9).count(), 1);
    }
}

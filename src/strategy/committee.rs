//! Query-by-committee (Seung, Opper & Sompolinsky 1992): several models trained on the same
//! labels (e.g. bootstrap resamples) each give class probabilities; candidates on which the
//! members disagree most are asked first. Every measure takes the members' probability
//! matrices, each m × k with rows in the same candidate order, and returns one score per
//! candidate (higher = more disagreement). Logarithms are natural (nats), as in modAL.

use ndarray::{Array2, ArrayView1};

use super::uncertainty::{check_probs, entropy_of};
use crate::{Error, Result};

/// Check the committee: at least one member, all the same m × k shape, valid probabilities.
pub fn check_committee(members: &[Array2<f32>], m: usize, k: usize) -> Result<()> {
    if members.is_empty() {
        return Err(Error::Empty("committee".into()));
    }
    for (i, p) in members.iter().enumerate() {
        if p.nrows() != m {
            return Err(Error::Shape { what: format!("committee member {i} rows vs candidates"), expected: m, got: p.nrows() });
        }
        if p.ncols() != k {
            return Err(Error::Shape { what: format!("committee member {i} columns vs classes"), expected: k, got: p.ncols() });
        }
        check_probs(p.view(), &format!("committee member {i} probabilities"))?;
    }
    Ok(())
}

/// Index of the largest entry, the first one on ties (as numpy's `argmax`).
fn argmax(row: ArrayView1<f32>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// The consensus distribution: the members' mean probabilities (m × k).
/// Members must share one shape ([`check_committee`]); with none the result is 0 × 0.
pub fn consensus(members: &[Array2<f32>]) -> Array2<f32> {
    let Some(first) = members.first() else { return Array2::zeros((0, 0)) };
    let mut sum = first.clone();
    for p in &members[1..] {
        if p.dim() == sum.dim() {
            sum += p;
        }
    }
    sum / members.len() as f32
}

/// Vote entropy (Dagan & Engelson 1995, "Committee-based sampling for training
/// probabilistic classifiers"): with V_c the number of the C members whose most probable
/// class is c, score = −Σ_c (V_c / C) ln(V_c / C). modAL's `vote_entropy`.
pub fn vote_entropy(members: &[Array2<f32>]) -> Vec<f32> {
    let Some(first) = members.first() else { return Vec::new() };
    let (m, k) = first.dim();
    if k == 0 || members.iter().any(|p| p.dim() != (m, k)) {
        return vec![0.0; m];
    }
    let c = members.len() as f32;
    (0..m)
        .map(|i| {
            let mut votes = vec![0u32; k];
            for p in members {
                votes[argmax(p.row(i))] += 1;
            }
            votes.iter().filter(|&&v| v > 0).map(|&v| v as f32 / c).map(|q| -q * q.ln()).sum()
        })
        .collect()
}

/// Consensus entropy, also "soft vote entropy" (Settles 2009 §3.2): the entropy of the
/// consensus P̄ = (1/C) Σ_m P_m, score = −Σ_c P̄_c ln P̄_c. modAL's `consensus_entropy`.
pub fn consensus_entropy(members: &[Array2<f32>]) -> Vec<f32> {
    consensus(members).rows().into_iter().map(entropy_of).collect()
}

/// KL(P_m ‖ P̄) of each member from the consensus for every candidate (m × C).
/// Terms with P_m,c = 0 contribute 0; P̄_c ≥ P_m,c / C > 0 wherever P_m,c > 0.
fn member_kl(members: &[Array2<f32>]) -> Array2<f32> {
    let avg = consensus(members);
    let m = avg.nrows();
    if members.iter().any(|p| p.dim() != avg.dim()) {
        return Array2::zeros((m, members.len()));
    }
    Array2::from_shape_fn((m, members.len()), |(i, j)| {
        members[j]
            .row(i)
            .iter()
            .zip(avg.row(i))
            .filter(|(&p, _)| p > 0.0)
            .map(|(&p, &q)| p * (p / q).ln())
            .sum::<f32>()
            .max(0.0)
    })
}

/// Mean KL divergence from the consensus (McCallum & Nigam 1998, "Employing EM and
/// pool-based active learning for text classification"):
/// score = (1/C) Σ_m KL(P_m ‖ P̄), KL(P ‖ Q) = Σ_c P_c ln(P_c / Q_c).
pub fn mean_kl(members: &[Array2<f32>]) -> Vec<f32> {
    member_kl(members).rows().into_iter().map(|r| r.mean().unwrap_or(0.0)).collect()
}

/// Maximum KL divergence from the consensus: score = max_m KL(P_m ‖ P̄), the member that
/// disagrees most. modAL's `KL_max_disagreement`.
pub fn max_kl(members: &[Array2<f32>]) -> Vec<f32> {
    member_kl(members).rows().into_iter().map(|r| r.fold(0.0f32, |a, &b| a.max(b))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    /// Three members, four candidates. Reference values from modAL 0.4.2's own functions
    /// (`vote_entropy`, `consensus_entropy`, `KL_max_disagreement`) on these matrices and
    /// scipy for the mean KL: bench/reference/strategy_reference.py, fixture
    /// tests/fixtures/strategy_reference.json (checked there too).
    pub(crate) fn committee() -> Vec<Array2<f32>> {
        vec![
            array![[0.8f32, 0.1, 0.1], [0.3, 0.4, 0.3], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]],
            array![[0.7f32, 0.2, 0.1], [0.4, 0.3, 0.3], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]],
            array![[0.9f32, 0.05, 0.05], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8], [0.3, 0.1, 0.6]],
        ]
    }

    #[test]
    fn hand_computed_values() {
        let c = committee();
        let ve = vote_entropy(&c);
        // Row 0: all vote class 0 → 0. Row 1: votes 1, 0, 2 → three classes once each → ln 3.
        // Row 2: votes 0, 1, 2 → ln 3. Row 3: all vote 2 → 0.
        assert_abs_diff_eq!(ve[0], 0.0);
        assert_abs_diff_eq!(ve[1], 3f32.ln(), epsilon = 1e-6);
        assert_abs_diff_eq!(ve[2], 3f32.ln(), epsilon = 1e-6);
        assert_abs_diff_eq!(ve[3], 0.0);
        // Row 1 consensus: (1/3, 1/3, 1/3) → ln 3.
        assert_abs_diff_eq!(consensus_entropy(&c)[1], 3f32.ln(), epsilon = 1e-6);
        // Identical members never disagree.
        let same = vec![c[0].clone(), c[0].clone()];
        assert!(mean_kl(&same).iter().chain(max_kl(&same).iter()).all(|&v| v.abs() < 1e-6));
        assert!(vote_entropy(&same).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn rejects_bad_committees() {
        let c = committee();
        assert!(matches!(check_committee(&[], 4, 3), Err(Error::Empty(_))));
        assert!(matches!(check_committee(&c, 5, 3), Err(Error::Shape { expected: 5, got: 4, .. })));
        let mut bad = c.clone();
        bad[1][[2, 1]] = f32::NAN;
        let e = check_committee(&bad, 4, 3).unwrap_err().to_string();
        assert!(e.contains("member 1") && e.contains("row 2, column 1"), "{e}");
    }
}

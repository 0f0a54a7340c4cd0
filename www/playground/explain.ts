// A short plain-language explanation and the formula for each query strategy. The list of
// strategies comes from the wasm core; a name without an entry here still works and says
// so. p₁ ≥ p₂ ≥ … are the model's class probabilities for a point, sorted.

export interface Explanation {
  formula: string;
  text: string;
}

const EXPLANATIONS: Record<string, Explanation> = {
  random: {
    formula: 'score(x) = a random draw',
    text: 'Pick unlabelled points at random. The baseline every other strategy must beat: it spends labels evenly over the data, wherever they fall.',
  },
  least_confident: {
    formula: 'score(x) = 1 − p₁',
    text: 'Ask about the point whose most likely class is least likely: where the model is least sure of its best guess.',
  },
  margin: {
    formula: 'score(x) = −(p₁ − p₂)',
    text: 'Ask about the point where the two most likely classes are nearly tied: it sits on the decision boundary, so its label moves the boundary most.',
  },
  entropy: {
    formula: 'score(x) = −Σₖ pₖ log pₖ',
    text: 'Ask about the point whose whole probability spread is most even: uncertainty over all classes at once, not just the top two.',
  },
  vote_entropy: {
    formula: 'score(x) = −Σₖ (Vₖ/C) log (Vₖ/C)',
    text: 'Train a committee of C models; ask where their votes Vₖ disagree most. Disagreement marks what the data so far does not settle.',
  },
  consensus_entropy: {
    formula: 'score(x) = −Σₖ p̄ₖ log p̄ₖ,  p̄ = (1/C) Σ_c p_c',
    text: 'Train a committee of C models and average their probabilities; ask where that shared opinion is most spread out.',
  },
  mean_kl: {
    formula: 'score(x) = (1/C) Σ_c KL(p_c ‖ p̄)',
    text: 'Committee members whose probabilities differ most from the committee average point to an unsettled region.',
  },
  max_kl: {
    formula: 'score(x) = max_c KL(p_c ‖ p̄)',
    text: 'Ask where even one committee member strongly disagrees with the rest: a single dissenter is enough to flag a region.',
  },
  kl_divergence: {
    formula: 'score(x) = (1/C) Σ_c KL(p_c ‖ p̄)',
    text: 'Committee members whose probabilities differ most from the committee average point to an unsettled region.',
  },
  bald: {
    formula: 'score(x) = H[p̄] − (1/C) Σ_c H[p_c]',
    text: 'Prefer points where members are each confident but disagree with one another: the label would teach the model the most.',
  },
  coreset: {
    formula: 'pick argmaxₓ min_{l ∈ labelled} ‖x − l‖',
    text: 'Pick the point farthest from everything labelled, again and again: covers the space without looking at the model.',
  },
  kcenter: {
    formula: 'pick argmaxₓ min_{l ∈ labelled} ‖x − l‖',
    text: 'Pick the point farthest from everything labelled, again and again: covers the space without looking at the model.',
  },
  badge: {
    formula: 'gₓ = (p − onehot(ŷ)) ⊗ h(x); k-means++ over gₓ',
    text: 'Uncertain points have large gradients; spreading the batch out over gradient space gives a batch that is both uncertain and diverse.',
  },
  typiclust: {
    formula: 'cluster; pick the most typical point (1 / mean distance to its neighbours) of the largest uncovered cluster',
    text: 'For very small budgets: label typical points from clusters no label covers yet, before chasing the boundary.',
  },
  density_weighted: {
    formula: 'score(x) = uncertainty(x) · similarity(x, pool)^β',
    text: 'Uncertain, but also representative: avoids spending labels on lonely outliers.',
  },
  auto: {
    formula: 'choose a strategy per round from how past picks paid off',
    text: 'A bandit over strategies: it tries several and keeps using the ones whose labels improved the model most.',
  },
};

export function explain(name: string): Explanation {
  return (
    EXPLANATIONS[name] ?? {
      formula: '(see the documentation of this strategy)',
      text: `The core offers '${name}', but the playground has no explanation written for it yet.`,
    }
  );
}

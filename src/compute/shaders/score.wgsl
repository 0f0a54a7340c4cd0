// Per-row kernels of a scoring round, one thread per pool row:
// - `accumulate`: softmax of one member's logits, added into the committee mean
//   (acc = Σ pᵢ / m, in member order, as cpu::committee_proba);
// - `score`: the uncertainty measure of the mean probabilities; labelled rows get −∞;
// - `member_softmax`: softmax of one member's logits kept on its own (committee strategies
//   that measure disagreement need every member's probabilities, not only their mean).

struct Params {
    n: u32,         // rows in this chunk
    k: u32,         // classes
    member: u32,    // which committee member these logits belong to (0 resets acc)
    measure: u32,   // 0 margin, 1 entropy, 2 least confident
    inv_members: f32,
    // −∞ for labelled rows, from the host: WGSL constant expressions cannot be infinite.
    neg_inf: f32,
    // member_softmax: rows per member in `member_probs` (the chunk's capacity).
    member_stride: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;
@group(0) @binding(3) var<storage, read> labelled: array<u32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> member_probs: array<f32>;

@compute @workgroup_size(64)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= params.n) {
        return;
    }
    let base = row * params.k;
    // Stable softmax: subtract the row maximum before exp.
    var m = logits[base];
    for (var j = 1u; j < params.k; j = j + 1u) {
        m = max(m, logits[base + j]);
    }
    var sum = 0.0;
    for (var j = 0u; j < params.k; j = j + 1u) {
        sum = sum + exp(logits[base + j] - m);
    }
    let inv = 1.0 / sum;
    for (var j = 0u; j < params.k; j = j + 1u) {
        let p = exp(logits[base + j] - m) * inv * params.inv_members;
        if (params.member == 0u) {
            acc[base + j] = p;
        } else {
            acc[base + j] = acc[base + j] + p;
        }
    }
}

@compute @workgroup_size(64)
fn score(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= params.n) {
        return;
    }
    if (labelled[row] != 0u) {
        scores[row] = params.neg_inf; // labelled rows rank last
        return;
    }
    let base = row * params.k;
    // Probabilities are ≥ 0, so −1 is below any of them (as −∞ is on the CPU).
    var p1 = -1.0;
    var p2 = -1.0;
    var h = 0.0;
    for (var j = 0u; j < params.k; j = j + 1u) {
        let p = acc[base + j];
        if (p > p1) {
            p2 = p1;
            p1 = p;
        } else if (p > p2) {
            p2 = p;
        }
        if (p > 0.0) {
            h = h - p * log(p);
        }
    }
    var s = 0.0;
    if (params.measure == 0u) {
        s = select(-(p1 - p2), -1.0, params.k < 2u);
    } else if (params.measure == 1u) {
        s = h;
    } else {
        s = 1.0 - p1;
    }
    scores[row] = s;
}

@compute @workgroup_size(64)
fn member_softmax(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= params.n) {
        return;
    }
    let base = row * params.k;
    let out = (params.member * params.member_stride + row) * params.k;
    // The same stable softmax as `accumulate`, without the 1/m weight.
    var m = logits[base];
    for (var j = 1u; j < params.k; j = j + 1u) {
        m = max(m, logits[base + j]);
    }
    var sum = 0.0;
    for (var j = 0u; j < params.k; j = j + 1u) {
        sum = sum + exp(logits[base + j] - m);
    }
    let inv = 1.0 / sum;
    for (var j = 0u; j < params.k; j = j + 1u) {
        member_probs[out + j] = exp(logits[base + j] - m) * inv;
    }
}

//! One isolation tree: growing it on a subsample and walking rows down it.
//!
//! Nodes live in one contiguous `Vec` of 16-byte [`Node`]s in depth-first order; the two
//! children of an internal node are adjacent (`left`, `left + 1`), and a leaf stores its final
//! path length `depth + c(leaf size)` in place of the split threshold, so scoring a row is a
//! tight loop of one load and one comparison per level. Node sizes (training samples reaching
//! the node) are kept in a separate array that only explanations read.

use super::path_length::average_path_length;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Marks a leaf in [`Node::feature`].
pub const LEAF: u32 = u32::MAX;

/// A tree node: a split `row[feature] <= value` goes left, or a leaf whose `value` is its path
/// length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    /// Split threshold, or for a leaf depth + c(size).
    pub value: f64,
    /// Column index of the split feature, or [`LEAF`].
    pub feature: u32,
    /// Index of the left child (the right child is `left + 1`); 0 for leaves.
    pub left: u32,
}

/// An isolation tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "TreeRepr", try_from = "TreeRepr")]
pub struct Tree {
    nodes: Vec<Node>,
    sizes: Vec<u32>,
}

/// Serialized form: struct of arrays, floats bit-exact.
#[derive(Serialize, Deserialize)]
struct TreeRepr {
    feature: Vec<u32>,
    left: Vec<u32>,
    #[serde(with = "crate::exact_f64::vec")]
    value: Vec<f64>,
    size: Vec<u32>,
}

impl From<Tree> for TreeRepr {
    fn from(t: Tree) -> Self {
        TreeRepr {
            feature: t.nodes.iter().map(|n| n.feature).collect(),
            left: t.nodes.iter().map(|n| n.left).collect(),
            value: t.nodes.iter().map(|n| n.value).collect(),
            size: t.sizes,
        }
    }
}

impl TryFrom<TreeRepr> for Tree {
    type Error = String;
    fn try_from(r: TreeRepr) -> Result<Self, String> {
        let len = r.feature.len();
        if len == 0 || r.left.len() != len || r.value.len() != len || r.size.len() != len {
            return Err(format!(
                "tree arrays have lengths feature {}, left {}, value {}, size {}: expected equal and non-zero",
                len,
                r.left.len(),
                r.value.len(),
                r.size.len()
            ));
        }
        let nodes: Vec<Node> = (0..len)
            .map(|i| Node {
                value: r.value[i],
                feature: r.feature[i],
                left: r.left[i],
            })
            .collect();
        for (i, n) in nodes.iter().enumerate() {
            // children strictly after their parent: walks always terminate
            if n.feature != LEAF && (n.left as usize <= i || n.left as usize + 1 >= len) {
                return Err(format!("node {i} has children at {} of {len} nodes", n.left));
            }
        }
        Ok(Tree {
            nodes,
            sizes: r.size,
        })
    }
}

/// Training rows of one tree in column-major layout (`column(j)[i]` = row i, local feature j).
pub struct Subsample<'a> {
    /// Values, `n_rows` per local feature.
    pub columns: &'a [f64],
    /// Number of rows.
    pub n_rows: usize,
    /// Original column index of every local feature.
    pub features: &'a [usize],
}

impl Subsample<'_> {
    fn value(&self, local_feature: usize, row: u32) -> f64 {
        self.columns[local_feature * self.n_rows + row as usize]
    }
}

struct Task {
    node: usize,
    start: usize,
    end: usize,
    depth: u32,
    candidates: Vec<u32>,
}

impl Tree {
    /// Grows a tree on `sample` with scikit-learn's rules: stop at `max_depth`, at one sample,
    /// or when every feature is constant in the node; otherwise pick the split feature uniformly
    /// among the features that are not constant in the node and the threshold uniformly in
    /// [min, max) of that feature in the node.
    pub fn grow(sample: &Subsample<'_>, max_depth: u32, rng: &mut ChaCha8Rng) -> Tree {
        let mut rows: Vec<u32> = (0..sample.n_rows as u32).collect();
        let mut nodes = vec![Node {
            value: 0.0,
            feature: LEAF,
            left: 0,
        }];
        let mut sizes = vec![sample.n_rows as u32];
        let mut stack = vec![Task {
            node: 0,
            start: 0,
            end: sample.n_rows,
            depth: 0,
            candidates: (0..sample.features.len() as u32).collect(),
        }];
        while let Some(mut task) = stack.pop() {
            let n = task.end - task.start;
            let node_rows = &mut rows[task.start..task.end];
            let split = if task.depth >= max_depth || n <= 1 {
                None
            } else {
                choose_split(sample, node_rows, &mut task.candidates, rng)
            };
            let Some((local, threshold)) = split else {
                nodes[task.node].value = task.depth as f64 + average_path_length(n);
                continue;
            };
            // partition: rows with value <= threshold first
            let mut mid = 0;
            for i in 0..node_rows.len() {
                if sample.value(local as usize, node_rows[i]) <= threshold {
                    node_rows.swap(i, mid);
                    mid += 1;
                }
            }
            let left = nodes.len();
            nodes[task.node] = Node {
                value: threshold,
                feature: sample.features[local as usize] as u32,
                left: left as u32,
            };
            let leaf = Node {
                value: 0.0,
                feature: LEAF,
                left: 0,
            };
            nodes.push(leaf);
            nodes.push(leaf);
            sizes.push(mid as u32);
            sizes.push((n - mid) as u32);
            let split_at = task.start + mid;
            stack.push(Task {
                node: left + 1,
                start: split_at,
                end: task.end,
                depth: task.depth + 1,
                candidates: task.candidates.clone(),
            });
            stack.push(Task {
                node: left,
                start: task.start,
                end: split_at,
                depth: task.depth + 1,
                candidates: task.candidates,
            });
        }
        Tree { nodes, sizes }
    }

    /// Path length of `row`: depth of its leaf + c(leaf size).
    #[inline]
    pub fn path_length(&self, row: &[f64]) -> f64 {
        let nodes = self.nodes.as_slice();
        let mut i = 0usize;
        loop {
            let node = nodes[i];
            if node.feature == LEAF {
                return node.value;
            }
            i = node.left as usize + usize::from(row[node.feature as usize] > node.value);
        }
    }

    /// Adds to `out[feature]` the isolation credit of every split on the row's path:
    /// log2(samples in the node / samples in the child the row goes to). The credits of one
    /// tree sum to log2(psi / leaf size): how many halvings of the sample the path achieved.
    pub fn add_contributions(&self, row: &[f64], out: &mut [f64]) {
        let mut i = 0usize;
        loop {
            let node = self.nodes[i];
            if node.feature == LEAF {
                return;
            }
            let child = node.left as usize + usize::from(row[node.feature as usize] > node.value);
            let (parent_n, child_n) = (self.sizes[i] as f64, self.sizes[child] as f64);
            if child_n > 0.0 && parent_n > 0.0 {
                out[node.feature as usize] += (parent_n / child_n).log2();
            }
            i = child;
        }
    }

    /// All nodes (depth-first, children adjacent).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Largest depth of any leaf.
    pub fn depth(&self) -> u32 {
        let mut depth = vec![0u32; self.nodes.len()];
        let mut max = 0;
        for (i, n) in self.nodes.iter().enumerate() {
            if n.feature != LEAF {
                depth[n.left as usize] = depth[i] + 1;
                depth[n.left as usize + 1] = depth[i] + 1;
                max = max.max(depth[i] + 1);
            }
        }
        max
    }

    /// Largest feature index used by a split, if any split exists.
    pub fn max_feature(&self) -> Option<u32> {
        self.nodes
            .iter()
            .filter(|n| n.feature != LEAF)
            .map(|n| n.feature)
            .max()
    }
}

/// Picks (local feature, threshold) for a node, or `None` when all candidates are constant.
/// Features found constant are removed from `candidates` (they stay constant in the children).
fn choose_split(
    sample: &Subsample<'_>,
    rows: &[u32],
    candidates: &mut Vec<u32>,
    rng: &mut ChaCha8Rng,
) -> Option<(u32, f64)> {
    while !candidates.is_empty() {
        let k = rng.random_range(0..candidates.len());
        let local = candidates[k];
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for &r in rows {
            let v = sample.value(local as usize, r);
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if hi > lo {
            let u: f64 = rng.random();
            // lo (1 - u) + hi u cannot overflow; rounding may land on hi, which scikit-learn
            // also maps back to lo so that both sides are non-empty.
            let mut t = lo * (1.0 - u) + hi * u;
            if !(t >= lo && t < hi) {
                t = lo;
            }
            return Some((local, t));
        }
        candidates.swap_remove(k);
    }
    None
}

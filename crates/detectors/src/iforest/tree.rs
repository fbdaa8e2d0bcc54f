//! One isolation tree: growing it on a subsample and walking rows down it.
//!
//! Nodes live in one contiguous `Vec` of 16-byte [`Node`]s in depth-first order; the two
//! children of an internal node are adjacent (`left`, `left + 1`, always after the parent). A
//! leaf points to itself with threshold +inf, so once a row reaches a leaf every further step
//! keeps it there: scoring walks a block of rows through the tree for exactly `depth` steps with
//! no branch on the node type, and the independent rows of the block overlap their memory loads.
//! A leaf's path length `depth + c(leaf size)` is precomputed in a parallel array. Node sizes
//! (training samples reaching the node) are kept for explanations only.

use super::path_length::average_path_length;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Marks a leaf in the serialized `feature` array.
pub const LEAF: u32 = u32::MAX;

/// Rows walked through a tree together (8 measured fastest among 4, 8, 16, 32).
const LANES: usize = 8;

/// A tree node: rows with `row[feature] <= threshold` go to `left`, others to `left + 1`.
/// A leaf has `left` = its own index and `threshold` = +inf.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    /// Split threshold (+inf for leaves).
    pub threshold: f64,
    /// Column index of the split feature (0 for leaves).
    pub feature: u32,
    /// Index of the left child; the node's own index for a leaf.
    pub left: u32,
}

/// An isolation tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "TreeRepr", try_from = "TreeRepr")]
pub struct Tree {
    nodes: Vec<Node>,
    /// depth + c(size) for leaves, 0 for internal nodes.
    leaf_value: Vec<f64>,
    sizes: Vec<u32>,
    depth: u32,
}

/// Serialized form: struct of arrays, floats bit-exact. `value` is the threshold of a split and
/// the path length of a leaf (`feature` = [`LEAF`]).
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
        let leaf: Vec<bool> = (0..t.nodes.len()).map(|i| t.is_leaf(i)).collect();
        TreeRepr {
            feature: t
                .nodes
                .iter()
                .zip(&leaf)
                .map(|(n, &l)| if l { LEAF } else { n.feature })
                .collect(),
            left: t
                .nodes
                .iter()
                .zip(&leaf)
                .map(|(n, &l)| if l { 0 } else { n.left })
                .collect(),
            value: t
                .nodes
                .iter()
                .zip(&leaf)
                .zip(&t.leaf_value)
                .map(|((n, &l), &v)| if l { v } else { n.threshold })
                .collect(),
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
        let mut nodes = Vec::with_capacity(len);
        let mut leaf_value = Vec::with_capacity(len);
        for i in 0..len {
            if r.feature[i] == LEAF {
                nodes.push(leaf_node(i));
                leaf_value.push(r.value[i]);
            } else {
                let left = r.left[i] as usize;
                // children strictly after their parent: walks always terminate
                if left <= i || left + 1 >= len {
                    return Err(format!("node {i} has children at {left} of {len} nodes"));
                }
                nodes.push(Node {
                    threshold: r.value[i],
                    feature: r.feature[i],
                    left: r.left[i],
                });
                leaf_value.push(0.0);
            }
        }
        let mut tree = Tree {
            nodes,
            leaf_value,
            sizes: r.size,
            depth: 0,
        };
        tree.depth = tree.compute_depth();
        Ok(tree)
    }
}

fn leaf_node(index: usize) -> Node {
    Node {
        threshold: f64::INFINITY,
        feature: 0,
        left: index as u32,
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
        let mut nodes = vec![leaf_node(0)];
        let mut leaf_value = vec![0.0];
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
                leaf_value[task.node] = task.depth as f64 + average_path_length(n);
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
                threshold,
                feature: sample.features[local as usize] as u32,
                left: left as u32,
            };
            nodes.push(leaf_node(left));
            nodes.push(leaf_node(left + 1));
            leaf_value.extend([0.0, 0.0]);
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
        let mut tree = Tree {
            nodes,
            leaf_value,
            sizes,
            depth: 0,
        };
        tree.depth = tree.compute_depth();
        tree
    }

    /// Whether node `i` is a leaf.
    #[inline]
    pub fn is_leaf(&self, i: usize) -> bool {
        self.nodes[i].left as usize == i
    }

    /// Path length of the leaf at node `i` (0 for internal nodes).
    pub fn leaf_value(&self, i: usize) -> f64 {
        self.leaf_value[i]
    }

    /// Index of the leaf `row` ends in.
    #[inline]
    pub fn leaf_of(&self, row: &[f64]) -> usize {
        let mut i = 0usize;
        while !self.is_leaf(i) {
            let node = self.nodes[i];
            i = node.left as usize + usize::from(row[node.feature as usize] > node.threshold);
        }
        i
    }

    /// Path length of `row`: depth of its leaf + c(leaf size).
    pub fn path_length(&self, row: &[f64]) -> f64 {
        self.leaf_value[self.leaf_of(row)]
    }

    /// Adds the path length of every row of row-major `rows` (`d` columns) to `acc` (one entry
    /// per row). Rows are walked in blocks of 8 for exactly `depth` steps (leaves are fixed
    /// points), which lets the CPU overlap the independent loads of different rows.
    pub fn add_path_lengths(&self, rows: &[f64], d: usize, acc: &mut [f64]) {
        let nodes = self.nodes.as_slice();
        for (block, acc) in rows.chunks(LANES * d).zip(acc.chunks_mut(LANES)) {
            let mut idx = [0u32; LANES];
            let lanes = acc.len();
            for _ in 0..self.depth {
                for (r, i) in idx.iter_mut().enumerate().take(lanes) {
                    let node = nodes[*i as usize];
                    let x = block[r * d + node.feature as usize];
                    *i = node.left + u32::from(x > node.threshold);
                }
            }
            for (a, &i) in acc.iter_mut().zip(&idx) {
                *a += self.leaf_value[i as usize];
            }
        }
    }

    /// Adds to `out[feature]` the isolation credit of every split on the row's path:
    /// log2(samples in the node / samples in the child the row goes to). The credits of one
    /// tree sum to log2(psi / leaf size): how many halvings of the sample the path achieved.
    pub fn add_contributions(&self, row: &[f64], out: &mut [f64]) {
        let mut i = 0usize;
        while !self.is_leaf(i) {
            let node = self.nodes[i];
            let child =
                node.left as usize + usize::from(row[node.feature as usize] > node.threshold);
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

    /// Features used by splits, with repetition.
    pub fn split_features(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.nodes.len())
            .filter(|&i| !self.is_leaf(i))
            .map(|i| self.nodes[i].feature)
    }

    /// Largest depth of any leaf.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    fn compute_depth(&self) -> u32 {
        let mut depth = vec![0u32; self.nodes.len()];
        let mut max = 0;
        for i in 0..self.nodes.len() {
            if !self.is_leaf(i) {
                let left = self.nodes[i].left as usize;
                depth[left] = depth[i] + 1;
                depth[left + 1] = depth[i] + 1;
                max = max.max(depth[i] + 1);
            }
        }
        max
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        (0..self.nodes.len()).filter(|&i| self.is_leaf(i)).count()
    }

    /// Largest feature index used by a split, if any split exists.
    pub fn max_feature(&self) -> Option<u32> {
        self.split_features().max()
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

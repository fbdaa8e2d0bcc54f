//! One isolation tree: growing it on a subsample and walking rows down it.
//!
//! Nodes live in one contiguous `Vec` of 16-byte [`Node`]s in depth-first order; the two
//! children of an internal node are adjacent (`left`, `left + 1`, always after the parent). A
//! leaf points to itself with threshold +inf, so once a row reaches a leaf every further step
//! keeps it there. A leaf's path length `depth + c(leaf size)` is precomputed in a parallel
//! array. Node sizes (training samples reaching the node) are kept for explanations only. The
//! nodes are the serialized form of a tree and what [`Tree::path_length`] and explanations walk.
//!
//! Scoring walks a layout derived from the nodes when a tree is grown or deserialized (never
//! serialized). A tree of depth D <= 12 splitting on features < 256 is expanded into an implicit
//! complete binary tree of depth D (a "heap", `Expanded`): slot k (1-based) has children 2k
//! and 2k + 1, so a step is `k = 2k + (x > threshold[k])` with no child index to load. A leaf
//! above the bottom level becomes a pass-through slot that sends every row left (threshold
//! +inf, which no value, not even NaN, exceeds); its path length sits in the leftmost bottom
//! slot below it. After exactly D steps every row is on a bottom slot (2^D..2^(D+1)), which
//! holds the path length of its leaf, so all rows take the same branch-free steps.
//!
//! Heap slots store the split threshold as an order-preserving integer key (`key`: `x > t`
//! exactly when `key(x) > threshold_key(t)`, NaN included) or the bits of a leaf's path length,
//! and the split feature as a `u8`, in arrays of 512 (D <= 8) or 8192 slots behind one pointer.
//! Rows are converted once per scoring chunk into keys zero-padded to 4 to 64 columns
//! ([`RowKeys`]), so a step is three loads, an integer compare and an add, with index masks
//! instead of bounds checks. Blocks of [`LANES`] rows are walked together so the CPU overlaps
//! their independent chains of loads, and depth 8 (256 samples, the default) is fully unrolled.
//! Forests of at most four features are scored through [`super::packed`] instead, which builds
//! on the same heap layout. Deeper trees are walked on the nodes.
//!
//! Every layout makes the same comparisons `x > threshold` and reads the same leaf values, so
//! the path lengths are bit-identical to [`Tree::path_length`].

use super::path_length::average_path_length;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Marks a leaf in the serialized `feature` array.
pub const LEAF: u32 = u32::MAX;

/// Rows walked through a tree together (8 measured fastest among 4, 8, 16, 32).
pub const LANES: usize = 8;

/// Rows explained through a tree together ([`Tree::add_contributions_rows`]; see
/// PERFORMANCE.md for the lane counts measured).
pub const CONTRIBUTION_LANES: usize = 4;

/// Deepest tree scored through the heap layout (heap arrays of 2^(12+1) entries).
pub(crate) const HEAP_MAX_DEPTH: u32 = 12;

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
    /// Scoring layout derived from the nodes (not serialized).
    layout: Layout,
    /// Per node, the isolation credit of a row that reaches it from its parent:
    /// log2(samples in the parent / samples in the node), 0 for the root and where either
    /// holds no sample, then one more 0 (derived from the sizes, not serialized).
    credit: Vec<f64>,
}

/// Serialized form: struct of arrays, floats bit-exact. `value` is the threshold of a split and
/// the path length of a leaf (`feature` = [`LEAF`]).
#[derive(Serialize, Deserialize)]
struct TreeRepr {
    #[serde(deserialize_with = "de_feature")]
    feature: Vec<u32>,
    #[serde(deserialize_with = "de_left")]
    left: Vec<u32>,
    #[serde(
        serialize_with = "crate::exact_f64::vec::serialize",
        deserialize_with = "de_value"
    )]
    value: Vec<f64>,
    #[serde(deserialize_with = "de_size")]
    size: Vec<u32>,
}

crate::named::named_fields! {
    de_feature: Vec<u32> = "feature";
    de_left: Vec<u32> = "left";
    de_value: Vec<f64> = "value" via crate::exact_f64::vec::deserialize;
    de_size: Vec<u32> = "size";
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
        if len > u32::MAX as usize {
            return Err(format!("tree has {len} nodes: expected fewer than 2^32"));
        }
        let mut nodes = Vec::with_capacity(len);
        let mut leaf_value = Vec::with_capacity(len);
        // every node but the root is the child of exactly one node: the nodes form a tree
        let mut parents = vec![0u8; len];
        for i in 0..len {
            if r.feature[i] == LEAF {
                nodes.push(leaf_node(i));
                leaf_value.push(r.value[i]);
            } else {
                let left = r.left[i] as usize;
                // children strictly after their parent: walks always terminate
                if left <= i || left + 1 >= len {
                    return Err(format!(
                        "node {i}: `left` is {left}: the two children of a split must come after \
                         it among the tree's {len} nodes"
                    ));
                }
                for child in [left, left + 1] {
                    parents[child] = parents[child].saturating_add(1);
                }
                nodes.push(Node {
                    threshold: r.value[i],
                    feature: r.feature[i],
                    left: r.left[i],
                });
                leaf_value.push(0.0);
            }
        }
        if let Some(j) = (1..len).find(|&j| parents[j] != 1) {
            return Err(format!(
                "node {j} is the child (`left`) of {} nodes: expected exactly 1",
                parents[j]
            ));
        }
        Ok(Tree::new(nodes, leaf_value, r.size))
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
        Tree::new(nodes, leaf_value, sizes)
    }

    /// Computes the depth and the scoring layout of the given nodes.
    fn new(nodes: Vec<Node>, leaf_value: Vec<f64>, sizes: Vec<u32>) -> Tree {
        let mut tree = Tree {
            nodes,
            leaf_value,
            sizes,
            depth: 0,
            layout: Layout::Nodes,
            credit: Vec::new(),
        };
        tree.depth = tree.compute_depth();
        tree.layout = Layout::build(&tree);
        tree.credit = tree.compute_credit();
        tree
    }

    /// The isolation credit of reaching each node (see [`Tree::add_contributions`]), computed
    /// once instead of a logarithm per split of every explained row, and a last +0.0 that
    /// [`Tree::add_contributions_rows`] adds at a leaf.
    fn compute_credit(&self) -> Vec<f64> {
        let mut credit = vec![0.0; self.nodes.len() + 1];
        for i in (0..self.nodes.len()).filter(|&i| !self.is_leaf(i)) {
            let left = self.nodes[i].left as usize;
            for child in [left, left + 1] {
                let (parent_n, child_n) = (self.sizes[i] as f64, self.sizes[child] as f64);
                if child_n > 0.0 && parent_n > 0.0 {
                    credit[child] = libm::log2(parent_n / child_n);
                }
            }
        }
        credit
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
    /// per row), exactly as [`Tree::path_length`] computes them. Scoring many trees should
    /// convert the rows once ([`RowKeys`]) and call [`Tree::add_path_lengths_keys`] per tree.
    pub fn add_path_lengths(&self, rows: &[f64], d: usize, acc: &mut [f64]) {
        let keys = RowKeys::new(rows, d);
        let n = keys.n_rows().min(acc.len());
        let mut padded = vec![0.0; keys.len()];
        padded[..n].copy_from_slice(&acc[..n]);
        self.add_path_lengths_keys(&keys, &mut padded);
        acc[..n].copy_from_slice(&padded[..n]);
    }

    /// Adds the path length of every row of `rows` to `acc`, which has one entry per row
    /// including the padding rows ([`RowKeys::len`]; the padding entries receive meaningless
    /// values). Walks the heap layout when the tree has one whose split features are columns
    /// of `rows`, else the nodes; either way the results equal [`Tree::path_length`]'s.
    pub fn add_path_lengths_keys(&self, rows: &RowKeys<'_>, acc: &mut [f64]) {
        assert_eq!(acc.len(), rows.len(), "one accumulator per padded row");
        match &self.layout {
            Layout::Small(heap) if heap.feature_bound <= rows.d => heap.add_small(rows, acc),
            Layout::Large(heap) if heap.feature_bound <= rows.d => heap.add(rows, acc),
            _ => self.add_path_lengths_nodes(rows.flat, rows.d, &mut acc[..rows.n_rows]),
        }
    }

    /// The tree's heap layout, if it has one.
    pub(crate) fn heap(&self) -> Option<HeapView<'_>> {
        fn view<const N: usize>(h: &Heap<N>) -> HeapView<'_> {
            let len = 2 << h.depth;
            HeapView {
                depth: h.depth,
                feature_bound: h.feature_bound,
                value: &h.slots.value[..len],
                feature: &h.slots.feature[..len],
            }
        }
        match &self.layout {
            Layout::Small(h) => Some(view(h)),
            Layout::Large(h) => Some(view(h)),
            Layout::Nodes => None,
        }
    }

    /// Adds path lengths by walking the nodes: rows are walked in blocks of [`LANES`] for
    /// exactly `depth` steps (leaves are fixed points), which lets the CPU overlap the
    /// independent loads of different rows.
    pub(crate) fn add_path_lengths_nodes(&self, rows: &[f64], d: usize, acc: &mut [f64]) {
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

    /// The tree as an implicit complete binary tree of its depth D (see [`Expanded`]), or
    /// `None` if D > `max_depth` (or a path is longer than the computed depth).
    fn expand(&self, max_depth: u32) -> Option<Expanded> {
        let depth = self.depth;
        if depth > max_depth {
            return None;
        }
        let len = 2usize << depth;
        // node[k]: the node whose slot k is, in slot order (parents before children); a leaf
        // above the bottom is a pass-through: its value is read from the leftmost bottom slot
        // below it, and its other slots are unreachable but filled alike
        let mut node = vec![0u32; len];
        for k in 2..len {
            let parent = node[k / 2] as usize;
            node[k] = if self.is_leaf(parent) {
                parent as u32
            } else {
                self.nodes[parent].left + (k & 1) as u32
            };
        }
        let mut slots = vec![Slot::Pass; len];
        for (k, (slot, &n)) in slots.iter_mut().zip(&node).enumerate().skip(1) {
            let n = n as usize;
            *slot = match (self.is_leaf(n), k >> depth != 0) {
                (true, true) => Slot::Leaf(self.leaf_value[n]),
                (true, false) => Slot::Pass,
                (false, false) => Slot::Split {
                    feature: self.nodes[n].feature,
                    threshold: self.nodes[n].threshold,
                },
                // a path longer than the depth (possible only in malformed input)
                (false, true) => return None,
            };
        }
        Some(Expanded { depth, slots })
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
            // a credit of 0 (no samples) leaves the non-negative sum's bits as they are
            out[node.feature as usize] += self.credit[child];
            i = child;
        }
    }

    /// [`Tree::add_contributions`] of many rows: `rows` holds, per row, its `d` values followed
    /// by its `d` sums, which receive the credits (the same sums bit for bit), in a whole
    /// number of blocks of [`CONTRIBUTION_LANES`] rows. The rows of a block take exactly
    /// `depth` branch-free steps together, so the CPU overlaps their independent chains of
    /// loads. A row already at its leaf stays there and adds the +0.0 after the nodes' credits
    /// to its first feature, which leaves a sum of non-negative credits as it is.
    pub(crate) fn add_contributions_rows(&self, rows: &mut [f64], d: usize) {
        let stride = 2 * d;
        assert_eq!(
            rows.len() % (CONTRIBUTION_LANES * stride),
            0,
            "whole blocks of rows"
        );
        let (nodes, credit) = (self.nodes.as_slice(), self.credit.as_slice());
        for block in rows.chunks_exact_mut(CONTRIBUTION_LANES * stride) {
            let mut idx = [0u32; CONTRIBUTION_LANES];
            for _ in 0..self.depth {
                for (row, i) in block.chunks_exact_mut(stride).zip(&mut idx) {
                    let node = nodes[*i as usize];
                    let f = node.feature as usize;
                    let child = node.left + u32::from(row[f] > node.threshold);
                    // at a leaf, the +0.0 after the nodes' credits: a select of the index,
                    // not a branch the CPU would mispredict
                    let at = if child == *i {
                        nodes.len()
                    } else {
                        child as usize
                    };
                    row[d + f] += credit[at];
                    *i = child;
                }
            }
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

    /// Checks a loaded tree against what [`Tree::grow`] gives on `psi` rows of `n_features`
    /// features: the root holds psi samples, every split sends at least one sample each way
    /// and on a feature < `n_features`, the depth is at most ceil(log2 psi), and every leaf's
    /// value is its depth + c(its size) (to 1e-9 relative: `ln` may differ in the last bit
    /// between platforms). The error names the node and the field.
    pub fn check(&self, psi: usize, n_features: usize) -> Result<(), String> {
        if self.sizes[0] as usize != psi {
            return Err(format!(
                "the root's `size` is {} but the forest's `max_samples` is {psi}",
                self.sizes[0]
            ));
        }
        let limit = super::path_length::max_depth(psi);
        if self.depth > limit {
            return Err(format!(
                "the tree is {} deep: trees grown on {psi} samples are at most {limit} deep",
                self.depth
            ));
        }
        // parents come before their children (checked when reading), so one pass sets depths
        let mut depth = vec![0u32; self.nodes.len()];
        for i in 0..self.nodes.len() {
            let size = self.sizes[i];
            if size == 0 {
                return Err(format!("node {i}: `size` is 0: every node holds a sample"));
            }
            if self.is_leaf(i) {
                let want = depth[i] as f64 + average_path_length(size as usize);
                let v = self.leaf_value[i];
                let off = (v - want).abs();
                if off.is_nan() || off > 1e-9 * want.max(1.0) {
                    return Err(format!(
                        "node {i}: leaf `value` is {v:?} but a leaf at depth {} of `size` {size} \
                         has path length {want:?}",
                        depth[i]
                    ));
                }
                continue;
            }
            let node = self.nodes[i];
            if node.feature as usize >= n_features {
                return Err(format!(
                    "node {i}: split `feature` is {} but the detector has {n_features} features",
                    node.feature
                ));
            }
            let left = node.left as usize;
            let (a, b) = (self.sizes[left], self.sizes[left + 1]);
            if u64::from(a) + u64::from(b) != u64::from(size) {
                return Err(format!(
                    "node {i}: `size` is {size} but its children hold {a} + {b} samples"
                ));
            }
            depth[left] = depth[i] + 1;
            depth[left + 1] = depth[i] + 1;
        }
        Ok(())
    }
}

/// Order-preserving integer key of a value: for values x and thresholds t,
/// `key(x) > threshold_key(t)` exactly when `x > t`. -0.0 and +0.0 share a key and NaN gets
/// key 0, below every threshold key, so NaN never compares greater.
pub(crate) fn key(x: f64) -> u64 {
    // x + 0.0 turns -0.0 into +0.0 and leaves every other value unchanged
    let bits = (x + 0.0).to_bits();
    // negative: flip all bits; positive: set the sign bit (branch-free, signs are random)
    let key = bits ^ (((bits as i64 >> 63) as u64) | 1 << 63);
    if x.is_nan() { 0 } else { key }
}

/// Key of a split threshold; a NaN threshold (no value is greater) gets the largest key.
pub(crate) fn threshold_key(t: f64) -> u64 {
    if t.is_nan() { u64::MAX } else { key(t) }
}

/// The value of a key: the inverse of [`key`] (-0.0 and NaN excepted).
pub(crate) fn key_value(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 { key ^ 1 << 63 } else { !key })
}

/// The heap layout of a tree (see the module docs).
pub(crate) struct HeapView<'a> {
    /// D, the tree's depth.
    pub depth: u32,
    /// 1 + the largest split feature, 0 without splits.
    pub feature_bound: usize,
    /// 2^(D+1) slots: [`threshold_key`] of a split, `u64::MAX` for a pass-through (or a NaN
    /// threshold: either way every row goes left), bits of the path length of a leaf (slots
    /// 2^D and up). Slot 0 is unused.
    pub value: &'a [u64],
    /// Split feature of every slot (0 where there is no split).
    pub feature: &'a [u8],
}

/// A tree as an implicit complete binary tree of its depth D: slot k (1-based) has children
/// 2k and 2k + 1, slots 1..2^D are [`Slot::Split`] or [`Slot::Pass`], slots 2^D..2^(D+1) are
/// [`Slot::Leaf`]. Walking D steps with `k = 2k + (x > threshold)` (pass-throughs always go
/// left) ends on the slot holding the path length [`Tree::path_length`] gives.
struct Expanded {
    /// D, the tree's depth.
    depth: u32,
    /// 2^(D+1) slots; slot 0 is unused.
    slots: Vec<Slot>,
}

/// One slot of an [`Expanded`] tree.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    /// A split: rows with `row[feature] > threshold` go right.
    Split {
        /// Split feature.
        feature: u32,
        /// Split threshold.
        threshold: f64,
    },
    /// A leaf above the bottom level (or slot 0): every row goes left.
    Pass,
    /// A bottom slot: the path length of the leaf that rows reaching it end in.
    Leaf(f64),
}

/// Rows as comparison keys (`key`), converted once and walked through every tree. With
/// d <= 64 columns each row is zero-padded to a width W of 4, 8, 16, 32 or 64, so that the heap
/// walk reads feature f at `row[f & (W - 1)]` with no bounds check; wider rows keep stride d.
/// All-zero padding rows make the row count a multiple of [`LANES`].
pub struct RowKeys<'a> {
    flat: &'a [f64],
    d: usize,
    n_rows: usize,
    width: usize,
    keys: Vec<u64>,
}

impl<'a> RowKeys<'a> {
    /// Keys of the row-major `flat` (`d` >= 1 columns).
    pub fn new(flat: &'a [f64], d: usize) -> Self {
        assert!(d >= 1, "rows need at least one column");
        let width = match d {
            0..=4 => 4,
            5..=8 => 8,
            9..=16 => 16,
            17..=32 => 32,
            33..=64 => 64,
            _ => d,
        };
        let n_rows = flat.len() / d;
        let mut keys = vec![0; n_rows.div_ceil(LANES) * LANES * width];
        for (dst, src) in keys.chunks_exact_mut(width).zip(flat.chunks_exact(d)) {
            for (k, &x) in dst.iter_mut().zip(src) {
                *k = key(x);
            }
        }
        RowKeys {
            flat,
            d,
            n_rows,
            width,
            keys,
        }
    }

    /// Number of rows including the padding rows (a multiple of [`LANES`]).
    pub fn len(&self) -> usize {
        self.keys.len() / self.width
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Number of rows without the padding.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
}

/// Scoring layout of a tree, derived from its nodes.
#[derive(Clone, PartialEq)]
enum Layout {
    /// Heap of a tree of depth <= 8.
    Small(Heap<512>),
    /// Heap of a tree of depth 9..=[`HEAP_MAX_DEPTH`].
    Large(Heap<8192>),
    /// Deeper trees, or split features >= 256: scoring walks the nodes.
    Nodes,
}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Layout::Small(h) => write!(f, "Small(depth {})", h.depth),
            Layout::Large(h) => write!(f, "Large(depth {})", h.depth),
            Layout::Nodes => write!(f, "Nodes"),
        }
    }
}

impl Layout {
    fn build(tree: &Tree) -> Layout {
        let layout = match tree.expand(HEAP_MAX_DEPTH) {
            Some(e) if e.depth <= 8 => Heap::build(&e).map(Layout::Small),
            Some(e) => Heap::build(&e).map(Layout::Large),
            None => None,
        };
        layout.unwrap_or(Layout::Nodes)
    }
}

/// An [`Expanded`] tree of depth `depth` in `N` >= 2^(depth + 1) slots (`N` a power of two).
#[derive(Clone, PartialEq)]
struct Heap<const N: usize> {
    depth: u32,
    /// 1 + the largest split feature, 0 without splits.
    feature_bound: usize,
    slots: Box<Slots<N>>,
}

/// The arrays of a [`Heap`], behind one pointer.
#[derive(Clone, PartialEq)]
struct Slots<const N: usize> {
    /// [`threshold_key`] of a split slot, `u64::MAX` for a pass-through (no key is greater,
    /// so every row goes left), bits of the path length of a leaf slot.
    value: [u64; N],
    /// Split feature of a split slot (0 for a pass-through).
    feature: [u8; N],
}

impl<const N: usize> Heap<N> {
    /// The heap of an expanded tree, or `None` if it does not fit in `N` slots or splits on a
    /// feature >= 256.
    fn build(e: &Expanded) -> Option<Self> {
        if e.slots.len() > N {
            return None;
        }
        let mut slots = Box::new(Slots {
            value: [u64::MAX; N],
            feature: [0; N],
        });
        let mut feature_bound = 0;
        for (k, slot) in e.slots.iter().enumerate() {
            match *slot {
                Slot::Split { feature, threshold } => {
                    slots.value[k] = threshold_key(threshold);
                    slots.feature[k] = u8::try_from(feature).ok()?;
                    feature_bound = feature_bound.max(feature as usize + 1);
                }
                Slot::Pass => {}
                Slot::Leaf(v) => slots.value[k] = v.to_bits(),
            }
        }
        Some(Heap {
            depth: e.depth,
            feature_bound,
            slots,
        })
    }

    /// Adds the path lengths of `rows` (split features < `rows.d`) to `acc` (padded length).
    fn add(&self, rows: &RowKeys<'_>, acc: &mut [f64]) {
        match rows.width {
            4 => self.add_padded::<4>(&rows.keys, acc),
            8 => self.add_padded::<8>(&rows.keys, acc),
            16 => self.add_padded::<16>(&rows.keys, acc),
            32 => self.add_padded::<32>(&rows.keys, acc),
            64 => self.add_padded::<64>(&rows.keys, acc),
            d => {
                let blocks = rows.keys.chunks_exact(LANES * d);
                for (block, acc) in blocks.zip(acc.chunks_exact_mut(LANES)) {
                    let lengths = self.walk(|lane, f| block[lane * d + f]);
                    for (a, l) in acc.iter_mut().zip(lengths) {
                        *a += l;
                    }
                }
            }
        }
    }

    fn add_padded<const W: usize>(&self, keys: &[u64], acc: &mut [f64]) {
        let (rows, _) = keys.as_chunks::<W>();
        let (blocks, _) = rows.as_chunks::<LANES>();
        let (accs, _) = acc.as_chunks_mut::<LANES>();
        for (block, acc) in blocks.iter().zip(accs) {
            let lengths = self.walk(|lane, f| block[lane][f & (W - 1)]);
            for (a, l) in acc.iter_mut().zip(lengths) {
                *a += l;
            }
        }
    }

    /// Path lengths of the [`LANES`] rows whose feature f in lane r has key `x(r, f)`.
    #[inline(always)]
    fn walk(&self, x: impl Fn(usize, usize) -> u64) -> [f64; LANES] {
        let slots = &*self.slots;
        let mut k = [1usize; LANES];
        for _ in 0..self.depth {
            for (lane, k) in k.iter_mut().enumerate() {
                // k < 2^depth <= N here; the mask only spares the bounds check
                let i = *k & (N - 1);
                let x = x(lane, slots.feature[i] as usize);
                *k = 2 * i + usize::from(slots.value[i] < x);
            }
        }
        k.map(|k| f64::from_bits(slots.value[k & (N - 1)]))
    }
}

impl Heap<512> {
    /// [`Heap::add`], through [`add_depth_8`] for depth 8.
    fn add_small(&self, rows: &RowKeys<'_>, acc: &mut [f64]) {
        if self.depth != 8 {
            return self.add(rows, acc);
        }
        let (accs, _) = acc.as_chunks_mut::<LANES>();
        match rows.width {
            4 => add_depth_8(
                &self.slots,
                rows.keys.as_chunks::<4>().0.as_chunks().0,
                accs,
            ),
            8 => add_depth_8(
                &self.slots,
                rows.keys.as_chunks::<8>().0.as_chunks().0,
                accs,
            ),
            16 => add_depth_8(
                &self.slots,
                rows.keys.as_chunks::<16>().0.as_chunks().0,
                accs,
            ),
            32 => add_depth_8(
                &self.slots,
                rows.keys.as_chunks::<32>().0.as_chunks().0,
                accs,
            ),
            64 => add_depth_8(
                &self.slots,
                rows.keys.as_chunks::<64>().0.as_chunks().0,
                accs,
            ),
            _ => self.add(rows, acc),
        }
    }
}

/// [`Heap::add_padded`] for depth 8, fully unrolled: the slot index after s steps is below
/// 2^(s+1), so the compiler needs neither index masks nor bounds checks. Not inlined, so that
/// register allocation sees only this loop.
#[inline(never)]
fn add_depth_8<const W: usize>(
    slots: &Slots<512>,
    blocks: &[[[u64; W]; LANES]],
    accs: &mut [[f64; LANES]],
) {
    for (block, acc) in blocks.iter().zip(accs) {
        let mut k = [1u32; LANES];
        step(slots, block, &mut k);
        step(slots, block, &mut k);
        step(slots, block, &mut k);
        step(slots, block, &mut k);
        step(slots, block, &mut k);
        step(slots, block, &mut k);
        step(slots, block, &mut k);
        step(slots, block, &mut k);
        for (a, k) in acc.iter_mut().zip(k) {
            *a += f64::from_bits(slots.value[k as usize]);
        }
    }
}

/// One step of every lane: `k = 2k + (x > threshold)`. Indexes are `u32`, which keeps the
/// compiler from spending instructions on 32-bit address arithmetic.
#[inline(always)]
fn step<const W: usize>(slots: &Slots<512>, block: &[[u64; W]; LANES], k: &mut [u32; LANES]) {
    for (row, k) in block.iter().zip(k.iter_mut()) {
        let i = *k as usize;
        let x = row[slots.feature[i] as usize & (W - 1)];
        *k = 2 * *k + u32::from(slots.value[i] < x);
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sampling;
    use rand::RngExt;

    /// A tree grown on `psi` random rows of the given original `features`, values in [-2, 2)
    /// or, when `coarse`, rounded to halves (ties and constant nodes).
    fn grown(psi: usize, features: &[usize], limit: u32, seed: u64, coarse: bool) -> Tree {
        let mut rng = sampling::stream(seed, 1);
        let columns: Vec<f64> = (0..psi * features.len())
            .map(|_| {
                let v = rng.random::<f64>() * 4.0 - 2.0;
                if coarse { (v * 2.0).round() / 2.0 } else { v }
            })
            .collect();
        let sample = Subsample {
            columns: &columns,
            n_rows: psi,
            features,
        };
        Tree::grow(&sample, limit, &mut rng)
    }

    /// Rows of `d` columns mixing random values, the tree's thresholds and their neighbours,
    /// and special values.
    pub(crate) fn probe_rows(trees: &[&Tree], d: usize, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = sampling::stream(seed, 2);
        let mut pool = vec![
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            1e300,
        ];
        for tree in trees {
            for node in tree.nodes().iter().filter(|n| n.threshold.is_finite()) {
                let t = node.threshold;
                pool.extend([t, t.next_up(), t.next_down(), -t]);
            }
        }
        (0..n * d)
            .map(|_| {
                if rng.random_bool(0.5) {
                    pool[rng.random_range(0..pool.len())]
                } else {
                    rng.random::<f64>() * 5.0 - 2.5
                }
            })
            .collect()
    }

    /// The fast walk gives exactly `path_length` for every probe row.
    fn check(tree: &Tree, d: usize, seed: u64) {
        let rows = probe_rows(&[tree], d, 997, seed);
        let mut acc = vec![0.0; rows.len() / d];
        tree.add_path_lengths(&rows, d, &mut acc);
        for (row, a) in rows.chunks_exact(d).zip(&acc) {
            let want = tree.path_length(row);
            assert_eq!(a.to_bits(), want.to_bits(), "row {row:?}: {a} != {want}");
        }
        // on top of existing sums, through shared keys
        let keys = RowKeys::new(&rows, d);
        let mut acc = vec![1.5; keys.len()];
        tree.add_path_lengths_keys(&keys, &mut acc);
        for (row, a) in rows.chunks_exact(d).zip(&acc) {
            assert_eq!(a.to_bits(), (1.5 + tree.path_length(row)).to_bits());
        }
    }

    #[test]
    fn contributions_are_the_log2_credit_of_every_split_on_the_path() {
        for (k, coarse) in [(0, false), (1, true)] {
            let tree = grown(256, &[0, 2, 3], 12, 40 + k, coarse);
            let rows = probe_rows(&[&tree], 4, 301, 9 + k);
            for row in rows.chunks_exact(4) {
                let mut want = vec![0.25; 4];
                let mut i = 0;
                while !tree.is_leaf(i) {
                    let node = tree.nodes[i];
                    let child = node.left as usize
                        + usize::from(row[node.feature as usize] > node.threshold);
                    let (parent_n, child_n) = (tree.sizes[i] as f64, tree.sizes[child] as f64);
                    if child_n > 0.0 && parent_n > 0.0 {
                        want[node.feature as usize] += libm::log2(parent_n / child_n);
                    }
                    i = child;
                }
                let mut got = vec![0.25; 4];
                tree.add_contributions(row, &mut got);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{row:?}");
            }
            // blocks of rows walked together: the same sums, whatever the leaves' depths
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let n = rows.len() / 4 / CONTRIBUTION_LANES * CONTRIBUTION_LANES;
            let mut together: Vec<f64> = (rows.chunks_exact(4).take(n))
                .flat_map(|row| row.iter().copied().chain([0.25; 4]))
                .collect();
            tree.add_contributions_rows(&mut together, 4);
            for (row, got) in rows.chunks_exact(4).zip(together.chunks_exact(8)) {
                let mut alone = vec![0.25; 4];
                tree.add_contributions(row, &mut alone);
                assert_eq!(
                    bits(got),
                    bits(row)
                        .into_iter()
                        .chain(bits(&alone))
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    fn depth_of(layout: &Layout) -> Option<u32> {
        match layout {
            Layout::Small(h) => Some(h.depth),
            Layout::Large(h) => Some(h.depth),
            Layout::Nodes => None,
        }
    }

    #[test]
    fn keys_order_like_values() {
        let values = [
            f64::NEG_INFINITY,
            f64::MIN,
            -2.5,
            -1.0,
            -f64::MIN_POSITIVE,
            -5e-324,
            0.0,
            5e-324,
            f64::MIN_POSITIVE,
            1.0,
            1.0f64.next_up(),
            f64::MAX,
            f64::INFINITY,
        ];
        for &a in &values {
            for &b in &values {
                assert_eq!(key(a) > threshold_key(b), a > b, "{a} > {b}");
            }
            assert!(key(f64::NAN) <= threshold_key(a) && key(-f64::NAN) <= threshold_key(a));
            assert!(key(a) <= threshold_key(f64::NAN));
        }
        assert_eq!(key(-0.0), key(0.0));
        assert!(key(0.0) <= threshold_key(-0.0) && key(-0.0) <= threshold_key(0.0));
    }

    #[test]
    fn heap_walk_equals_path_length() {
        // (psi, features, d, depth limit, coarse, expected heap depth: None when unknown or
        // walked on the nodes)
        type Case<'a> = (usize, &'a [usize], usize, u32, bool, Option<u32>);
        let features4 = [0, 1, 2, 3];
        let features6 = [0, 1, 2, 3, 4, 5];
        let features12: Vec<usize> = (0..12).collect();
        let features20: Vec<usize> = (0..20).collect();
        let cases: &[Case] = &[
            (1, &features4, 4, 8, false, Some(0)),
            (256, &[2], 4, 1, false, Some(1)),
            (10, &features4, 4, 4, false, Some(4)),
            (256, &features4, 4, 8, false, Some(8)),
            (256, &features4, 4, 8, true, None),
            (256, &features6, 6, 8, false, Some(8)),
            (200, &features12, 12, 8, false, Some(8)),
            (256, &features20, 20, 8, false, Some(8)),
            (256, &[0, 33, 69], 70, 8, false, Some(8)),
            (300, &[1, 5], 7, 9, false, Some(9)),
            (600, &features4, 5, 10, true, None),
            (4096, &features4, 4, 12, false, Some(12)),
            (4096, &features20, 20, 12, false, Some(12)),
            (16384, &[0, 1], 2, 14, false, None),
        ];
        for (i, &(psi, features, d, limit, coarse, want)) in cases.iter().enumerate() {
            let tree = grown(psi, features, limit, i as u64, coarse);
            match want {
                Some(depth) => {
                    assert_eq!(tree.depth(), depth, "case {i}");
                    assert_eq!(depth_of(&tree.layout), Some(depth), "case {i}");
                }
                // coarse data: leaves at several depths; depth > 12: walked on the nodes
                None if tree.depth() > HEAP_MAX_DEPTH => assert_eq!(tree.layout, Layout::Nodes),
                None => assert_eq!(depth_of(&tree.layout), Some(tree.depth()), "case {i}"),
            }
            check(&tree, d, i as u64);
        }
    }

    #[test]
    fn features_beyond_a_byte_walk_the_nodes() {
        let tree = grown(256, &[3, 300], 8, 7, false);
        assert!(tree.split_features().any(|f| f == 300));
        assert_eq!(tree.layout, Layout::Nodes);
        check(&tree, 301, 7);
    }

    #[test]
    fn deserialized_trees_rebuild_their_layout() {
        for (psi, limit) in [(256, 8), (1000, 10), (1, 8)] {
            let tree = grown(psi, &[0, 1, 2], limit, 3, false);
            let json = serde_json::to_string(&tree).unwrap();
            let back: Tree = serde_json::from_str(&json).unwrap();
            assert_eq!(back, tree);
            assert_eq!(depth_of(&back.layout), Some(tree.depth()));
            check(&back, 3, 3);
        }
    }
}

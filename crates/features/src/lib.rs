//! Feature engineering: turns a validated [`LogTable`](webthreat_ingest::LogTable) into a
//! [`FeatureMatrix`](webthreat_core::FeatureMatrix).
//!
//! A [`FeatureSpec`] lists features by name (see [`Feature`] for the vocabulary): raw numeric
//! columns, the seed's derived features (`session_duration`, `avg_packet_size`), transforms
//! (`log1p(x)`), ratios, time of day, per-source-IP window aggregates computed with polars, and
//! categorical encodings of text columns (`onehot(col)`, `freq(col)`, see [`categories`]).
//! [`Scaler`] standardises the result (none, standard, robust) with parameters that serialize,
//! so new data can be scaled exactly like the training data.

mod baseline;
mod build;
pub mod categories;
mod context;
mod error;
mod facts;
mod scale;
mod spec;

pub use build::{build_matrix, numeric_columns, window_numbers};
pub use categories::{CategoryCounter, Vocabulary};
pub use context::{PairAnalysis, PairKey, PairScores, RowContext};
pub use error::FeatureError;
pub use facts::{Addresses, Coded, LogColumns};
pub use scale::{Scaler, Scaling};
pub use spec::{DEFAULT_WINDOW_SECONDS, Feature, FeatureSpec};

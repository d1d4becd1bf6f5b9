//! Serde for tree nodes as plain 64 lowercase hex digits.
//!
//! Content digests in records are spelled `sha256:<hex>`; Merkle roots, path entries and
//! batch-header links are hashes of tree structure rather than of content, so they are
//! spelled without the prefix. Use as `#[serde(with = "crate::merkle::node_hex")]` for
//! one node and `#[serde(with = "crate::merkle::node_hex::path")]` for an inclusion path.

use std::borrow::Cow;
use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::Sha256Digest;

/// Length of a node in hex digits.
const HEX_LEN: usize = 64;

pub(crate) fn serialize<S: Serializer>(node: &Sha256Digest, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&node.to_hex())
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Sha256Digest, D::Error> {
    let text = <Cow<'de, str>>::deserialize(d)?;
    if text.len() != HEX_LEN {
        return Err(de::Error::custom(format_args!(
            "expected {HEX_LEN} lowercase hex digits for a tree node, found {} bytes",
            text.len()
        )));
    }
    Sha256Digest::parse_hex(&text).map_err(|e| de::Error::custom(format_args!("tree node: {e}")))
}

/// One node inside a sequence, borrowed for serializing.
struct NodeRef<'a>(&'a Sha256Digest);

impl Serialize for NodeRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize(self.0, s)
    }
}

/// One node inside a sequence, owned for deserializing.
struct Node(Sha256Digest);

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d).map(Node)
    }
}

/// An inclusion path: a JSON array of at most [`MAX_PATH_LEN`](super::MAX_PATH_LEN)
/// nodes. Longer arrays are refused while parsing, before they are stored.
pub(crate) mod path {
    use super::*;
    use crate::merkle::MAX_PATH_LEN;

    pub(crate) fn serialize<S: Serializer>(path: &[Sha256Digest], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(path.iter().map(NodeRef))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Sha256Digest>, D::Error> {
        d.deserialize_seq(PathVisitor)
    }

    struct PathVisitor;

    impl<'de> de::Visitor<'de> for PathVisitor {
        type Value = Vec<Sha256Digest>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an array of at most {MAX_PATH_LEN} tree nodes")
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let capacity = seq.size_hint().unwrap_or(0).min(MAX_PATH_LEN);
            let mut path = Vec::with_capacity(capacity);
            while let Some(Node(node)) = seq.next_element()? {
                if path.len() >= MAX_PATH_LEN {
                    return Err(de::Error::invalid_length(
                        path.len().saturating_add(1),
                        &self,
                    ));
                }
                path.push(node);
            }
            Ok(path)
        }
    }
}

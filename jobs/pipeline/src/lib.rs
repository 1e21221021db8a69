//! What dw's cluster jobs share: the tweet model, the LabMT scorer, attribution to candidates,
//! windows, and the source/sink URLs of both jobs.

pub mod attribution;
pub mod bluesky;
pub mod byte_masks;
pub mod chars;
pub mod classify;
pub mod dedupe;
pub mod endpoint;
pub mod error;
pub mod fasthash;
pub mod job;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod labmt;
pub mod lines;
pub mod member;
pub mod post;
pub mod results;
#[cfg(feature = "s3")]
pub mod s3;
pub mod score;
pub mod status;
#[cfg(feature = "testkit")]
pub mod testkit;
#[cfg(test)]
mod testkit_texts;
pub mod text;
pub mod tweet;
pub mod vader;
pub mod window;

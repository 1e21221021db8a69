//! The launch, in the order it happens: quotes (`crate::spot`) -> [`build::build`] (plain data;
//! `--dry-run` prints it) -> its scripts rendered ([`render`], chosen by `crate::bootstrap` and
//! `crate::steps`) and its objects content-addressed (`artifacts`) -> [`stage`] (uploads what is
//! not there) -> [`request`] (RunJobFlow built from the plan). Waiting on the cluster and its
//! lifecycle afterwards are in `crate::cluster`.

pub(crate) mod artifacts;
pub(crate) mod build;
pub(crate) mod plan;
pub(crate) mod render;
pub(crate) mod request;
mod scripts;
pub(crate) mod stage;

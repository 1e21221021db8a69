//! The job's errors: [`dw_pipeline::error::JobError`], shared with the other job.

pub(crate) use dw_pipeline::error::JobError as Error;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

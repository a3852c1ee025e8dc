//! Small pieces shared by the layers.

pub(crate) mod error;
pub(crate) mod park;

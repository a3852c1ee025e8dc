//! Small pieces shared by the layers.

pub(crate) mod error;
pub(crate) mod local;
pub(crate) mod park;
pub(crate) mod pin;

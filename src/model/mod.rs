//! The model of docs/model.md: parameters, customers, the social network, the stakeholder graph
//! and one function per equation. Pure: no IO, no clock, no threads.

pub mod customer;
pub mod customers;
pub mod distributions;
pub mod economics;
pub mod isa;
pub mod math;
pub mod memory;
pub mod network;
pub mod params;
pub mod partners;
pub mod relationship;
pub mod rng;
pub mod special;
pub mod stakeholders;
pub mod workers;

pub use params::ModelParams;
pub use relationship::{Episode, Relationship};

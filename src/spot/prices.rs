//! On-demand prices (Linux, us-east-1, $/hour, EC2 only: EMR's own per-instance fee comes on
//! top), for quotes, cost estimates and the backtest: the config's `[spot.on_demand]` first,
//! then the built-in table (`OnDemand`, the one lookup every command uses). Override with
//! `--on-demand-price`.

use std::collections::BTreeMap;

use crate::units::Dollars;

/// The built-in table: 2016 list prices of the types the team uses.
const ON_DEMAND_US_EAST_1: &[(&str, f64)] = &[
    ("t1.micro", 0.020),
    ("m1.small", 0.044),
    ("m1.medium", 0.087),
    ("m1.large", 0.175),
    ("m1.xlarge", 0.350),
    ("m3.medium", 0.067),
    ("m3.large", 0.133),
    ("m3.xlarge", 0.266),
    ("m3.2xlarge", 0.532),
    ("m4.large", 0.120),
    ("m4.xlarge", 0.239),
    ("c3.xlarge", 0.210),
    ("c3.2xlarge", 0.420),
    ("c4.xlarge", 0.209),
    ("r3.xlarge", 0.333),
    ("r3.2xlarge", 0.665),
    // The other types of the shipped 2016 records (tests/fixtures/spot/more-2016).
    ("c1.medium", 0.130),
    ("m4.10xlarge", 2.394),
    ("d2.xlarge", 0.690),
    ("d2.2xlarge", 1.380),
    ("d2.8xlarge", 5.520),
    ("g2.8xlarge", 2.600),
    ("hi1.4xlarge", 3.100),
    ("cr1.8xlarge", 3.500),
];

fn built_in(instance_type: &str) -> Option<f64> {
    ON_DEMAND_US_EAST_1
        .iter()
        .find(|(t, _)| *t == instance_type)
        .map(|(_, p)| *p)
}

/// On-demand prices: the configuration's `[spot.on_demand]`, else the built-in table.
#[derive(Debug, Clone, Copy)]
pub struct OnDemand<'a> {
    overrides: &'a BTreeMap<String, Dollars>,
}

impl<'a> OnDemand<'a> {
    pub fn new(overrides: &'a BTreeMap<String, Dollars>) -> OnDemand<'a> {
        OnDemand { overrides }
    }

    /// The price of `instance_type` in $/hour, if known.
    pub fn price(&self, instance_type: &str) -> Option<f64> {
        self.overrides
            .get(instance_type)
            .map(|d| d.get())
            .or_else(|| built_in(instance_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_comes_before_the_table() {
        let none = BTreeMap::new();
        assert_eq!(OnDemand::new(&none).price("m3.large"), Some(0.133));
        assert_eq!(OnDemand::new(&none).price("x9.huge"), None);
        let mut cheaper = BTreeMap::new();
        cheaper.insert("m3.large".to_string(), Dollars::try_from(0.1).unwrap());
        assert_eq!(OnDemand::new(&cheaper).price("m3.large"), Some(0.1));
        assert_eq!(OnDemand::new(&cheaper).price("m3.medium"), Some(0.067));
    }
}

//! On-demand prices (Linux, us-east-1, $/hour, EC2 only: EMR's own per-instance fee comes on
//! top), for cost estimates and the backtest. Override with `--on-demand-price`.

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

pub fn on_demand(instance_type: &str) -> Option<f64> {
    ON_DEMAND_US_EAST_1
        .iter()
        .find(|(t, _)| *t == instance_type)
        .map(|(_, p)| *p)
}

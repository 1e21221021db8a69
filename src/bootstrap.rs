//! Which bootstrap actions a cluster plan has, in the order EMR runs them on every node.

pub(crate) mod scorers;

use crate::units::ReleaseLabel;

/// A bootstrap action: the template it is rendered from and the name it is staged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BootstrapAction {
    pub name: &'static str,
    pub template: &'static str,
    pub description: &'static str,
}

const INSTALL_DW: BootstrapAction = BootstrapAction {
    name: "install-dw.sh",
    template: "bootstrap/install-dw.sh",
    description: "Install dw's job binaries and step scripts",
};
const ZOOKEEPER: BootstrapAction = BootstrapAction {
    name: "zookeeper.sh",
    template: "bootstrap/zookeeper.sh",
    description: "Install and start ZooKeeper (master)",
};
const KAFKA: BootstrapAction = BootstrapAction {
    name: "kafka.sh",
    template: "bootstrap/kafka.sh",
    description: "Install and start Kafka (master)",
};
const SCORERS: BootstrapAction = BootstrapAction {
    name: "scorers.sh",
    template: "bootstrap/scorers.sh",
    description: "Start the scorers (core and task nodes)",
};
const GANGLIA: BootstrapAction = BootstrapAction {
    name: "ganglia.sh",
    template: "bootstrap/ganglia.sh",
    description: "Install Ganglia (before emr-4.2.0)",
};
const WATCHDOG: BootstrapAction = BootstrapAction {
    name: "watchdog.sh",
    template: "bootstrap/watchdog.sh",
    description: "Arm the deadline watchdog (master)",
};

/// The bootstrap actions for `release`: Ganglia is an EMR application from emr-4.2.0 and a
/// bootstrap action before it.
pub(crate) fn actions(release: ReleaseLabel) -> Vec<BootstrapAction> {
    let mut out = vec![INSTALL_DW, ZOOKEEPER, KAFKA, SCORERS];
    if !release.has_ganglia_application() {
        out.push(GANGLIA);
    }
    out.push(WATCHDOG);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ganglia_is_a_bootstrap_action_only_before_4_2() {
        let names =
            |r: &str| -> Vec<&str> { actions(r.parse().unwrap()).iter().map(|a| a.name).collect() };
        assert_eq!(
            names("emr-4.1.0"),
            [
                "install-dw.sh",
                "zookeeper.sh",
                "kafka.sh",
                "scorers.sh",
                "ganglia.sh",
                "watchdog.sh"
            ]
        );
        assert_eq!(
            names("emr-4.2.0"),
            [
                "install-dw.sh",
                "zookeeper.sh",
                "kafka.sh",
                "scorers.sh",
                "watchdog.sh"
            ]
        );
    }
}

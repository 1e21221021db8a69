//! The node sandbox: the bootstrap actions and steps that `dw cluster up` staged (on moto) run
//! for real, as EMR would run them, on two "core" nodes and a "master", each rooted in its own
//! temporary directory. ZooKeeper comes from a tarball assembled from Debian's package and must
//! answer `imok`; Kafka is a stand-in tarball with Kafka's layout whose scripts run the Tansu
//! broker (Apache Kafka cannot be fetched here). The cores' scorers start before the master's
//! broker exists and join the group when it does; the stream serves 20,000 real-shaped tweets to
//! dw-ingest; one core's scorer is killed with SIGKILL mid-run (right after it wrote a window,
//! before it committed); the survivor takes its partitions over, and the merger's windows on S3 equal
//! one dw-score's over the same tweets: every sum, every standout. Everything on the master runs
//! twice, to show it is idempotent. A second sandbox replays a past debate from a gzip archive on
//! S3 (`up --replay`) through the same path and ends when it is scored. Needs the peers of
//! scripts/test.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads as one scenario, top to bottom; the 100-line limit is for the code"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{dw_at, moto_endpoint, run};
use dw_pipeline::testkit::{assert_same_windows, windows_by_start, windows_in_file};
use sha2::Digest;

/// What dw-ingest streams on the sandbox's master.
enum Live {
    /// Twitter's v1.1 stream stand-in on this port.
    Twitter(u16),
    /// Jetstream instances (`jetstream+ws://...`).
    Bluesky(String),
}

struct Peers {
    moto: String,
    tansu: String,
}

fn peers() -> Option<Peers> {
    let moto = moto_endpoint()?;
    let tansu = std::env::var("DW_TANSU_BIN").ok();
    let ready = tansu.is_some()
        && Path::new("/usr/share/java/zookeeper.jar").exists()
        && which("java")
        && which("aws")
        && Path::new(env!("CARGO_BIN_EXE_dw"))
            .with_file_name("dw-ingest")
            .exists();
    if !ready {
        assert!(
            std::env::var("DW_REQUIRE_PEERS").is_err(),
            "the sandbox needs Tansu, Debian's zookeeper, java, the AWS CLI and the job binaries: run scripts/test"
        );
        eprintln!("skipped: sandbox peers missing (run scripts/test)");
        return None;
    }
    Some(Peers {
        moto,
        tansu: tansu.unwrap(),
    })
}

fn which(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sh(cmd: &str, dir: &Path) {
    let ok = Command::new("bash")
        .args(["-c", cmd])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(ok.success(), "{cmd}");
}

fn write_exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// ZooKeeper's layout from Debian's jars (their manifest names their dependencies).
fn zookeeper_tarball(build: &Path) -> Vec<u8> {
    let top = build.join("zookeeper-3.8.0");
    std::fs::create_dir_all(top.join("lib")).unwrap();
    std::fs::create_dir_all(top.join("conf")).unwrap();
    std::fs::copy(
        "/usr/share/java/zookeeper.jar",
        top.join("zookeeper-3.8.0.jar"),
    )
    .unwrap();
    std::fs::copy(
        "/usr/share/java/zookeeper-jute.jar",
        top.join("lib/zookeeper-jute-3.8.0.jar"),
    )
    .unwrap();
    sh("tar -czf zookeeper.tgz zookeeper-3.8.0", build);
    std::fs::read(build.join("zookeeper.tgz")).unwrap()
}

/// A stand-in with Kafka's layout whose scripts run Tansu.
fn kafka_tarball(build: &Path, tansu: &str) -> Vec<u8> {
    let top = build.join("kafka_2.11-1.1.1");
    let listener = r#"listener=$(sed -n 's/^listeners=PLAINTEXT:\/\///p' "$(dirname "$0")/../config/server.properties")"#;
    write_exe(
        &top.join("bin/kafka-server-start.sh"),
        &format!(
            "#!/usr/bin/env bash\n# Stand-in: Tansu on the listener of server.properties.\nset -eu\n{listener}\nexec '{tansu}' broker --listener-url \"tcp://$listener\" --advertised-listener-url \"tcp://$listener\" --storage-engine memory://tansu/\n"
        ),
    );
    write_exe(
        &top.join("bin/kafka-topics.sh"),
        &format!(
            "#!/usr/bin/env bash\n# Stand-in: kafka-topics.sh --create [--if-not-exists] --partitions N --topic T through Tansu.\nset -eu\n{listener}\n\
             topic=\"\"; partitions=1; if_not_exists=\"\"\n\
             while [ $# -gt 0 ]; do case \"$1\" in --topic) topic=$2; shift;; --partitions) partitions=$2; shift;; --if-not-exists) if_not_exists=1;; esac; shift; done\n\
             if '{tansu}' topic create --broker \"tcp://$listener\" --partitions \"$partitions\" \"$topic\"; then exit 0; fi\n\
             [ -n \"$if_not_exists\" ] && '{tansu}' topic list --broker \"tcp://$listener\" | grep -q \"\\\"name\\\":\\\"$topic\\\"\"\n"
        ),
    );
    std::fs::create_dir_all(top.join("config")).unwrap();
    std::fs::write(
        top.join("config/server.properties"),
        "# replaced by the bootstrap action\n",
    )
    .unwrap();
    sh("tar -czf kafka.tgz kafka_2.11-1.1.1", build);
    std::fs::read(build.join("kafka.tgz")).unwrap()
}

fn sha512(bytes: &[u8]) -> String {
    sha2::Sha512::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Kills every process a node's pid files name (the test started them, through the scripts).
struct Node {
    log_dir: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.log_dir) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "pid")
                    && let Ok(pid) = std::fs::read_to_string(e.path())
                {
                    let _ = Command::new("kill").arg(pid.trim()).status();
                }
            }
        }
    }
}

fn ruok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"ruok");
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply == "imok"
}

/// The sandboxes run one at a time: each runs a broker, ZooKeeper and three nodes' jobs.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A cluster launched on moto by `dw cluster up`, and the nodes that run what it staged: the
/// master under the config's paths, the cores each under its own root (`DW_NODE_ROOT`).
struct Sandbox {
    /// First, so that it drops first (on a failure too): the nodes' processes are killed
    /// while their pid files still exist.
    guards: Vec<Node>,
    moto: String,
    tansu: String,
    _dir: tempfile::TempDir,
    root: PathBuf,
    bucket: String,
    node: PathBuf,
    home: PathBuf,
    mnt: PathBuf,
    info: PathBuf,
    binaries: PathBuf,
    config_path: PathBuf,
    zk_port: u16,
    kafka_port: u16,
    id: String,
    actions: Vec<String>,
    steps: Vec<Vec<String>>,
    rt: tokio::runtime::Runtime,
}

impl Sandbox {
    /// Stages and launches the `debate`'s cluster on moto; `live`: what dw-ingest streams.
    fn launch(p: Peers, debate: &str, live: Option<&Live>, up_extra: &[&str]) -> Sandbox {
        let mut dir = tempfile::tempdir().unwrap();
        // By hand: DW_SANDBOX_KEEP=1 leaves the nodes' directories (and logs) for a look.
        if std::env::var_os("DW_SANDBOX_KEEP").is_some() {
            dir.disable_cleanup(true);
            eprintln!("sandbox kept in {}", dir.path().display());
        }
        let root = dir.path().to_path_buf();
        let bucket = format!("dw-sandbox-{}-{debate}", std::process::id());
        common::s3_put(&p.moto, &format!("/{bucket}"), b"");
        let build = root.join("build");
        std::fs::create_dir_all(&build).unwrap();
        let zk = zookeeper_tarball(&build);
        let kafka = kafka_tarball(&build, &p.tansu);
        common::s3_put(
            &p.moto,
            &format!("/{bucket}/mirror/zookeeper-3.8.0.tgz"),
            &zk,
        );
        common::s3_put(
            &p.moto,
            &format!("/{bucket}/mirror/kafka_2.11-1.1.1.tgz"),
            &kafka,
        );
        common::s3_put(&p.moto, &format!("/{bucket}/secrets/twitter.json"),
            br#"{"consumer_key":"ck","consumer_secret":"cs","access_token":"at","access_token_secret":"ats"}"#);

        let node = root.join("node");
        let (home, mnt) = (node.join("home/hadoop"), node.join("mnt"));
        let info = mnt.join("var/lib/info/instance.json");
        let (zk_port, kafka_port) = (free_port(), free_port());
        // By hand, DW_SANDBOX_BINARIES=DIR runs other job builds (the EMR ones, to measure).
        let binaries = std::env::var_os("DW_SANDBOX_BINARIES").map_or_else(
            || {
                Path::new(env!("CARGO_BIN_EXE_dw"))
                    .parent()
                    .unwrap()
                    .to_path_buf()
            },
            PathBuf::from,
        );
        let stream = match live {
            Some(Live::Twitter(port)) => {
                format!("\nurl = \"http://127.0.0.1:{port}/1.1/statuses/filter.json\"")
            }
            _ => String::new(),
        };
        let mut fixture = std::fs::read_to_string(common::fixture("render/dw-4.2.0.toml")).unwrap();
        if let Some(Live::Bluesky(url)) = live {
            fixture = fixture.replace(
                "source = \"twitter-v1\"\ncredentials = \"ssm:/dw/twitter\"\n",
                &format!("source = \"bluesky\"\nurl = \"{url}\"\nlang = \"en\"\n"),
            );
        }
        let config = fixture
            .replace("bucket = \"dw-debate-watch\"", &format!("bucket = \"{bucket}\""))
            .replace("debates = \"../../../configs/debates.toml\"", &format!("debates = \"{}\"", common::repo().join("configs/debates.toml").display()))
            .replace("binaries = \"bin\"", &format!("binaries = \"{}\"", binaries.display()))
            .replace("https://archive.apache.org/dist/zookeeper/zookeeper-3.4.14/zookeeper-3.4.14.tar.gz", &format!("s3://{bucket}/mirror/zookeeper-3.8.0.tgz"))
            .replace("https://archive.apache.org/dist/kafka/1.1.1/kafka_2.11-1.1.1.tgz", &format!("s3://{bucket}/mirror/kafka_2.11-1.1.1.tgz"))
            .replace(&"ab".repeat(64), &sha512(&zk))
            .replace(&"cd".repeat(64), &sha512(&kafka))
            .replace("client_port = 2181", &format!("client_port = {zk_port}"))
            .replace("port = 9092", &format!("port = {kafka_port}"))
            .replace("partitions = 6", "partitions = 3")
            .replace("credentials = \"ssm:/dw/twitter\"", &format!("credentials = \"s3://{bucket}/secrets/twitter.json\"{stream}"))
            .replace("health_timeout = \"5m\"", "health_timeout = \"60s\"")
            + &format!(
                "\n[node]\nhome = \"{}\"\nmnt = \"{}\"\ninstance_json = \"{}\"\njob_flow_json = \"{}\"\nhostname = \"127.0.0.1\"\nshutdown = \"touch {}\"\n",
                home.display(), mnt.display(), info.display(), info.with_file_name("job-flow.json").display(), node.join("shutdown-called").display()
            );
        let config_path = root.join("dw.toml");
        std::fs::write(&config_path, config).unwrap();

        // Stage and launch on moto, as for real.
        let mut up = dw_at(&p.moto);
        up.arg("--config")
            .arg(&config_path)
            .env("DW_LOCK_DIR", &root)
            .args([
                "cluster",
                "up",
                "--force",
                "--unchecked-binaries",
                "--debate",
                debate,
                "--no-wait",
                "--output",
                "json",
                "--at",
                "2016-04-01T07:00:00Z",
            ])
            .args(up_extra);
        for h in common::m3_large_history() {
            up.args(["--history", &h]);
        }
        let r = run(&mut up);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let launched: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            launched["already_running"], false,
            "a cluster for {debate} was left on this moto server by an earlier run"
        );
        let id = launched["cluster_id"].as_str().unwrap().to_string();

        // What EMR would run: the bootstrap actions' scripts and the steps' command lines.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let emr = aws_sdk_emr::Client::new(&rt.block_on(sdk_config(&p.moto)));
        let (actions, steps) = rt.block_on(async {
            let b = emr
                .list_bootstrap_actions()
                .cluster_id(&id)
                .send()
                .await
                .unwrap();
            let s = emr.list_steps().cluster_id(&id).send().await.unwrap();
            let actions: Vec<String> = b
                .bootstrap_actions()
                .iter()
                .map(|a| a.script_path().unwrap().to_string())
                .collect();
            let mut steps: Vec<Vec<String>> = s
                .steps()
                .iter()
                .map(|s| s.config().unwrap().args().to_vec())
                .collect();
            steps.reverse();
            (actions, steps)
        });
        let guards = vec![Node {
            log_dir: mnt.join("var/log/dw"),
        }];
        Sandbox {
            moto: p.moto,
            tansu: p.tansu,
            _dir: dir,
            root,
            bucket,
            node,
            home,
            mnt,
            info,
            binaries,
            config_path,
            zk_port,
            kafka_port,
            id,
            actions,
            steps,
            rt,
            guards,
        }
    }

    /// What EMR gives a node's scripts: AWS access (here moto's).
    fn env(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", &self.moto)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true");
    }

    /// Downloads the `n`th bootstrap action and runs it; success and its stderr.
    fn run_action(&self, n: usize, node_env: &dyn Fn(&mut Command)) -> (bool, String) {
        let uri = &self.actions[n];
        let script = self.root.join(format!("action-{n}.sh"));
        let mut get = Command::new("aws");
        self.env(&mut get);
        let ok = get
            .args(["s3", "cp", "--only-show-errors", uri])
            .arg(&script)
            .status()
            .unwrap();
        assert!(ok.success(), "download {uri}");
        let mut bash = Command::new("bash");
        self.env(&mut bash);
        node_env(&mut bash);
        let out = bash.arg(&script).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `path` (one of the config's absolute node paths) on core node `n`.
    fn on_core(&self, n: u32, path: &Path) -> PathBuf {
        self.root
            .join(format!("core-{n}"))
            .join(path.strip_prefix("/").unwrap())
    }

    /// Core node `n`: every bootstrap action; it installs the binaries and step scripts and
    /// starts one scorer (before any broker exists: it joins the group when the master has
    /// one). `failpoint`: when its scorer is to die by SIGKILL.
    fn start_core(&mut self, n: u32, failpoint: Option<&str>) {
        let croot = self.root.join(format!("core-{n}"));
        let cinfo = self.on_core(n, &self.info);
        std::fs::create_dir_all(cinfo.parent().unwrap()).unwrap();
        std::fs::write(
            &cinfo,
            r#"{"isMaster": false, "instanceGroupId": "ig-core"}"#,
        )
        .unwrap();
        std::fs::write(
            cinfo.with_file_name("job-flow.json"),
            r#"{"jobFlowId": "j-sandbox", "masterPrivateDnsName": "127.0.0.1", "instanceCount": 3}"#,
        )
        .unwrap();
        self.guards.push(Node {
            log_dir: self.on_core(n, &self.mnt).join("var/log/dw"),
        });
        for i in 0..self.actions.len() {
            let (ok, log) = self.run_action(i, &|cmd: &mut Command| {
                cmd.env("DW_NODE_ROOT", &croot)
                    .env("DW_NODE_NAME", format!("core-{n}"));
                if let Some(f) = failpoint {
                    cmd.env("DW_SCORE_FAILPOINT", f);
                }
            });
            assert!(ok, "core-{n}: {}\n{log}", self.actions[i]);
        }
        let chome = self.on_core(n, &self.home);
        for bin in ["dw-ingest", "dw-score"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(chome.join("bin").join(bin))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o755, "core-{n}: {bin}");
        }
        assert!(!chome.join("zookeeper").exists() && !chome.join("kafka").exists());
        let pid = self.on_core(n, &self.mnt).join("var/log/dw/dw-score-1.pid");
        assert!(pid.is_file(), "core-{n} started its scorer");
    }

    /// The master: every bootstrap action (`round` 1: a second time).
    fn master_actions(&self, round: u32) {
        std::fs::create_dir_all(self.info.parent().unwrap()).unwrap();
        std::fs::write(
            &self.info,
            r#"{"isMaster": true, "instanceGroupId": "ig-master"}"#,
        )
        .unwrap();
        for n in 0..self.actions.len() {
            let a = &self.actions[n];
            let (ok, log) = self.run_action(n, &|_: &mut Command| {});
            assert!(ok, "master round {round}: {a}\n{log}");
            if round == 1 && a.ends_with("/zookeeper.sh") {
                assert!(
                    log.contains("ZooKeeper is already running and healthy"),
                    "{log}"
                );
            }
        }
        assert!(ruok(self.zk_port), "ZooKeeper answers imok");
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", self.kafka_port)).is_ok(),
            "Kafka listens"
        );
    }

    /// Runs a step's command line on the master, as command-runner.jar would.
    fn run_step(&self, step: &[String]) -> std::process::Output {
        let mut cmd = Command::new(&step[0]);
        self.env(&mut cmd);
        cmd.args(&step[1..]).output().unwrap()
    }

    /// The merged windows of `debate` once they count `served` posts (four minutes at most).
    fn merged_windows(&self, debate: &str, served: usize) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let windows = self.results(debate, "windows");
            let counted: u64 = windows.iter().map(|w| w["tweets"].as_u64().unwrap()).sum();
            if counted >= served as u64 {
                return windows;
            }
            assert!(
                start.elapsed() < Duration::from_mins(4),
                "the merged windows count {counted} of {served} posts; the logs:{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// The objects under `<results>/<debate>/<folder>/`, parsed.
    fn results(&self, debate: &str, folder: &str) -> Vec<serde_json::Value> {
        self.rt.block_on(async {
            let s3 = dw_pipeline::s3::client(&sdk_config(&self.moto).await);
            let prefix = format!("dw/results/{debate}/{folder}/");
            let keys: Vec<String> = dw_pipeline::s3::list_with_etags(&s3, &self.bucket, &prefix)
                .await
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            dw_pipeline::s3::get_many(&s3, &self.bucket, &keys)
                .await
                .unwrap()
                .into_iter()
                .map(|(_, b)| serde_json::from_slice(&b).unwrap())
                .collect()
        })
    }

    /// The tails of every job's log on every node (for a failure's message).
    fn logs(&self) -> String {
        let mut dirs = vec![self.mnt.join("var/log/dw")];
        dirs.extend([1, 2].map(|n| self.on_core(n, &self.mnt).join("var/log/dw")));
        let mut out = String::new();
        for d in dirs {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().extension().is_some_and(|x| x == "log") {
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    let tail: Vec<&str> = text.lines().rev().take(15).collect();
                    out += &format!(
                        "\n== {}\n{}",
                        e.path().display(),
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    );
                }
            }
        }
        out
    }

    /// The staged scorers action, as a node downloaded it.
    fn scorers_action(&self) -> PathBuf {
        let n = self
            .actions
            .iter()
            .position(|a| a.ends_with("/scorers.sh"))
            .unwrap();
        self.root.join(format!("action-{n}.sh"))
    }

    /// `dw cluster status` of this cluster (what the operator sees).
    fn status(&self) -> String {
        let status = run(dw_at(&self.moto)
            .arg("--config")
            .arg(&self.config_path)
            .args(["cluster", "status", "--cluster-id", &self.id]));
        assert_eq!(status.code, 0, "{}", status.stderr);
        status.stdout
    }

    fn down(self) {
        let (moto, config, id) = (self.moto.clone(), self.config_path.clone(), self.id.clone());
        drop(self.guards);
        let down = run(dw_at(&moto).arg("--config").arg(&config).args([
            "cluster",
            "down",
            "--cluster-id",
            &id,
            "--no-wait",
        ]));
        assert_eq!(down.code, 0, "{}", down.stderr);
    }
}

async fn sdk_config(moto: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(moto)
        .credentials_provider(aws_sdk_emr::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

/// A stream like Twitter's v1.1 with `delimited=length`: `lines` on the first connection, then
/// keep-alives. Returns its port.
fn stream_server(lines: Vec<String>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut to_serve = Some(lines);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let tweets = to_serve.take().unwrap_or_default();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                );
                for t in tweets {
                    let chunk = format!("{}\r\n{t}\r\n", t.len() + 2);
                    if write!(s, "{:x}\r\n{chunk}\r\n", chunk.len()).is_err() {
                        return;
                    }
                }
                while s.write_all(b"2\r\n\r\n\r\n").is_ok() {
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
        }
    });
    port
}

#[test]
fn bootstrap_actions_and_steps_run_on_a_master_and_two_core_nodes() {
    let Some(p) = peers() else { return };
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let lines = tweets(20_000);
    let port = stream_server(lines.clone());
    let mut sb = Sandbox::launch(p, "2016-03-10", Some(&Live::Twitter(port)), &[]);
    // core-2's scorer is to die by SIGKILL right after it wrote its 6th closed window (before
    // its next commit).
    sb.start_core(1, None);
    sb.start_core(2, Some("after-write:6"));
    assert!(
        !sb.home.exists(),
        "the cores wrote nothing into the master's directories"
    );

    // The master: everything, twice.
    for round in 0..2 {
        sb.master_actions(round);
        for step in &sb.steps {
            let out = sb.run_step(step);
            assert!(
                out.status.success(),
                "round {round}: {step:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(sb.home.join("zookeeper/conf/zoo.cfg").is_file());
    assert!(
        std::fs::read_to_string(sb.home.join("kafka/config/server.properties"))
            .unwrap()
            .contains(&format!("log.dirs={}/kafka/logs", sb.mnt.display()))
    );
    let topics = Command::new(&sb.tansu)
        .args([
            "topic",
            "list",
            "--broker",
            &format!("tcp://127.0.0.1:{}", sb.kafka_port),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&topics.stdout).contains("\"name\":\"tweets\""));
    for job in ["dw-ingest", "dw-merge"] {
        let status: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(sb.mnt.join(format!("var/log/dw/{job}.status.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(status["state"], "running", "{job}: {status}");
    }
    // A past evening launched with --force: the watchdog allows the evening's length from the
    // launch, so it has not fired.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !sb.node.join("shutdown-called").exists(),
        "the watchdog waits"
    );

    // The held-out check: every tweet the stream served, counted once in the merged windows,
    // though core-2 died mid-run; equal to one dw-score over the same tweets.
    let merged = sb.merged_windows("2016-03-10", lines.len());
    let core2_log =
        std::fs::read_to_string(sb.on_core(2, &sb.mnt).join("var/log/dw/dw-score-1.log")).unwrap();
    let members = sb.results("2016-03-10", "members");
    assert!(
        core2_log.contains("failpoint after-write:6"),
        "{core2_log}\nmembers: {members:#?}"
    );
    let survivor = members
        .iter()
        .find(|m| m["member"] == "core-1-1")
        .expect("core-1's heartbeat on S3");
    eprintln!(
        "sandbox: {} tweets served; merged windows count {}; core-1 skipped {} tweets core-2's parts count",
        lines.len(),
        merged
            .iter()
            .map(|w| w["tweets"].as_u64().unwrap())
            .sum::<u64>(),
        survivor["counts"]["covered"],
    );
    let want = reference_windows(&lines, &sb.scorers_action(), &sb.binaries, &sb.root);
    assert_same_windows("sandbox", &windows_by_start(merged), &want);
    // What the operator sees: the cluster with its two scorers, from their heartbeats on S3.
    let status = sb.status();
    eprintln!("{status}");
    let members: Vec<&str> = status
        .lines()
        .filter(|l| l.starts_with("member    core-"))
        .collect();
    assert_eq!(members.len(), 2, "{status}");

    // The same staged watchdog script with its deadline in the past shuts the "master" down
    // at once.
    let watchdog = (0..sb.actions.len())
        .map(|n| sb.root.join(format!("action-{n}.sh")))
        .find(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .contains("readonly DEADLINE_EPOCH=")
        })
        .expect("the watchdog action");
    let pid_file = sb.mnt.join("var/log/dw/watchdog.pid");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    Command::new("kill").arg(pid.trim()).status().unwrap();
    std::fs::remove_file(&pid_file).unwrap();
    let text = std::fs::read_to_string(&watchdog).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("readonly DEADLINE_EPOCH="))
        .unwrap()
        .to_string();
    std::fs::write(&watchdog, text.replace(&line, "readonly DEADLINE_EPOCH=1")).unwrap();
    let mut bash = Command::new("bash");
    sb.env(&mut bash);
    assert!(bash.arg(&watchdog).status().unwrap().success());
    let start = Instant::now();
    while !sb.node.join("shutdown-called").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the watchdog fired"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sb.down();
}

/// A past debate at cluster scale: `up --replay` over a four-object gzip archive on S3. The
/// cores score as the stream's scorers would; dw-ingest reads the archive at full speed and
/// stops; the scorers stop a minute after their input is spent; the last step merges until
/// then and returns, and the cluster was launched to end with it. Every tweet scored once.
#[test]
fn a_past_debate_replayed_from_an_archive_at_cluster_scale() {
    let Some(p) = peers() else { return };
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // By hand, DW_SANDBOX_TWEETS=N replays more (to measure).
    let count = std::env::var("DW_SANDBOX_TWEETS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20_000);
    let lines = tweets(count);
    let bucket = format!("dw-archive-{}", std::process::id());
    common::s3_put(&p.moto, &format!("/{bucket}"), b"");
    for (i, part) in lines.chunks(5_000).enumerate() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, (part.join("\n") + "\n").as_bytes()).unwrap();
        common::s3_put(
            &p.moto,
            &format!("/{bucket}/2016-03-03/part-{i}.jsonl.gz"),
            &gz.finish().unwrap(),
        );
    }
    let archive = format!("s3://{bucket}/2016-03-03/");
    let mut sb = Sandbox::launch(p, "2016-03-03", None, &["--replay", &archive]);
    // By hand, DW_SANDBOX_CORES=1 scores with one core node (to compare throughputs).
    let cores: u32 = std::env::var("DW_SANDBOX_CORES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2);
    for n in 1..=cores {
        sb.start_core(n, None);
    }
    sb.master_actions(0);
    let names: Vec<&str> = sb
        .steps
        .iter()
        .map(|s| s[1].rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["create-topic.sh", "start-ingest.sh", "finish-replay.sh"]
    );
    for step in &sb.steps {
        let out = sb.run_step(step);
        assert!(
            out.status.success(),
            "{step:?}\n{}{}",
            String::from_utf8_lossy(&out.stderr),
            sb.logs()
        );
    }
    // The last step returned: the archive is read, both scorers stopped, the merge is done.
    let ingest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.mnt.join("var/log/dw/dw-ingest.status.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (&ingest["state"], &ingest["exit"]),
        (&"stopped".into(), &"ok".into())
    );
    let members = sb.results("2016-03-03", "members");
    assert_eq!(members.len(), cores as usize);
    assert!(
        members.iter().all(|m| m["state"] == "stopped"),
        "{members:#?}"
    );
    let merged = sb.results("2016-03-03", "windows");
    let counted: u64 = merged.iter().map(|w| w["tweets"].as_u64().unwrap()).sum();
    assert_eq!(counted, lines.len() as u64, "every tweet once");
    assert!(
        merged.iter().all(|w| w["partial"].is_null()),
        "every window final"
    );
    let want = reference_windows(&lines, &sb.scorers_action(), &sb.binaries, &sb.root);
    assert_same_windows("replay", &windows_by_start(merged), &want);
    // EMR ends a cluster whose last step is done when it was launched without keep-alive.
    let auto_terminate = sb.rt.block_on(async {
        let emr = aws_sdk_emr::Client::new(&sdk_config(&sb.moto).await);
        let c = emr
            .describe_cluster()
            .cluster_id(&sb.id)
            .send()
            .await
            .unwrap();
        c.cluster().unwrap().auto_terminate()
    });
    assert_eq!(
        auto_terminate,
        Some(true),
        "the cluster ends with its last step"
    );
    sb.down();
}

/// `count` statuses of the shipped sample, re-stamped from 2016-03-11T02:00:00Z.
fn tweets(count: usize) -> Vec<String> {
    dw_pipeline::testkit::restamped_sample(count, 1_457_661_600_000, 710_000_000_000_000_000)
}

/// One dw-score over `lines` from a file, with the scorers' own arguments as the staged
/// action has them (its window, lateness and candidates).
fn reference_windows(
    lines: &[String],
    scorers_action: &Path,
    binaries: &Path,
    dir: &Path,
) -> BTreeMap<String, serde_json::Value> {
    let args = job_args(&std::fs::read_to_string(scorers_action).unwrap());
    let mut kept = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if ["--from", "--to", "--kafka-option"].contains(&a.as_str()) {
            it.next();
        } else {
            kept.push(a);
        }
    }
    let input = dir.join("served.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = dir.join("reference.jsonl");
    let r = Command::new(binaries.join("dw-score"))
        .arg("--from")
        .arg(format!("file:{}", input.display()))
        .arg("--to")
        .arg(format!("file:{}", out.display()))
        .args(&kept)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    windows_in_file(&out)
}

/// A Bluesky evening on the cluster, as `[stream] source = "bluesky"` (the shipped source) runs
/// it: dw-ingest on the master reads the Jetstream stand-in from the evening's start, in
/// English, filtered by the evening's terms; the connection drops two thirds of the way and
/// resumes 5 s back; two cores score. The merged windows count every English post that mentions
/// a candidate once, and equal one dw-score's over the same posts.
#[test]
fn a_bluesky_evening_on_the_cluster() {
    use dw_jetstream_standin::{Fault, Options, Standin, synth};
    let Some(p) = peers() else { return };
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let session = synth::session(&synth::Spec {
        posts: 6000,
        topics: ["Hillary", "Clinton", "Bernie", "Sanders"]
            .map(String::from)
            .to_vec(),
        ..synth::Spec::default()
    });
    let mut faults = std::collections::HashMap::new();
    faults.insert(0, vec![Fault::DropAfter(4000)]);
    let standin = Standin::start(&session, 0, Options { faults, pace: None }).unwrap();
    let mut sb = Sandbox::launch(
        p,
        "2016-03-09",
        Some(&Live::Bluesky(standin.endpoint())),
        &[],
    );
    sb.start_core(1, None);
    sb.start_core(2, None);
    sb.master_actions(0);
    for step in &sb.steps {
        let out = sb.run_step(step);
        assert!(
            out.status.success(),
            "{step:?}\n{}{}",
            String::from_utf8_lossy(&out.stderr),
            sb.logs()
        );
    }
    // What dw-ingest was told: the staged step's arguments.
    let script = std::fs::read_to_string(sb.home.join("dw/steps/start-ingest.sh")).unwrap();
    let args = job_args(&script);
    let after = |flag: &str| args[args.iter().position(|a| a == flag).unwrap() + 1].clone();
    assert_eq!(after("--from"), standin.endpoint());
    assert_eq!(after("--lang"), "en");
    assert!(!args.iter().any(|a| a == "--credentials"), "{args:?}");
    let track: dw_pipeline::attribution::CandidateTerms =
        format!("track={}", after("--track")).parse().unwrap();
    let posts = expected_posts(&session, &track);
    assert!(posts.len() > 2000, "{}", posts.len());

    let merged = sb.merged_windows("2016-03-09", posts.len());
    let connections = standin.connections();
    assert_eq!(connections.len(), 2, "{connections:?}");
    assert_eq!(
        connections[1].cursor,
        Some(connections[0].last_time_us.unwrap() - 5_000_000)
    );
    let want = reference_windows(&posts, &sb.scorers_action(), &sb.binaries, &sb.root);
    assert_same_windows("bluesky", &windows_by_start(merged), &want);
    let status: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.mnt.join("var/log/dw/dw-ingest.status.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(status["state"], "running", "{status}");
    assert!(
        status["counts"]["duplicates"].as_u64().unwrap() > 0,
        "{status}"
    );
    sb.down();
}

/// A start step's job arguments, one shell-quoted word a line between `args=(` and `)`.
fn job_args(script: &str) -> Vec<String> {
    let block = script.split("\nargs=(\n").nth(1).unwrap();
    let block = block.split("\n)\n").next().unwrap();
    block
        .lines()
        .map(|l| {
            let l = l.trim();
            match l.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
                Some(q) => q.replace("'\\''", "'"),
                None => l.to_string(),
            }
        })
        .collect()
}

/// The post records dw-ingest writes from `session` with `--lang en` and `track`: the English
/// post creates that mention a term, each by its handle when an identity event named it before.
fn expected_posts(
    session: &[String],
    track: &dw_pipeline::attribution::CandidateTerms,
) -> Vec<String> {
    use dw_pipeline::bluesky::{Event, declares_language, parse_event};
    let attributor = dw_pipeline::attribution::Attributor::new(std::slice::from_ref(track));
    let mut handles: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut hits = Vec::new();
    let mut out = Vec::new();
    for line in session {
        let (time_us, event) = parse_event(line.as_bytes()).unwrap();
        match event {
            Event::Identity { did, handle } => match handle {
                Some(h) => {
                    handles.insert(did.to_string(), h.to_string());
                }
                None => {
                    handles.remove(did.as_ref());
                }
            },
            Event::Post(p) if declares_language(&p.langs, "en") => {
                attributor.candidates(&p.text, &mut hits);
                if !hits.is_empty() {
                    let handle = handles.get(p.did.as_ref()).map(String::as_str);
                    out.push(p.to_post(time_us, handle).to_line());
                }
            }
            _ => {}
        }
    }
    out
}

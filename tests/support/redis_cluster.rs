//! A Redis Cluster of the test's own: three masters (`redis-server --cluster-enabled yes`)
//! on free ports, their slots assigned by `redis-cli --cluster create`, stopped when dropped.

use std::{process::Stdio, time::Duration};

use tokio::process::{Child, Command};

use crate::free_port;

/// How many masters the cluster has.
const MASTERS: usize = 3;

/// A running three-master cluster. Its node files live in a temporary directory.
pub struct RedisCluster {
    /// The masters' ports.
    pub ports: Vec<u16>,
    _servers: Vec<Child>,
    _dir: tempfile::TempDir,
}

/// A free port whose cluster bus port (the port + 10,000) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        let bus_free = port
            .checked_add(10_000)
            .is_some_and(|bus| std::net::TcpListener::bind(("127.0.0.1", bus)).is_ok());
        if bus_free {
            return port;
        }
    }
}

impl RedisCluster {
    /// Starts the masters, creates the cluster over them and waits until every master says
    /// `cluster_state:ok`.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a directory for the cluster's node files");
        let ports: Vec<u16> = (0..MASTERS).map(|_| free_cluster_port()).collect();
        let servers = ports
            .iter()
            .map(|port| {
                let config = dir.path().join(format!("nodes-{port}.conf"));
                Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--cluster-enabled", "yes", "--cluster-config-file"])
                    .arg(&config)
                    .arg("--dir")
                    .arg(dir.path())
                    .args(["--save", "", "--appendonly", "no"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .expect("redis-server starts (scripts/test installs it)")
            })
            .collect();
        let cluster = Self {
            ports,
            _servers: servers,
            _dir: dir,
        };
        for port in &cluster.ports {
            cluster.await_listening(*port).await;
        }
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(cluster.ports.iter().map(|port| format!("127.0.0.1:{port}")))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .await
            .expect("redis-cli runs");
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        for port in &cluster.ports {
            cluster.await_state_ok(*port).await;
        }
        cluster
    }

    async fn await_listening(&self, port: u16) {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("cluster master did not start on port {port}");
    }

    async fn await_state_ok(&self, port: u16) {
        for _ in 0..250 {
            let info = self.cli_on(port, &["CLUSTER", "INFO"]).await;
            if info.contains("cluster_state:ok") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("cluster master on port {port} never reached cluster_state:ok");
    }

    /// `redis-cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, the form API.md documents.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        format!("redis-cluster://{}", seeds.join(","))
    }

    /// Runs one command with `redis-cli -c` (following the cluster's redirections); its
    /// output, trimmed.
    pub async fn cli(&self, args: &[&str]) -> String {
        self.cli_on(self.ports[0], &[&["-c"], args].concat()).await
    }

    /// How many keys each master holds (`DBSIZE` on each), in port order.
    pub async fn keys_per_master(&self) -> Vec<u64> {
        let mut counts = Vec::with_capacity(self.ports.len());
        for port in &self.ports {
            let size = self.cli_on(*port, &["DBSIZE"]).await;
            counts.push(size.parse().unwrap_or(0));
        }
        counts
    }

    async fn cli_on(&self, port: u16, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .await
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

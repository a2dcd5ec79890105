//! A `nats-server -js` of a test's own (Debian's package, installed by
//! `./dev.sh test`): a free loopback port, a temporary store, killed with
//! SIGKILL when dropped; `launch` again restarts it on the same store.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A nats-server of the test's own; killed (SIGKILL) when dropped.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    config: Option<String>,
}

fn nats_bin() -> PathBuf {
    for p in ["/usr/sbin/nats-server", "/usr/bin/nats-server"] {
        if Path::new(p).is_file() {
            return p.into();
        }
    }
    panic!("nats-server is missing: apt-get install nats-server (./dev.sh test does it)");
}

impl Nats {
    pub fn start() -> Nats {
        Nats::start_with(None)
    }

    /// With a configuration (its `listen` and `store_dir` are added here).
    pub fn start_with(config: Option<&str>) -> Nats {
        let mut n = Nats { child: None, port: super::free_port(), dir: tempfile::tempdir().unwrap(), config: config.map(str::to_owned) };
        n.launch();
        n
    }

    pub fn launch(&mut self) {
        let store = self.dir.path().join("store");
        let mut c = Command::new(nats_bin());
        match &self.config {
            Some(body) => {
                let conf = self.dir.path().join("nats.conf");
                std::fs::write(&conf, format!("listen: 127.0.0.1:{}\njetstream {{ store_dir: {:?} }}\n{body}\n", self.port, store)).unwrap();
                c.arg("-c").arg(conf);
            }
            None => {
                c.args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"]).arg(&store);
            }
        }
        let log = std::fs::File::create(self.dir.path().join("nats.log")).unwrap();
        self.child = Some(c.stdout(Stdio::null()).stderr(log).spawn().expect("start nats-server"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The running server's process id (0 when killed).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}


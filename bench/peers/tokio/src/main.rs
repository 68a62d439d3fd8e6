//! Tokio peer of braid's benchmark workloads.
//!
//! Usage: `tokio_bench <workload|all|--list> [--threads N]`
//!
//! Every workload is defined in bench/WORKLOADS.md. Each one prints one
//! JSON line on stdout, checks its own result and makes the process exit
//! non-zero when the check fails. The workload body runs as a task on a worker
//! thread (spawned onto the runtime), and its clock runs inside that task.

use std::error::Error;
use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::ops::Range;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, Mutex, Notify};
use tokio_stream::StreamExt;

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

const USAGE: &str = "usage: tokio_bench <workload|all|--list> [--threads N]";
const DEFAULT_THREADS: usize = 2;
/// Capacity of every bounded channel in the channel workloads.
const CHANNEL_CAPACITY: usize = 1_024;

/// Every workload, in the order `all` runs them.
const WORKLOADS: &[&str] = &[
    "spawn_many",
    "spawn_remote",
    "yield_many",
    "ping_pong",
    "chained_spawn",
    "mpsc_spsc",
    "mpsc_contended",
    "mutex_contended",
    "timers",
    "idle_memory",
    "tcp_echo",
    "spawn_blocking",
    "timeout_ready",
    "select_channel",
    "stream_pipeline",
    "copy_1gib",
    "tcp_latency",
    "wake_latency",
];

/// What one workload measured.
struct Measurement {
    /// Operations counted.
    n: u64,
    /// Wall time of the measured region.
    elapsed: Duration,
    /// Workload-specific extra keys, e.g. `overshoot_ms`.
    extras: Vec<(&'static str, f64)>,
}

impl Measurement {
    fn new(n: u64, elapsed: Duration) -> Self {
        Measurement {
            n,
            elapsed,
            extras: Vec::new(),
        }
    }

    fn with_extra(mut self, key: &'static str, value: f64) -> Self {
        self.extras.push((key, value));
        self
    }

    fn json_line(&self, workload: &str, threads: usize) -> String {
        let seconds = self.elapsed.as_secs_f64();
        let extra: String = self
            .extras
            .iter()
            .map(|(key, value)| format!(",\"{key}\":{value:.3}"))
            .collect();
        format!(
            "{{\"impl\":\"tokio\",\"workload\":\"{workload}\",\"threads\":{threads},\"n\":{n},\
             \"seconds\":{seconds:.6},\"ops_per_s\":{ops:.0},\"peak_rss_kb\":{rss}{extra}}}",
            n = self.n,
            ops = self.n as f64 / seconds,
            rss = peak_rss_kb(),
        )
    }
}

/// Fails with a message unless `got == want`.
fn check(what: &str, got: u64, want: u64) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("check failed: {what} is {got}, expected {want}").into())
    }
}

/// Sum of `0..n`.
fn sum_below(n: u64) -> u64 {
    n * (n - 1) / 2
}

/// Peak resident set size of the process, in KiB (getrusage's ru_maxrss).
fn peak_rss_kb() -> i64 {
    // SAFETY: getrusage only writes into the zero-initialised struct we own.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) == 0 {
            usage.ru_maxrss as i64
        } else {
            -1
        }
    }
}

/// Current resident set size (VmRSS of /proc/self/status), in KiB.
fn vm_rss_kb() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or("no VmRSS line in /proc/self/status")?;
    let kb = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb)
}

/// Awaits every handle and adds up what the tasks returned.
async fn sum_joined(handles: Vec<tokio::task::JoinHandle<u64>>) -> Result<u64> {
    let mut sum = 0;
    for handle in handles {
        sum += handle.await?;
    }
    Ok(sum)
}

// ---------------------------------------------------------------- workloads

/// One task spawns 1,000,000 tasks that each bump a shared counter, then
/// awaits all of their join handles.
async fn spawn_many() -> Result<Measurement> {
    const N: u64 = 1_000_000;
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(N as usize);
    for _ in 0..N {
        let counter = Arc::clone(&counter);
        handles.push(tokio::spawn(async move {
            counter.fetch_add(1, Ordering::Relaxed);
        }));
    }
    for handle in handles {
        handle.await?;
    }
    let elapsed = start.elapsed();
    check("counter", counter.load(Ordering::Relaxed), N)?;
    Ok(Measurement::new(N, elapsed))
}

/// A thread outside the runtime (this one) spawns 200,000 counting tasks
/// through the runtime handle, then waits until the counter reaches 200,000.
fn spawn_remote(rt: &Runtime) -> Result<Measurement> {
    const N: u64 = 200_000;
    struct Shared {
        counter: AtomicU64,
        done: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    }
    let (done_tx, done_rx) = oneshot::channel();
    let shared = Arc::new(Shared {
        counter: AtomicU64::new(0),
        done: std::sync::Mutex::new(Some(done_tx)),
    });
    let handle = rt.handle();
    let start = Instant::now();
    for _ in 0..N {
        let shared = Arc::clone(&shared);
        handle.spawn(async move {
            if shared.counter.fetch_add(1, Ordering::AcqRel) + 1 == N {
                if let Some(done) = shared.done.lock().unwrap().take() {
                    let _ = done.send(());
                }
            }
        });
    }
    done_rx.blocking_recv()?;
    let elapsed = start.elapsed();
    check("counter", shared.counter.load(Ordering::Acquire), N)?;
    Ok(Measurement::new(N, elapsed))
}

/// 1,000 tasks each yield to the scheduler 1,000 times.
async fn yield_many() -> Result<Measurement> {
    const TASKS: u64 = 1_000;
    const YIELDS: u64 = 1_000;
    let start = Instant::now();
    let handles = (0..TASKS)
        .map(|_| {
            tokio::spawn(async {
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                }
                YIELDS
            })
        })
        .collect();
    let yields = sum_joined(handles).await?;
    let elapsed = start.elapsed();
    check("yields", yields, TASKS * YIELDS)?;
    Ok(Measurement::new(yields, elapsed))
}

/// 1,000 task pairs play 100 rounds each: A sends a fresh oneshot sender to B
/// through a capacity-1 channel, B answers with the round number.
async fn ping_pong() -> Result<Measurement> {
    const PAIRS: u64 = 1_000;
    const ROUNDS: u64 = 100;
    let start = Instant::now();
    let mut handles = Vec::with_capacity(PAIRS as usize);
    for _ in 0..PAIRS {
        let (to_b, mut from_a) = mpsc::channel::<oneshot::Sender<u64>>(1);
        tokio::spawn(async move {
            let mut round = 0;
            while let Some(reply) = from_a.recv().await {
                round += 1;
                let _ = reply.send(round);
            }
        });
        handles.push(tokio::spawn(async move {
            let mut sum = 0;
            for _ in 0..ROUNDS {
                let (reply_tx, reply_rx) = oneshot::channel();
                if to_b.send(reply_tx).await.is_err() {
                    break;
                }
                match reply_rx.await {
                    Ok(round) => sum += round,
                    Err(_) => break,
                }
            }
            sum
        }));
    }
    let sum = sum_joined(handles).await?;
    let elapsed = start.elapsed();
    check("sum of replies", sum, PAIRS * ROUNDS * (ROUNDS + 1) / 2)?;
    Ok(Measurement::new(PAIRS * ROUNDS, elapsed))
}

/// Spawns link `position` of a chain of `length` tasks; the last link sends
/// its position back through `done`.
fn spawn_chain_link(position: u64, length: u64, done: oneshot::Sender<u64>) {
    tokio::spawn(async move {
        if position == length {
            let _ = done.send(position);
        } else {
            spawn_chain_link(position + 1, length, done);
        }
    });
}

/// A chain of 100,000 tasks, each spawning the next and exiting.
async fn chained_spawn() -> Result<Measurement> {
    const N: u64 = 100_000;
    let (done_tx, done_rx) = oneshot::channel();
    let start = Instant::now();
    spawn_chain_link(1, N, done_tx);
    let length = done_rx.await?;
    let elapsed = start.elapsed();
    check("chain length", length, N)?;
    Ok(Measurement::new(N, elapsed))
}

/// Sends every value of `values` into `tx`, stopping if the receiver is gone.
async fn produce(tx: mpsc::Sender<u64>, values: Range<u64>) {
    for value in values {
        if tx.send(value).await.is_err() {
            return;
        }
    }
}

/// Receives until every sender is gone; returns (messages, sum).
async fn consume(mut rx: mpsc::Receiver<u64>) -> (u64, u64) {
    let (mut count, mut sum) = (0, 0);
    while let Some(value) = rx.recv().await {
        count += 1;
        sum += value;
    }
    (count, sum)
}

/// One producer sends 10,000,000 u64s through a bounded channel; one
/// consumer sums them.
async fn mpsc_spsc() -> Result<Measurement> {
    const N: u64 = 10_000_000;
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let start = Instant::now();
    let consumer = tokio::spawn(consume(rx));
    tokio::spawn(produce(tx, 0..N));
    let (count, sum) = consumer.await?;
    let elapsed = start.elapsed();
    check("messages", count, N)?;
    check("sum", sum, sum_below(N))?;
    Ok(Measurement::new(N, elapsed))
}

/// 8 producers send 1,000,000 u64s each through one bounded channel; one
/// consumer sums them.
async fn mpsc_contended() -> Result<Measurement> {
    const PRODUCERS: u64 = 8;
    const PER_PRODUCER: u64 = 1_000_000;
    const N: u64 = PRODUCERS * PER_PRODUCER;
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let start = Instant::now();
    let consumer = tokio::spawn(consume(rx));
    for p in 0..PRODUCERS {
        tokio::spawn(produce(
            tx.clone(),
            p * PER_PRODUCER..(p + 1) * PER_PRODUCER,
        ));
    }
    drop(tx);
    let (count, sum) = consumer.await?;
    let elapsed = start.elapsed();
    check("messages", count, N)?;
    check("sum", sum, sum_below(N))?;
    Ok(Measurement::new(N, elapsed))
}

/// 64 tasks each lock one async mutex 10,000 times and increment the
/// guarded counter.
async fn mutex_contended() -> Result<Measurement> {
    const TASKS: u64 = 64;
    const LOCKS: u64 = 10_000;
    const N: u64 = TASKS * LOCKS;
    let value = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let handles = (0..TASKS)
        .map(|_| {
            let value = Arc::clone(&value);
            tokio::spawn(async move {
                for _ in 0..LOCKS {
                    *value.lock().await += 1;
                }
                LOCKS
            })
        })
        .collect();
    let locks = sum_joined(handles).await?;
    let elapsed = start.elapsed();
    check("locks taken", locks, N)?;
    check("guarded value", *value.lock().await, N)?;
    Ok(Measurement::new(N, elapsed))
}

/// xorshift64 (13, 7, 17), stepped once before each draw.
struct XorShift64(u64);

impl XorShift64 {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

const TIMER_SEED: u64 = 42;
const TIMER_MAX_MS: u64 = 50;

/// Sleep duration of the next timer task, in ms: 1 + x % 50.
fn next_sleep_ms(rng: &mut XorShift64) -> u64 {
    1 + rng.next() % TIMER_MAX_MS
}

/// 100,000 tasks each sleep 1..50 ms (xorshift64, seed 42); reports how long
/// past the longest sleep (50 ms) it took until all of them woke.
async fn timers() -> Result<Measurement> {
    const N: u64 = 100_000;
    const TOTAL_MS: u64 = 2_538_166;
    let mut rng = XorShift64(TIMER_SEED);
    let start = Instant::now();
    let mut handles = Vec::with_capacity(N as usize);
    for _ in 0..N {
        let ms = next_sleep_ms(&mut rng);
        handles.push(tokio::spawn(async move {
            let duration = Duration::from_millis(ms);
            let began = Instant::now();
            tokio::time::sleep(duration).await;
            let slept = began.elapsed();
            if slept >= duration {
                Ok(ms)
            } else {
                Err(format!(
                    "check failed: a {ms} ms sleep woke after {slept:?}"
                ))
            }
        }));
    }
    let mut total_ms = 0;
    for handle in handles {
        total_ms += handle.await??;
    }
    let elapsed = start.elapsed();
    check("total of sleep durations (ms)", total_ms, TOTAL_MS)?;
    let overshoot_ms = elapsed.as_secs_f64() * 1e3 - TIMER_MAX_MS as f64;
    Ok(Measurement::new(N, elapsed).with_extra("overshoot_ms", overshoot_ms))
}

/// 100,000 tasks each await a oneshot receiver that is never sent to;
/// reports the RSS growth per parked task, then drops the senders.
async fn idle_memory() -> Result<Measurement> {
    const N: usize = 100_000;
    struct Shared {
        parked: AtomicUsize,
        all_parked: Notify,
    }
    let shared = Arc::new(Shared {
        parked: AtomicUsize::new(0),
        all_parked: Notify::new(),
    });
    let mut senders = Vec::with_capacity(N);
    let mut handles = Vec::with_capacity(N);
    let rss_before_kb = vm_rss_kb()?;
    let start = Instant::now();
    for _ in 0..N {
        let (tx, rx) = oneshot::channel::<()>();
        let shared = Arc::clone(&shared);
        senders.push(tx);
        handles.push(tokio::spawn(async move {
            if shared.parked.fetch_add(1, Ordering::AcqRel) + 1 == N {
                shared.all_parked.notify_one();
            }
            drop(shared);
            // Ends only when the sender is dropped.
            rx.await.is_err()
        }));
    }
    shared.all_parked.notified().await;
    let elapsed = start.elapsed();
    let rss_after_kb = vm_rss_kb()?;
    drop(senders);
    let mut ended = 0;
    for handle in handles {
        if handle.await? {
            ended += 1;
        }
    }
    check("tasks ended by a dropped sender", ended, N as u64)?;
    let bytes_per_task = (rss_after_kb as f64 - rss_before_kb as f64) * 1024.0 / N as f64;
    Ok(Measurement::new(N as u64, elapsed).with_extra("bytes_per_task", bytes_per_task))
}

const ECHO_MESSAGE_LEN: usize = 64;

/// Accepts `connections` clients and echoes each one on its own task.
async fn echo_server(listener: TcpListener, connections: u64) -> Result<()> {
    for _ in 0..connections {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(echo_connection(stream));
    }
    Ok(())
}

/// Writes back whatever it reads (into a 4 KiB buffer) until EOF.
async fn echo_connection(mut stream: TcpStream) -> Result<()> {
    let mut buf = vec![0u8; 4096];
    loop {
        let read = stream.read(&mut buf).await?;
        if read == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..read]).await?;
    }
}

/// Connects and does `rounds` 64-byte round trips, checking every echo.
async fn echo_client(addr: SocketAddr, id: u64, rounds: u64) -> Result<u64> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut reply = [0u8; ECHO_MESSAGE_LEN];
    for round in 0..rounds {
        let message = [(id + round) as u8; ECHO_MESSAGE_LEN];
        stream.write_all(&message).await?;
        stream.read_exact(&mut reply).await?;
        if reply != message {
            return Err(
                format!("check failed: client {id} got a wrong echo in round {round}").into(),
            );
        }
    }
    Ok(rounds)
}

/// Loopback TCP echo: 50 clients each do 10,000 round trips of 64 bytes.
async fn tcp_echo() -> Result<Measurement> {
    const CLIENTS: u64 = 50;
    const ROUNDS: u64 = 10_000;
    const N: u64 = CLIENTS * ROUNDS;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let start = Instant::now();
    let server = tokio::spawn(echo_server(listener, CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(echo_client(addr, id, ROUNDS)))
        .collect();
    let mut round_trips = 0;
    for client in clients {
        round_trips += client.await??;
    }
    let elapsed = start.elapsed();
    server.await??;
    check("round trips", round_trips, N)?;
    Ok(Measurement::new(N, elapsed))
}

/// 10,000 blocking closures, each returning its index; awaits all and sums.
async fn spawn_blocking() -> Result<Measurement> {
    const N: u64 = 10_000;
    let start = Instant::now();
    let handles = (0..N)
        .map(|i| tokio::task::spawn_blocking(move || i))
        .collect();
    let sum = sum_joined(handles).await?;
    let elapsed = start.elapsed();
    check("sum", sum, sum_below(N))?;
    Ok(Measurement::new(N, elapsed))
}

/// Awaits `timeout(1 s, ready(i))` 1,000,000 times and sums the results.
async fn timeout_ready() -> Result<Measurement> {
    const N: u64 = 1_000_000;
    let start = Instant::now();
    let mut sum = 0;
    for i in 0..N {
        sum += tokio::time::timeout(Duration::from_secs(1), std::future::ready(i)).await?;
    }
    let elapsed = start.elapsed();
    check("sum", sum, sum_below(N))?;
    Ok(Measurement::new(N, elapsed))
}

/// Two bounded channels, each fed 1,000,000 u64s by its own producer; one
/// consumer selects over both until both are closed and drained.
async fn select_channel() -> Result<Measurement> {
    const PER_CHANNEL: u64 = 1_000_000;
    const N: u64 = 2 * PER_CHANNEL;
    let (a_tx, mut a) = mpsc::channel(CHANNEL_CAPACITY);
    let (b_tx, mut b) = mpsc::channel(CHANNEL_CAPACITY);
    let start = Instant::now();
    tokio::spawn(produce(a_tx, 0..PER_CHANNEL));
    tokio::spawn(produce(b_tx, PER_CHANNEL..N));
    let (mut a_open, mut b_open) = (true, true);
    let (mut count, mut sum) = (0u64, 0u64);
    loop {
        tokio::select! {
            value = a.recv(), if a_open => match value {
                Some(value) => { count += 1; sum += value; }
                None => a_open = false,
            },
            value = b.recv(), if b_open => match value {
                Some(value) => { count += 1; sum += value; }
                None => b_open = false,
            },
            else => break,
        }
    }
    let elapsed = start.elapsed();
    check("messages", count, N)?;
    check("sum", sum, sum_below(N))?;
    Ok(Measurement::new(N, elapsed))
}

/// An async generator yields 0..10,000,000 through map(x*3) and
/// filter(even); the result is folded into a sum.
async fn stream_pipeline() -> Result<Measurement> {
    const N: u64 = 10_000_000;
    // 3x is even exactly when x is: 3 * (0 + 2 + ... + (N - 2)).
    const EXPECTED: u64 = 3 * 2 * ((N / 2) * (N / 2 - 1) / 2);
    let start = Instant::now();
    let numbers = async_stream::stream! {
        for x in 0..N {
            yield x;
        }
    };
    let sum = numbers
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .fold(0u64, |sum, x| sum + x)
        .await;
    let elapsed = start.elapsed();
    check("sum", sum, EXPECTED)?;
    Ok(Measurement::new(N, elapsed))
}

/// Bytes `copy_1gib` streams through one connection.
const COPY_BYTES: u64 = 1 << 30;
/// The writer's chunk.
const COPY_CHUNK: usize = 64 * 1024;

/// One loopback TCP connection streams 1 GiB: a writer task sends it in
/// 64 KiB chunks; the receiving side moves it with `tokio::io::copy` into
/// `tokio::io::sink()`. n = bytes; `mb_per_s` = bytes / s / 10^6. Connecting
/// is outside the timed part.
async fn copy_1gib() -> Result<Measurement> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut client = TcpStream::connect(addr).await?;
    let (mut server, _) = listener.accept().await?;
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        let chunk = vec![0x5au8; COPY_CHUNK];
        let mut sent = 0u64;
        while sent < COPY_BYTES {
            client.write_all(&chunk).await?;
            sent += COPY_CHUNK as u64;
        }
        client.shutdown().await?;
        Ok::<u64, Box<dyn Error + Send + Sync>>(sent)
    });
    let copied = tokio::io::copy(&mut server, &mut tokio::io::sink()).await?;
    let elapsed = start.elapsed();
    let sent = writer.await??;
    check("bytes sent", sent, COPY_BYTES)?;
    check("bytes copied", copied, COPY_BYTES)?;
    let mb_per_s = COPY_BYTES as f64 / elapsed.as_secs_f64() / 1e6;
    Ok(Measurement::new(COPY_BYTES, elapsed).with_extra("mb_per_s", mb_per_s))
}

// ---------------------------------------------------------------- latency
//
// The clients of tcp_latency and the sender of wake_latency are plain
// threads outside the runtime with blocking calls (std::net sockets, mpsc
// blocking_send), so that what is measured is the runtime's side only: its
// time to notice readiness or a message while it was idle, and to run the
// task. braid's clients are the same code on POSIX sockets.

/// p50, p99 and max of latency samples, in µs (nearest rank: the p-th
/// percentile is the ceil(p/100 * n)-th smallest sample).
struct Percentiles {
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

fn percentiles(mut samples: Vec<Duration>) -> Result<Percentiles> {
    if samples.is_empty() {
        return Err("check failed: no latency samples".into());
    }
    samples.sort();
    let at_rank = |percent: usize| {
        let rank = (percent * samples.len() + 99) / 100;
        samples[rank - 1].as_secs_f64() * 1e6
    };
    Ok(Percentiles {
        p50_us: at_rank(50),
        p99_us: at_rank(99),
        max_us: at_rank(100),
    })
}

const PING_INTERVAL: Duration = Duration::from_millis(2);
const IDLE_PINGS: u64 = 1_000;
const BURST_ROUNDS: u64 = 5;
const BURST_PINGS: u64 = 50;
const BLASTERS: u64 = 8;
const BLAST_TIME: Duration = Duration::from_millis(300);
const BLAST_MESSAGE_LEN: usize = 4096;

/// A blocking loopback TCP connection (TCP_NODELAY) of a plain thread.
fn blocking_connect(addr: SocketAddr) -> Result<std::net::TcpStream> {
    let stream = std::net::TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One 64-byte round trip of ping number `seq`; checks the echo and
/// returns the round trip time.
fn ping(conn: &mut std::net::TcpStream, seq: u64) -> Result<Duration> {
    let mut message = [0u8; ECHO_MESSAGE_LEN];
    for (i, byte) in message.iter_mut().enumerate() {
        *byte = (seq + i as u64) as u8;
    }
    let mut reply = [0u8; ECHO_MESSAGE_LEN];
    let start = Instant::now();
    conn.write_all(&message)?;
    conn.read_exact(&mut reply)?;
    let round_trip = start.elapsed();
    if reply != message {
        return Err(format!("check failed: ping {seq} got a wrong echo").into());
    }
    Ok(round_trip)
}

/// `count` pings 2 ms apart, numbered on from `seq`; the first one waits 2 ms
/// too unless `first_at_once`. Appends the round trip times to `samples`.
fn ping_phase(
    conn: &mut std::net::TcpStream,
    seq: &mut u64,
    count: u64,
    first_at_once: bool,
    samples: &mut Vec<Duration>,
) -> Result<()> {
    for i in 0..count {
        if i > 0 || !first_at_once {
            std::thread::sleep(PING_INTERVAL);
        }
        samples.push(ping(conn, *seq)?);
        *seq += 1;
    }
    Ok(())
}

/// Echoes 4 KiB messages over `conn` until `stop` is set, checking each;
/// returns the round trips. The connection closes when it returns.
fn blast(mut conn: std::net::TcpStream, stop: &AtomicBool, id: u64) -> Result<u64> {
    let mut reply = vec![0u8; BLAST_MESSAGE_LEN];
    let mut rounds = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let message = vec![(id + rounds) as u8; BLAST_MESSAGE_LEN];
        conn.write_all(&message)?;
        conn.read_exact(&mut reply)?;
        if reply != message {
            return Err(format!("check failed: blaster {id} got a wrong echo").into());
        }
        rounds += 1;
    }
    Ok(rounds)
}

/// Binds an ephemeral loopback port, sends back its address, and echoes the
/// next `connections` clients (each on its own task); returns how many it
/// accepted.
async fn bound_echo_server(addr_tx: oneshot::Sender<SocketAddr>, connections: u64) -> Result<u64> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let _ = addr_tx.send(listener.local_addr()?);
    echo_server(listener, connections).await?;
    Ok(connections)
}

/// Round trip times of 64-byte pings to an echo server on the runtime: 1,000
/// pings 2 ms apart on an idle runtime; then 5 rounds of: 8 connections blast
/// 4 KiB echoes for 300 ms, stop, and 50 pings follow at once (2 ms apart).
/// The clients are plain threads with blocking sockets.
fn tcp_latency(rt: &Runtime) -> Result<Measurement> {
    const CONNECTIONS: u64 = 1 + BURST_ROUNDS * BLASTERS;
    const PINGS: u64 = IDLE_PINGS + BURST_ROUNDS * BURST_PINGS;
    let (addr_tx, addr_rx) = oneshot::channel();
    let server = rt.spawn(bound_echo_server(addr_tx, CONNECTIONS));
    let addr = addr_rx.blocking_recv()?;
    let start = Instant::now();
    let (mut idle, mut after_burst) = (Vec::new(), Vec::new());
    let (mut seq, mut blast_round_trips) = (0u64, 0u64);
    {
        let mut pinger = blocking_connect(addr)?;
        ping_phase(&mut pinger, &mut seq, IDLE_PINGS, false, &mut idle)?;
        for _ in 0..BURST_ROUNDS {
            let conns = (0..BLASTERS)
                .map(|_| blocking_connect(addr))
                .collect::<Result<Vec<_>>>()?;
            let stop = AtomicBool::new(false);
            let stop = &stop;
            let rounds = std::thread::scope(|scope| {
                let blasters: Vec<_> = conns
                    .into_iter()
                    .zip(0..)
                    .map(|(conn, id)| scope.spawn(move || blast(conn, stop, id)))
                    .collect();
                std::thread::sleep(BLAST_TIME);
                stop.store(true, Ordering::Relaxed);
                blasters
                    .into_iter()
                    .map(|blaster| blaster.join().expect("a blaster panicked"))
                    .sum::<Result<u64>>()
            })?;
            blast_round_trips += rounds;
            ping_phase(&mut pinger, &mut seq, BURST_PINGS, true, &mut after_burst)?;
        }
    }
    let elapsed = start.elapsed();
    check("connections accepted", rt.block_on(server)??, CONNECTIONS)?;
    check("pings answered", seq, PINGS)?;
    check("idle samples", idle.len() as u64, IDLE_PINGS)?;
    check("after-burst samples", after_burst.len() as u64, BURST_ROUNDS * BURST_PINGS)?;
    if blast_round_trips == 0 {
        return Err("check failed: no blast round trip".into());
    }
    let (i, b) = (percentiles(idle)?, percentiles(after_burst)?);
    Ok(Measurement::new(PINGS, elapsed)
        .with_extra("p50_us", i.p50_us)
        .with_extra("p99_us", i.p99_us)
        .with_extra("max_us", i.max_us)
        .with_extra("burst_p50_us", b.p50_us)
        .with_extra("burst_p99_us", b.p99_us)
        .with_extra("burst_max_us", b.max_us)
        .with_extra("blast_round_trips", blast_round_trips as f64))
}

const WAKE_MESSAGES: u64 = 1_000;
const WAKE_INTERVAL: Duration = Duration::from_millis(2);

/// A plain thread (this one) sends 1,000 timestamped messages 2 ms apart on
/// a bounded mpsc channel (blocking_send); one task receives them. Reports
/// the delay from send to the task having the message.
fn wake_latency(rt: &Runtime) -> Result<Measurement> {
    let (tx, mut rx) = mpsc::channel::<(u64, Instant)>(CHANNEL_CAPACITY);
    // Receives until the sender is gone, checking the numbering; returns each
    // message's delay from just before its send to this task running with it.
    let receiver = rt.spawn(async move {
        let mut delays = Vec::with_capacity(WAKE_MESSAGES as usize);
        while let Some((seq, sent)) = rx.recv().await {
            let now = Instant::now();
            check("message number", seq, delays.len() as u64)?;
            delays.push(now - sent);
        }
        Ok::<_, Box<dyn Error + Send + Sync>>(delays)
    });
    let start = Instant::now();
    for seq in 0..WAKE_MESSAGES {
        std::thread::sleep(WAKE_INTERVAL);
        tx.blocking_send((seq, Instant::now()))
            .map_err(|_| "check failed: the receiver is gone")?;
    }
    drop(tx); // closes the channel: the receiver ends
    let delays = rt.block_on(receiver)??;
    let elapsed = start.elapsed();
    check("messages received", delays.len() as u64, WAKE_MESSAGES)?;
    let p = percentiles(delays)?;
    Ok(Measurement::new(WAKE_MESSAGES, elapsed)
        .with_extra("p50_us", p.p50_us)
        .with_extra("p99_us", p.p99_us)
        .with_extra("max_us", p.max_us))
}

// --------------------------------------------------------------- driver

/// The future of a workload body that runs as a task on a worker thread.
type TaskBody = Pin<Box<dyn Future<Output = Result<Measurement>> + Send>>;

/// How a workload is driven.
enum Workload {
    /// Spawned onto the runtime; its clock runs inside that task.
    InTask(fn() -> TaskBody),
    /// Driven from a thread outside the runtime (this one).
    OutsideRuntime(fn(&Runtime) -> Result<Measurement>),
}

/// The workload called `name`, if there is one.
fn lookup(name: &str) -> Option<Workload> {
    use Workload::{InTask, OutsideRuntime};
    Some(match name {
        "spawn_many" => InTask(|| Box::pin(spawn_many())),
        "spawn_remote" => OutsideRuntime(spawn_remote),
        "yield_many" => InTask(|| Box::pin(yield_many())),
        "ping_pong" => InTask(|| Box::pin(ping_pong())),
        "chained_spawn" => InTask(|| Box::pin(chained_spawn())),
        "mpsc_spsc" => InTask(|| Box::pin(mpsc_spsc())),
        "mpsc_contended" => InTask(|| Box::pin(mpsc_contended())),
        "mutex_contended" => InTask(|| Box::pin(mutex_contended())),
        "timers" => InTask(|| Box::pin(timers())),
        "idle_memory" => InTask(|| Box::pin(idle_memory())),
        "tcp_echo" => InTask(|| Box::pin(tcp_echo())),
        "spawn_blocking" => InTask(|| Box::pin(spawn_blocking())),
        "timeout_ready" => InTask(|| Box::pin(timeout_ready())),
        "select_channel" => InTask(|| Box::pin(select_channel())),
        "stream_pipeline" => InTask(|| Box::pin(stream_pipeline())),
        "copy_1gib" => InTask(|| Box::pin(copy_1gib())),
        "tcp_latency" => OutsideRuntime(tcp_latency),
        "wake_latency" => OutsideRuntime(wake_latency),
        _ => return None,
    })
}

/// Runs `workload` on a fresh runtime; runtime start-up and shutdown are
/// outside the measured region.
fn run(workload: &Workload, threads: usize) -> Result<Measurement> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    match workload {
        Workload::InTask(body) => rt.block_on(async { tokio::spawn(body()).await? }),
        Workload::OutsideRuntime(body) => body(&rt),
    }
}

enum Command {
    List,
    Run {
        workloads: Vec<String>,
        threads: usize,
    },
}

fn parse_args(mut args: impl Iterator<Item = String>) -> std::result::Result<Command, String> {
    let mut workload = None;
    let mut threads = DEFAULT_THREADS;
    while let Some(arg) = args.next() {
        let value = if arg == "--threads" {
            Some(args.next().ok_or("--threads needs a value")?)
        } else {
            arg.strip_prefix("--threads=").map(str::to_owned)
        };
        if let Some(value) = value {
            threads = match value.parse() {
                Ok(n) if n > 0 => n,
                _ => return Err(format!("bad thread count: {value}")),
            };
        } else if arg == "--list" {
            return Ok(Command::List);
        } else if arg == "-h" || arg == "--help" {
            return Err(String::new());
        } else if arg.starts_with('-') || workload.is_some() {
            return Err(format!("unexpected argument: {arg}"));
        } else {
            workload = Some(arg);
        }
    }
    let workload = workload.ok_or("no workload given")?;
    let workloads = if workload == "all" {
        WORKLOADS.iter().map(|w| w.to_string()).collect()
    } else {
        vec![workload]
    };
    Ok(Command::Run { workloads, threads })
}

fn main() -> ExitCode {
    let (workloads, threads) = match parse_args(std::env::args().skip(1)) {
        Ok(Command::List) => {
            for name in WORKLOADS {
                println!("{name}");
            }
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run { workloads, threads }) => (workloads, threads),
        Err(message) => {
            if !message.is_empty() {
                eprintln!("tokio_bench: {message}");
            }
            eprintln!("{USAGE}\nworkloads: {}", WORKLOADS.join(", "));
            return ExitCode::from(2);
        }
    };

    // Unknown names are refused before anything runs.
    let mut selected = Vec::with_capacity(workloads.len());
    for name in workloads {
        match lookup(&name) {
            Some(workload) => selected.push((name, workload)),
            None => {
                eprintln!("tokio_bench: unknown workload: {name}");
                return ExitCode::from(2);
            }
        }
    }
    let mut failed = false;
    for (name, workload) in &selected {
        match run(workload, threads) {
            Ok(measurement) => println!("{}", measurement.json_line(name, threads)),
            Err(err) => {
                eprintln!("tokio_bench: {name}: {err}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_durations_match_the_spec() {
        let mut rng = XorShift64(TIMER_SEED);
        let first: Vec<u64> = (0..8).map(|_| next_sleep_ms(&mut rng)).collect();
        assert_eq!(first, [25, 22, 5, 37, 13, 28, 26, 15]);
        let mut rng = XorShift64(TIMER_SEED);
        let total: u64 = (0..100_000).map(|_| next_sleep_ms(&mut rng)).sum();
        assert_eq!(total, 2_538_166);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=1_000).rev().map(Duration::from_micros).collect();
        let p = percentiles(samples).unwrap();
        assert_eq!((p.p50_us, p.p99_us, p.max_us), (500.0, 990.0, 1_000.0));
        let p = percentiles(vec![Duration::from_micros(7)]).unwrap();
        assert_eq!((p.p50_us, p.p99_us, p.max_us), (7.0, 7.0, 7.0));
        assert!(percentiles(Vec::new()).is_err());
    }

    #[test]
    fn every_listed_workload_is_known() {
        for name in WORKLOADS {
            assert!(lookup(name).is_some(), "{name}");
        }
        assert!(lookup("no_such_workload").is_none());
    }
}

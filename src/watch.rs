//! `dw watch`: the debate page, served with a small JSON API over the windows and an event
//! stream (SSE) that pushes new and revised windows to every open page.
//!
//! One reader polls the source (a file every second, S3 every two) and applies what it finds
//! to one [`Board`]; the changes go out through one broadcast channel, so a hundred open pages
//! cost a hundred idle connections, not a hundred pollers. A page that falls behind the channel
//! gets the whole board again.

pub(crate) mod board;
pub(crate) mod page;
pub(crate) mod publish;
pub(crate) mod source;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

pub(crate) use board::Board;
use source::{FileReader, Found, S3Reader, Source};

use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::log;

/// A source with no new window for this long is flagged stale on the page.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(90);

/// How often each page hears the server's clock and the source's last change (its stale flag).
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// What the page learns once: the evening, how it is read, the thresholds it draws with.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PageInfo {
    pub evening: Evening,
    pub source: String,
    /// A bin with fewer scored tweets than this is a gap, not a point.
    pub min_scored: u64,
    pub stale_after_secs: u64,
    /// `live`: served by `dw watch`, with events; `static`: a published copy.
    pub mode: &'static str,
    /// A published copy that reads the scorers' results prefix itself while they write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<ResultsFeed>,
}

/// Where a published page lists and reads window objects (S3's REST interface, public read).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ResultsFeed {
    /// The bucket's URL, no trailing slash: `https://BUCKET.s3.REGION.amazonaws.com`, or
    /// `ENDPOINT/BUCKET` path-style.
    pub url: String,
    /// The debate's `windows/` prefix in that bucket.
    pub prefix: String,
    pub every_secs: u64,
    /// The objects the published copy holds already, by key, with their ETags: a page fetches
    /// only what is new or changed since.
    pub known: std::collections::BTreeMap<String, String>,
}

impl PageInfo {
    pub(crate) fn new(evening: Evening, source: String, mode: &'static str) -> Self {
        PageInfo {
            evening,
            source,
            min_scored: dw_pipeline::window::MIN_SCORED,
            stale_after_secs: STALE_AFTER.as_secs(),
            mode,
            results: None,
        }
    }
}

/// A reader of one source.
pub(crate) enum Reader {
    File(FileReader),
    S3(Box<S3Reader>),
}

impl Reader {
    /// The S3 objects read so far (key -> ETag); none for a file.
    pub(crate) fn known(&self) -> std::collections::BTreeMap<String, String> {
        match self {
            Reader::File(_) => std::collections::BTreeMap::default(),
            Reader::S3(r) => r.known().clone(),
        }
    }

    pub(crate) fn new(source: &Source, s3: Option<aws_sdk_s3::Client>) -> Result<Reader> {
        match (source, s3) {
            (Source::File(path), _) => Ok(Reader::File(FileReader::new(path.clone()))),
            (Source::S3 { bucket, prefix }, Some(client)) => Ok(Reader::S3(Box::new(
                S3Reader::new(client, bucket.clone(), prefix.clone()),
            ))),
            (Source::S3 { .. }, None) => Err(Error::Failed("an S3 source needs a client".into())),
        }
    }

    pub(crate) async fn poll(&mut self) -> Result<Found> {
        match self {
            Reader::File(r) => tokio::task::block_in_place(|| r.poll()),
            Reader::S3(r) => r.poll().await,
        }
    }

    fn every(&self) -> Duration {
        match self {
            Reader::File(_) => Duration::from_secs(1),
            Reader::S3(_) => Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone)]
enum Push {
    /// The merged windows that changed, as a JSON array.
    Windows(Arc<str>),
    Warning(Arc<str>),
    /// The source started over: pages take the whole board again.
    Reset,
}

struct Shared {
    board: Mutex<Board>,
    pushes: broadcast::Sender<Push>,
    info: String,
    viewers: AtomicUsize,
}

impl Shared {
    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        // A panic while holding the lock leaves a board still worth showing.
        self.board
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn snapshot_json(&self) -> String {
        serde_json::to_string(&self.board().snapshot()).unwrap_or_else(|_| "{}".into())
    }

    /// Applies one poll's findings and tells every page.
    fn apply(&self, found: Found) {
        let mut board = self.board();
        if found.reset {
            board.reset();
            let _ = self.pushes.send(Push::Reset);
        }
        let (changed, refused) = board.apply(found.windows);
        for w in refused.into_iter().chain(found.warnings) {
            log::info(&format!("warning: {w}"));
            if !board.snapshot().warnings.contains(&w) {
                board.warn(w.clone());
            }
            let _ = self.pushes.send(Push::Warning(w.into()));
        }
        drop(board);
        if !changed.is_empty() {
            log::debug(&format!("{} windows new or revised", changed.len()));
            let json = serde_json::to_string(&changed).unwrap_or_else(|_| "[]".into());
            let _ = self.pushes.send(Push::Windows(json.into()));
        }
    }
}

/// A bound server, not yet serving: its address is known (`--bind 127.0.0.1:0` picks a port).
pub(crate) struct Server {
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    reader: Reader,
}

impl Server {
    /// Binds the address and reads the source once, so that a source that cannot be read or a
    /// port in use fails here, before anything is served.
    pub(crate) async fn bind(
        info: PageInfo,
        mut reader: Reader,
        bind: SocketAddr,
    ) -> Result<Server> {
        let board = Board::new(&info.evening.date.to_string());
        let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "another program listens there: pass another --bind (port 0 picks a free one)"
                }
                _ => "pass --bind HOST:PORT with an address of this machine",
            };
            Error::input_with_hint(format!("cannot listen on {bind}: {e}"), hint)
        })?;
        let (pushes, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            board: Mutex::new(board),
            pushes,
            info: serde_json::to_string(&info).map_err(|e| Error::Failed(e.to_string()))?,
            viewers: AtomicUsize::new(0),
        });
        let first = reader.poll().await?;
        shared.apply(first);
        log::info(&format!(
            "{} windows of {} read from {}",
            shared.board().len(),
            info.evening.date,
            info.source
        ));
        Ok(Server {
            listener,
            shared,
            reader,
        })
    }

    pub(crate) fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|e| Error::Failed(e.to_string()))
    }

    /// Serves until `stop` completes; the reader polls meanwhile.
    pub(crate) async fn run(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let Server {
            listener,
            shared,
            mut reader,
        } = self;
        let polling = {
            let shared = shared.clone();
            tokio::spawn(async move {
                let every = reader.every();
                loop {
                    tokio::time::sleep(every).await;
                    match reader.poll().await {
                        Ok(found) => shared.apply(found),
                        // A source that fails now was readable at the start: say so, try again.
                        Err(e) => log::info(&format!("warning: reading the windows: {e}")),
                    }
                }
            })
        };
        let app = router(shared);
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|e| Error::Failed(format!("serving the page: {e}")));
        polling.abort();
        served
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route(
            "/page.js",
            get(|| async { asset("text/javascript", page::SCRIPT) }),
        )
        .route(
            "/page.css",
            get(|| async { asset("text/css", page::STYLE) }),
        )
        .route("/api/info", get(info))
        .route("/api/windows", get(windows))
        .route("/api/events", get(events))
        .with_state(shared)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", page::INDEX)
}

fn json(body: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn info(State(shared): State<Arc<Shared>>) -> Response {
    json(shared.info.clone())
}

async fn windows(State(shared): State<Arc<Shared>>) -> Response {
    json(shared.snapshot_json())
}

/// Counts a page for as long as its event stream is open.
struct Viewer(Arc<Shared>);

impl Drop for Viewer {
    fn drop(&mut self) {
        self.0.viewers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Serialize)]
struct Status {
    now: jiff::Timestamp,
    last_change: Option<jiff::Timestamp>,
    viewers: usize,
}

fn status_event(shared: &Shared) -> Event {
    let status = Status {
        now: jiff::Timestamp::now(),
        last_change: shared.board().last_change(),
        viewers: shared.viewers.load(Ordering::Relaxed),
    };
    Event::default()
        .event("status")
        .data(serde_json::to_string(&status).unwrap_or_default())
}

async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = std::result::Result<Event, Infallible>>> {
    shared.viewers.fetch_add(1, Ordering::Relaxed);
    // Subscribed before the snapshot is taken: nothing falls between the two.
    let pushes = shared.pushes.subscribe();
    let snapshot = Event::default()
        .event("snapshot")
        .data(shared.snapshot_json());
    let mut ticks = tokio::time::interval(STATUS_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let viewer = Viewer(shared);
    let state = (viewer, pushes, ticks, Some(snapshot));
    let stream =
        futures_util::stream::unfold(state, |(viewer, mut pushes, mut ticks, first)| async move {
            if let Some(first) = first {
                return Some((Ok(first), (viewer, pushes, ticks, None)));
            }
            let event = tokio::select! {
                push = pushes.recv() => match push {
                    Ok(Push::Windows(json)) => Event::default().event("windows").data(&*json),
                    Ok(Push::Warning(w)) => Event::default().event("warning").data(&*w),
                    Ok(Push::Reset) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        Event::default().event("snapshot").data(viewer.0.snapshot_json())
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = ticks.tick() => status_event(&viewer.0),
            };
            Some((Ok(event), (viewer, pushes, ticks, None)))
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// One file of the published site.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SiteFile {
    pub path: &'static str,
    pub content_type: &'static str,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub bytes: usize,
}

/// The page as a static site: the same page, with the API's two answers stored as files where
/// the page asks for them (`api/info`, `api/windows`), so any file server serves it.
pub(crate) fn site(info: &PageInfo, board: &Board) -> Result<Vec<SiteFile>> {
    let files = [
        (
            "index.html",
            "text/html; charset=utf-8",
            page::INDEX.as_bytes().to_vec(),
        ),
        (
            "page.js",
            "text/javascript",
            page::SCRIPT.as_bytes().to_vec(),
        ),
        ("page.css", "text/css", page::STYLE.as_bytes().to_vec()),
        ("api/info", "application/json", to_json(info)?),
        // A page that reads the results itself starts from the parts (`Board::snapshot_parts`).
        (
            "api/windows",
            "application/json",
            to_json(&match info.results {
                Some(_) => board.snapshot_parts(),
                None => board.snapshot(),
            })?,
        ),
    ];
    Ok(files
        .into_iter()
        .map(|(path, content_type, body)| SiteFile {
            path,
            content_type,
            bytes: body.len(),
            body,
        })
        .collect())
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Failed(e.to_string()))
}

/// Reads a whole source once, as `dw publish` needs it.
pub(crate) async fn read_board(reader: &mut Reader, debate: &str) -> Result<Board> {
    let mut board = Board::new(debate);
    let found = reader.poll().await?;
    let (_, refused) = board.apply(found.windows);
    for w in refused.into_iter().chain(found.warnings) {
        log::info(&format!("warning: {w}"));
        if !board.snapshot().warnings.contains(&w) {
            board.warn(w);
        }
    }
    Ok(board)
}

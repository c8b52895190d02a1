//! The response inspector: summary line, then Tree / Raw / Headers / Request / Download tabs over a
//! body that is fetched raw, indexed once, and rendered only where the viewport is.

pub mod browser;
mod request;
mod summary;
mod text_view;
mod tree;

use std::sync::{Arc, OnceLock};

use leptos::prelude::*;

use crate::format;
use crate::inspect::index::{self, Index, ParseError};
use crate::inspect::text::{self, BodyKind};
use crate::wire::ExecuteResponse;

/// Text and the byte spans of its display rows.
type TextRows = (Vec<u8>, Vec<(u32, u32)>);

/// A response body, indexed once, with lazily built text views.
pub struct Body {
    pub bytes: Vec<u8>,
    pub kind: BodyKind,
    /// Set for `BodyKind::Json`.
    pub json: Option<Result<Index, ParseError>>,
    pub index_ms: f64,
    lines: OnceLock<Vec<(u32, u32)>>,
    pretty: OnceLock<TextRows>,
}

/// Rows of raw text are wrapped at this many bytes.
const WRAP: usize = 200;

impl Body {
    pub fn new(bytes: Vec<u8>, content_type: Option<&str>) -> Self {
        let kind = text::classify(content_type, &bytes);
        let started = browser::now_ms();
        let json = (kind == BodyKind::Json).then(|| index::parse(&bytes));
        let index_ms = browser::now_ms() - started;
        Self { bytes, kind, json, index_ms, lines: OnceLock::new(), pretty: OnceLock::new() }
    }
    pub fn index(&self) -> Option<&Index> {
        self.json.as_ref().and_then(|r| r.as_ref().ok())
    }
    pub fn parse_error(&self) -> Option<&ParseError> {
        self.json.as_ref().and_then(|r| r.as_ref().err())
    }
    /// The body as received, in display rows.
    pub fn lines(&self) -> &[(u32, u32)] {
        self.lines.get_or_init(|| text::line_spans(&self.bytes, WRAP))
    }
    /// Pretty-printed JSON and its rows (only meaningful when the body indexed).
    pub fn pretty(&self) -> (&[u8], &[(u32, u32)]) {
        let (bytes, lines) = self.pretty.get_or_init(|| {
            let pretty = text::pretty(&self.bytes);
            let lines = text::line_spans(&pretty, WRAP);
            (pretty, lines)
        });
        (bytes, lines)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Tree,
    Raw,
    Headers,
    Request,
    Download,
}

#[derive(Clone, Debug, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(String),
}

fn extension(kind: BodyKind, content_type: &str) -> &'static str {
    match kind {
        BodyKind::Json => "json",
        _ if content_type.contains("html") => "html",
        _ if content_type.contains("xml") => "xml",
        BodyKind::Text => "txt",
        _ => "bin",
    }
}

#[component]
pub fn Inspector(response: ExecuteResponse) -> impl IntoView {
    let response = StoredValue::new(response);
    let body = StoredValue::new(None::<Arc<Body>>);
    let load = RwSignal::new(Load::Loading);
    let tab = RwSignal::new(Tab::Tree);
    load_body(response, body, load, tab);
    let kept = Kept {
        tree: StoredValue::new(None),
        search_text: StoredValue::new(String::new()),
        search_match: StoredValue::new(0),
    };
    let r = response.get_value();
    let tab_button = move |which: Tab, label: &'static str, testid: &'static str| {
        view! {
            <button
                type="button"
                role="tab"
                class="tab"
                class:active=move || tab.get() == which
                aria-selected=move || (tab.get() == which).to_string()
                data-testid=testid
                on:click=move |_| tab.set(which)
            >
                {label}
            </button>
        }
    };
    view! {
        <summary::Summary response=r.clone() />
        {r.retried.then(|| view! {
            <p class="hint" data-testid="response-retried">
                "The API answered 401 at first; the console got a new token and sent this request once more."
            </p>
        })}
        {r.hint.clone().map(|hint| view! { <p class="warning" role="note" data-testid="response-hint">{hint}</p> })}
        {truncation_notice(&r).map(|notice| view! { <p class="warning" role="status" data-testid="truncated">{notice}</p> })}
        <nav class="tabs" role="tablist" aria-label="Response views">
            {tab_button(Tab::Tree, "Tree", "tab-tree")}
            {tab_button(Tab::Raw, "Raw", "tab-raw")}
            {tab_button(Tab::Headers, "Headers", "tab-headers")}
            {tab_button(Tab::Request, "Request", "tab-request")}
            {tab_button(Tab::Download, "Download", "tab-download")}
        </nav>
        <div class="tab-body" data-testid="inspector" data-body-id=r.body_id.clone().unwrap_or_default()>
            {move || tab_body(tab.get(), response, load, body, kept)}
        </div>
    }
}

/// What the inspector keeps for one response while another tab is shown.
#[derive(Clone, Copy)]
struct Kept {
    tree: StoredValue<Option<crate::inspect::tree::TreeState>>,
    search_text: StoredValue<String>,
    search_match: StoredValue<usize>,
}

/// Runs in the browser only: takes the inline body or fetches the stored one, then indexes it.
fn load_body(
    response: StoredValue<ExecuteResponse>,
    body: StoredValue<Option<Arc<Body>>>,
    load: RwSignal<Load>,
    tab: RwSignal<Tab>,
) {
    Effect::new(move |_| {
        let (inline, id, content_type) =
            response.with_value(|r| (r.body_inline.then(|| r.body.clone()), r.body_id.clone(), r.content_type.clone()));
        leptos::task::spawn_local(async move {
            let started = browser::now_ms();
            let bytes = match (inline, id) {
                (Some(text), _) => Ok(text.into_bytes()),
                (None, Some(id)) => browser::fetch_body(&id).await,
                (None, None) => Ok(Vec::new()),
            };
            match bytes {
                Ok(bytes) => {
                    let fetched = browser::now_ms();
                    browser::mark("a55:body-bytes", &[("bytes", bytes.len() as f64), ("fetch_ms", fetched - started)]);
                    let parsed = Body::new(bytes, content_type.as_deref());
                    browser::mark(
                        "a55:body-indexed",
                        &[
                            ("index_ms", parsed.index_ms),
                            ("nodes", parsed.index().map_or(0.0, |i| i.len() as f64)),
                            ("wasm_memory_bytes", browser::wasm_memory_bytes()),
                        ],
                    );
                    if parsed.index().is_none() && parsed.kind != BodyKind::Empty {
                        tab.set(Tab::Raw);
                    }
                    body.set_value(Some(Arc::new(parsed)));
                    load.set(Load::Ready);
                }
                Err(error) => load.set(Load::Failed(error)),
            }
        });
    });
}

/// Why the body shown is not the whole answer, when it was cut at the environment's cap.
fn truncation_notice(r: &ExecuteResponse) -> Option<String> {
    if !r.truncated {
        return None;
    }
    let mut notice = format!(
        "The body was cut at this environment's response cap of {}: {} kept of at least {} received.",
        format::bytes(r.max_response_bytes),
        format::bytes(r.kept_bytes),
        format::bytes(r.size_bytes),
    );
    if let Some((_, length)) = r.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
        notice.push_str(&format!(" The upstream announced {length} bytes."));
    }
    notice.push_str(" A cut JSON body is not valid JSON, so it is shown as raw text.");
    Some(notice)
}

/// The open tab's content.
fn tab_body(
    current: Tab,
    response: StoredValue<ExecuteResponse>,
    load: RwSignal<Load>,
    body: StoredValue<Option<Arc<Body>>>,
    kept: Kept,
) -> AnyView {
    match current {
        Tab::Headers => {
            return view! { <request::HeadersTable headers=response.with_value(|r| r.headers.clone()) /> }.into_any()
        }
        Tab::Request => return view! { <request::RequestView response=response.get_value() /> }.into_any(),
        _ => {}
    }
    // Tracked only on the body's tabs: headers and request do not redraw when the body arrives.
    match load.get() {
        Load::Loading => view! { <p class="hint" data-testid="body-loading">"Loading the body…"</p> }.into_any(),
        Load::Failed(error) => {
            view! { <p class="console-error" role="alert" data-testid="body-error">{error}</p> }.into_any()
        }
        Load::Ready => {
            let Some(loaded) = body.get_value() else { return ().into_any() };
            match current {
                Tab::Tree => body_view(
                    loaded,
                    response.with_value(|r| (r.status, r.status_text.clone(), r.body_id.clone())),
                    kept,
                )
                .into_any(),
                Tab::Raw => view! { <text_view::RawView body=loaded /> }.into_any(),
                _ => download_view(response, &loaded).into_any(),
            }
        }
    }
}

/// The Download tab: the body exactly as kept by the console, under a name with its extension.
fn download_view(response: StoredValue<ExecuteResponse>, loaded: &Body) -> impl IntoView {
    let (status, body_id, content_type) =
        response.with_value(|r| (r.status, r.body_id.clone(), r.content_type.clone().unwrap_or_default()));
    let Some(id) = body_id else {
        return view! { <p class="hint">"There is no body to download."</p> }.into_any();
    };
    let name = format!("response-{status}.{}", extension(loaded.kind, &content_type));
    view! {
        <p class="download">
            <a href=format!("/api/bodies/{id}") download=name.clone() data-testid="download-link">{format!("Download {name}")}</a>
            {format!(" ({}, exactly as kept by the console)", format::bytes(loaded.bytes.len() as u64))}
        </p>
    }
    .into_any()
}

/// The Tree tab: the JSON tree, or why there is none.
fn body_view(
    loaded: Arc<Body>,
    (status, status_text, body_id): (u16, String, Option<String>),
    Kept { tree, search_text, search_match }: Kept,
) -> impl IntoView {
    match loaded.kind {
        BodyKind::Empty => view! {
            <p class="hint" data-testid="empty-body">{format!("No body ({status} {status_text}).")}</p>
        }
        .into_any(),
        BodyKind::Json if loaded.index().is_some() => {
            view! { <tree::TreeView body=loaded body_id tree search_text search_match /> }.into_any()
        }
        BodyKind::Json => view! {
            <p class="hint">"The body is not valid JSON; see the Raw tab."</p>
        }
        .into_any(),
        BodyKind::Text => view! { <p class="hint">"The body is text, not JSON; see the Raw tab."</p> }.into_any(),
        BodyKind::Binary => view! { <p class="hint">"The body is binary; see the Raw tab."</p> }.into_any(),
    }
}

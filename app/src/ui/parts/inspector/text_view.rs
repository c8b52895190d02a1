//! The Raw tab: pretty or as-received text in a virtual list (only visible lines exist), escaped
//! always (HTML is never rendered), a hex preview for binary bodies, and where invalid JSON breaks.

use std::sync::Arc;

use leptos::html::Div;
use leptos::prelude::*;

use super::Body;
use crate::format;
use crate::inspect::text::{hex_dump, BodyKind};
use crate::inspect::tree::window;

const LINE_HEIGHT: f64 = 18.0;
const OVERSCAN: usize = 20;
const HEX_PREVIEW: usize = 4096;

#[component]
pub fn RawView(body: Arc<Body>) -> impl IntoView {
    let size = format::bytes(body.bytes.len() as u64);
    match body.kind {
        BodyKind::Empty => view! { <p class="hint" data-testid="empty-body">"No body."</p> }.into_any(),
        BodyKind::Binary => {
            let lines = hex_dump(&body.bytes, HEX_PREVIEW).join("\n");
            let shown = body.bytes.len().min(HEX_PREVIEW);
            view! {
                <p class="hint" data-testid="binary-notice">
                    {format!("Binary body, {} ({} bytes). First {shown} bytes:", size, body.bytes.len())}
                </p>
                <pre class="hex" data-testid="hex-preview">{lines}</pre>
            }
            .into_any()
        }
        BodyKind::Json if body.index().is_some() => {
            let pretty = RwSignal::new(true);
            let body = StoredValue::new(body);
            view! {
                <div class="raw-toolbar">
                    <label><input type="radio" name="raw-mode" data-testid="raw-pretty" prop:checked=move || pretty.get() on:change=move |_| pretty.set(true) />" Pretty"</label>
                    <label><input type="radio" name="raw-mode" data-testid="raw-received" prop:checked=move || !pretty.get() on:change=move |_| pretty.set(false) />" As received"</label>
                </div>
                {move || view! { <Lines body=body.get_value() pretty=pretty.get() highlight=None /> }}
            }
            .into_any()
        }
        BodyKind::Json => {
            let error = body.parse_error().cloned();
            let offset = error.as_ref().map(|e| e.offset);
            view! {
                {error.map(|e| view! {
                    <p class="console-error" role="alert" data-testid="json-error">
                        {format!("Not valid JSON at line {}, column {} (byte {}): {}.", e.line, e.column, e.offset, e.message)}
                    </p>
                })}
                <Lines body pretty=false highlight=offset />
            }
            .into_any()
        }
        BodyKind::Text => view! {
            <p class="hint" data-testid="text-notice">{format!("Text body, {size}, shown as text: markup is never rendered.")}</p>
            <Lines body pretty=false highlight=None />
        }
        .into_any(),
    }
}

/// A virtual list of text rows: a spacer of the full height and only the rows in view.
#[component]
fn Lines(body: Arc<Body>, pretty: bool, highlight: Option<usize>) -> impl IntoView {
    let scroller = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(480.0);
    let total = if pretty { body.pretty().1.len() } else { body.lines().len() };
    let highlight_row = highlight.map(|offset| {
        let lines = body.lines();
        lines.partition_point(|&(start, _)| start as usize <= offset).saturating_sub(1)
    });
    let body = StoredValue::new(body);
    Effect::new(move |_| {
        if let Some(el) = scroller.get() {
            viewport.set(f64::from(el.client_height()));
            if let Some(row) = highlight_row {
                let top = (row as f64 * LINE_HEIGHT - 100.0).max(0.0);
                request_animation_frame(move || {
                    el.set_scroll_top(top as i32);
                    scroll_top.set(f64::from(el.scroll_top()));
                });
            }
        }
    });
    let range = Memo::new(move |_| window(scroll_top.get(), viewport.get(), LINE_HEIGHT, total, OVERSCAN));
    view! {
        <div
            class="virtual text-rows"
            node_ref=scroller
            tabindex="0"
            data-testid="raw-view"
            data-total-rows=total.to_string()
            on:scroll=move |_| {
                if let Some(el) = scroller.get() {
                    scroll_top.set(f64::from(el.scroll_top()));
                    viewport.set(f64::from(el.client_height()));
                }
            }
        >
            <div class="spacer" style:height=format!("{}px", total as f64 * LINE_HEIGHT)>
                {move || {
                    let range = range.get();
                    body.with_value(|b| {
                        let (bytes, lines): (&[u8], &[(u32, u32)]) = if pretty { b.pretty() } else { (&b.bytes, b.lines()) };
                        lines[range.clone()]
                            .iter()
                            .enumerate()
                            .map(|(k, &(start, end))| {
                                let row = range.start + k;
                                let text = String::from_utf8_lossy(&bytes[start as usize..end as usize]).into_owned();
                                view! {
                                    <div
                                        class="line"
                                        class:error-line=highlight_row == Some(row)
                                        data-testid="raw-line"
                                        style:top=format!("{}px", row as f64 * LINE_HEIGHT)
                                    >
                                        {text}
                                    </div>
                                }
                            })
                            .collect_view()
                    })
                }}
            </div>
        </div>
    }
}

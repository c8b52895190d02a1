//! The request editor: method and path, a form generated from the operation's parameters, a JSON body.

use leptos::prelude::*;

use crate::format::path_placeholders;
use crate::wire::{Endpoint, ExecuteRequest, ParamLocation, Parameter};

/// One form field bound to a parameter.
#[derive(Clone, Copy)]
pub struct Field {
    pub param: StoredValue<Parameter>,
    pub value: RwSignal<String>,
}

/// Everything the editor holds; `Copy` so closures can share it freely.
#[derive(Clone, Copy)]
pub struct RequestDraft {
    pub method: RwSignal<String>,
    pub path: RwSignal<String>,
    pub fields: RwSignal<Vec<Field>>,
    pub body: RwSignal<String>,
    pub endpoint_id: RwSignal<Option<String>>,
}

impl RequestDraft {
    pub fn new() -> Self {
        Self {
            method: RwSignal::new("GET".to_owned()),
            path: RwSignal::new(String::new()),
            fields: RwSignal::new(Vec::new()),
            body: RwSignal::new(String::new()),
            endpoint_id: RwSignal::new(None),
        }
    }

    /// Fills the editor from a catalog operation, prefilled with its examples.
    pub fn load(&self, endpoint: &Endpoint) {
        self.method.set(endpoint.method.clone());
        self.path.set(endpoint.path.clone());
        self.endpoint_id.set(Some(endpoint.id.clone()));
        let mut params = endpoint.parameters.clone();
        // A template placeholder the document forgot to declare still needs a field.
        for name in path_placeholders(&endpoint.path) {
            if !params.iter().any(|p| p.location == ParamLocation::Path && p.name == name) {
                params.push(Parameter {
                    name,
                    location: ParamLocation::Path,
                    required: true,
                    description: String::new(),
                    schema_type: "string".into(),
                    enum_values: vec![],
                    example: None,
                    format: None,
                });
            }
        }
        self.fields.set(
            params
                .into_iter()
                .map(|param| Field {
                    value: RwSignal::new(param.example.clone().unwrap_or_default()),
                    param: StoredValue::new(param),
                })
                .collect(),
        );
        self.body.set(endpoint.body_example.clone().unwrap_or_default());
    }

    /// The request as the server expects it; empty optional parameters are left out.
    pub fn to_request(&self, environment: String) -> ExecuteRequest {
        let mut request = ExecuteRequest {
            environment,
            method: self.method.get_untracked(),
            path: self.path.get_untracked(),
            endpoint_id: self.endpoint_id.get_untracked(),
            ..ExecuteRequest::default()
        };
        for field in self.fields.get_untracked() {
            let param = field.param.get_value();
            let value = field.value.get_untracked();
            if value.is_empty() && param.location != ParamLocation::Path {
                continue;
            }
            let pair = (param.name, value);
            match param.location {
                ParamLocation::Path => request.path_params.push(pair),
                ParamLocation::Query => request.query.push(pair),
                ParamLocation::Header => request.headers.push(pair),
            }
        }
        let body = self.body.get_untracked();
        if !body.trim().is_empty() && method_has_body(&request.method) {
            request.body = Some(body);
        }
        request
    }
}

impl Default for RequestDraft {
    fn default() -> Self {
        Self::new()
    }
}

pub fn method_has_body(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH" | "DELETE")
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[component]
pub fn RequestEditor(draft: RequestDraft, on_run: Callback<()>, pending: Signal<bool>) -> impl IntoView {
    let body_error = Memo::new(move |_| {
        let body = draft.body.get();
        if body.trim().is_empty() || !method_has_body(&draft.method.get()) {
            return None;
        }
        serde_json::from_str::<serde_json::Value>(&body).err().map(|e| {
            format!("Body is not valid JSON (line {}, column {}): sending anyway is allowed.", e.line(), e.column())
        })
    });
    view! {
        <section class="request" aria-label="Request">
            <div class="request-line">
                <select
                    class="method-select"
                    data-testid="method-select"
                    prop:value=move || draft.method.get()
                    on:change=move |ev| draft.method.set(event_target_value(&ev))
                >
                    {METHODS.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
                </select>
                <input
                    class="path-input"
                    data-testid="path-input"
                    placeholder="/bank/wallet/charges/"
                    spellcheck="false"
                    prop:value=move || draft.path.get()
                    on:input=move |ev| {
                        draft.path.set(event_target_value(&ev));
                        draft.endpoint_id.set(None);
                    }
                />
                <button
                    class="run"
                    data-testid="run-button"
                    title="Run (Ctrl+Enter)"
                    disabled=move || pending.get()
                    on:click=move |_| on_run.run(())
                >
                    {move || if pending.get() { "Running…" } else { "Run" }}
                </button>
            </div>
            <div class="params">
                {move || {
                    let fields = draft.fields.get();
                    if fields.is_empty() {
                        return view! { <p class="hint">"Pick an endpoint, or type any path under the environment's API base."</p> }.into_any();
                    }
                    fields
                        .into_iter()
                        .map(|field| view! { <ParamInput field /> })
                        .collect_view()
                        .into_any()
                }}
            </div>
            <Show when=move || method_has_body(&draft.method.get())>
                <label class="body-label" for="body-editor">"JSON body"</label>
                <textarea
                    id="body-editor"
                    class="body-editor"
                    data-testid="body-editor"
                    spellcheck="false"
                    rows="14"
                    prop:value=move || draft.body.get()
                    on:input=move |ev| draft.body.set(event_target_value(&ev))
                ></textarea>
                {move || body_error.get().map(|e| view! { <p class="warning" data-testid="body-error">{e}</p> })}
            </Show>
        </section>
    }
}

#[component]
fn ParamInput(field: Field) -> impl IntoView {
    let param = field.param.get_value();
    let id = format!("param-{}", param.name);
    let location = match param.location {
        ParamLocation::Path => "path",
        ParamLocation::Query => "query",
        ParamLocation::Header => "header",
    };
    let required = param.required;
    let missing = move || required && field.value.with(|v| v.trim().is_empty());
    let input = if param.enum_values.is_empty() {
        view! {
            <input
                id=id.clone()
                data-testid=id.clone()
                spellcheck="false"
                placeholder=param.schema_type.clone()
                prop:value=move || field.value.get()
                on:input=move |ev| field.value.set(event_target_value(&ev))
            />
        }
        .into_any()
    } else {
        let options = param.enum_values.clone();
        view! {
            <select
                id=id.clone()
                data-testid=id.clone()
                prop:value=move || field.value.get()
                on:change=move |ev| field.value.set(event_target_value(&ev))
            >
                <option value="">"—"</option>
                {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        }
        .into_any()
    };
    view! {
        <div class="param" class:missing=missing title=param.description.clone()>
            <label for=id>
                <span class="param-name">{param.name.clone()}</span>
                {required.then(|| view! { <span class="required" title="required">"*"</span> })}
                <span class="param-location">{location}</span>
            </label>
            {input}
        </div>
    }
}

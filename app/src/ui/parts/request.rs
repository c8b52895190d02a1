//! The request editor: method and path (raw mode for any path under the base), a form generated
//! from the operation's parameters with inline checks, extra query parameters and headers, an
//! Idempotency-Key for POST, and a JSON body editor with example, skeleton, format, syntax errors
//! and schema warnings.

use leptos::prelude::*;
use serde_json::Value;

use crate::format::path_placeholders;
use crate::schema::{check_param, skeleton, validate, SchemaWarning};
use crate::wire::{Endpoint, ExecuteRequest, ParamLocation, Parameter};

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// More schema warnings than this are summarised, so a wrong body does not flood the editor.
const SHOWN_WARNINGS: usize = 12;

/// One form field bound to a parameter.
#[derive(Clone, Copy)]
pub struct Field {
    pub param: StoredValue<Parameter>,
    pub value: RwSignal<String>,
}

/// A free name/value row (query parameter or header the operation does not declare).
#[derive(Clone, Copy)]
pub struct Pair {
    pub name: RwSignal<String>,
    pub value: RwSignal<String>,
}

impl Pair {
    pub fn new(name: &str, value: &str) -> Self {
        Self { name: RwSignal::new(name.to_owned()), value: RwSignal::new(value.to_owned()) }
    }
}

/// Everything the editor holds; `Copy` so closures can share it freely.
#[derive(Clone, Copy)]
pub struct RequestDraft {
    pub method: RwSignal<String>,
    pub path: RwSignal<String>,
    pub fields: RwSignal<Vec<Field>>,
    pub extra_query: RwSignal<Vec<Pair>>,
    pub extra_headers: RwSignal<Vec<Pair>>,
    pub body: RwSignal<String>,
    pub endpoint_id: RwSignal<Option<String>>,
    pub body_schema: RwSignal<Option<Value>>,
    pub body_example: RwSignal<Option<String>>,
    /// The owner the draft was made under. Fields and rows are created under it, not under
    /// whatever component handled the click (an endpoint in a list that is re-rendered when the
    /// search changes), so they live as long as the editor does.
    owner: StoredValue<Option<Owner>>,
}

fn read<T: Clone + Send + Sync + 'static>(signal: RwSignal<T>, tracked: bool) -> T {
    if tracked {
        signal.get()
    } else {
        signal.get_untracked()
    }
}

pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn field_for(param: Parameter, value: &str) -> Field {
    Field { value: RwSignal::new(value.to_owned()), param: StoredValue::new(param) }
}

fn path_param(name: String) -> Parameter {
    Parameter {
        name,
        location: ParamLocation::Path,
        required: true,
        description: String::new(),
        schema_type: "string".into(),
        enum_values: vec![],
        example: None,
        format: None,
    }
}

impl RequestDraft {
    pub fn new() -> Self {
        Self {
            method: RwSignal::new("GET".to_owned()),
            path: RwSignal::new(String::new()),
            fields: RwSignal::new(Vec::new()),
            extra_query: RwSignal::new(Vec::new()),
            extra_headers: RwSignal::new(Vec::new()),
            body: RwSignal::new(String::new()),
            endpoint_id: RwSignal::new(None),
            body_schema: RwSignal::new(None),
            body_example: RwSignal::new(None),
            owner: StoredValue::new(Owner::current()),
        }
    }

    fn owned<T>(&self, make: impl FnOnce() -> T) -> T {
        match self.owner.get_value() {
            Some(owner) => owner.with(make),
            None => make(),
        }
    }

    fn pair(&self, name: &str, value: &str) -> Pair {
        self.owned(|| Pair::new(name, value))
    }

    fn field(&self, param: Parameter, value: &str) -> Field {
        self.owned(|| field_for(param, value))
    }

    /// Adds an empty row to `rows` (one of the draft's extra query or header lists).
    pub fn add_row(&self, rows: RwSignal<Vec<Pair>>) {
        let row = self.pair("", "");
        rows.update(|all| all.push(row));
    }

    /// Fills the editor from a catalog operation: required parameters get their example (an
    /// optional one only shows it as a hint, since a filled optional filter changes the request
    /// staff meant to send); the body is the document's example, or a skeleton from the schema;
    /// POST gets a fresh Idempotency-Key.
    pub fn load(&self, endpoint: &Endpoint) {
        self.method.set(endpoint.method.clone());
        self.path.set(endpoint.path.clone());
        self.endpoint_id.set(Some(endpoint.id.clone()));
        let mut params = endpoint.parameters.clone();
        // A template placeholder the document forgot to declare still needs a field.
        for name in path_placeholders(&endpoint.path) {
            if !params.iter().any(|p| p.location == ParamLocation::Path && p.name == name) {
                params.push(path_param(name));
            }
        }
        self.fields.set(
            params
                .into_iter()
                .map(|param| {
                    let value = if param.required { param.example.clone().unwrap_or_default() } else { String::new() };
                    self.field(param, &value)
                })
                .collect(),
        );
        self.extra_query.set(Vec::new());
        self.extra_headers.set(Vec::new());
        self.body_schema.set(endpoint.body_schema.as_ref().map(|schema| schema.0.clone()));
        self.body_example.set(endpoint.body_example.clone());
        let body = endpoint.body_example.clone().or_else(|| {
            endpoint.body_schema.as_ref().and_then(|schema| serde_json::to_string_pretty(&skeleton(&schema.0)).ok())
        });
        self.body.set(body.unwrap_or_default());
        self.ensure_idempotency_key();
    }

    /// Fills the editor with a request exactly as given (curl import, history, saved, link):
    /// the operation's fields when it is known, extra rows for everything else, nothing invented.
    pub fn apply(&self, request: &ExecuteRequest, endpoint: Option<&Endpoint>) {
        match endpoint {
            Some(endpoint) => {
                self.load(endpoint);
                for field in self.fields.get_untracked() {
                    field.value.set(String::new());
                }
                self.extra_query.set(Vec::new());
                self.extra_headers.set(Vec::new());
            }
            None => {
                self.endpoint_id.set(None);
                self.path.set(request.path.clone());
                self.fields.set(Vec::new());
                self.extra_query.set(Vec::new());
                self.extra_headers.set(Vec::new());
                self.body_schema.set(None);
                self.body_example.set(None);
                self.sync_path_fields();
            }
        }
        self.method.set(request.method.to_ascii_uppercase());
        let fields = self.fields.get_untracked();
        let place = |location: ParamLocation, name: &str, value: &str, extras: Option<RwSignal<Vec<Pair>>>| {
            let same = |p: &Parameter| {
                p.location == location
                    && if location == ParamLocation::Header {
                        p.name.eq_ignore_ascii_case(name)
                    } else {
                        p.name == name
                    }
            };
            match fields.iter().find(|f| f.param.with_value(same) && f.value.with_untracked(String::is_empty)) {
                Some(field) => field.value.set(value.to_owned()),
                None => {
                    if let Some(extras) = extras {
                        let row = self.pair(name, value);
                        extras.update(|rows| rows.push(row));
                    }
                }
            }
        };
        for (name, value) in &request.path_params {
            place(ParamLocation::Path, name, value, None);
        }
        for (name, value) in &request.query {
            place(ParamLocation::Query, name, value, Some(self.extra_query));
        }
        for (name, value) in &request.headers {
            place(ParamLocation::Header, name, value, Some(self.extra_headers));
        }
        self.body.set(request.body.clone().unwrap_or_default());
    }

    /// In raw mode, keeps one path field per `{placeholder}` of the typed path (values kept).
    pub fn sync_path_fields(&self) {
        let names = path_placeholders(&self.path.get_untracked());
        let mut fields = self.fields.get_untracked();
        let before = fields.len();
        fields.retain(|f| f.param.with_value(|p| p.location != ParamLocation::Path || names.contains(&p.name)));
        let mut changed = fields.len() != before;
        for name in names {
            if !fields.iter().any(|f| f.param.with_value(|p| p.location == ParamLocation::Path && p.name == name)) {
                fields.push(self.field(path_param(name), ""));
                changed = true;
            }
        }
        // Re-rendering the form on every keystroke in the path would be wasted work.
        if changed {
            self.fields.set(fields);
        }
    }

    fn idempotency_slot(&self) -> Option<RwSignal<String>> {
        let field = self.fields.get_untracked().into_iter().find(|f| {
            f.param.with_value(|p| p.location == ParamLocation::Header && p.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY))
        });
        field.map(|f| f.value).or_else(|| {
            self.extra_headers
                .get_untracked()
                .into_iter()
                .find(|row| row.name.with_untracked(|n| n.trim().eq_ignore_ascii_case(IDEMPOTENCY_KEY)))
                .map(|row| row.value)
        })
    }

    /// For POST: makes sure an Idempotency-Key is there (a55 supports it), as a field or a row.
    pub fn ensure_idempotency_key(&self) {
        if self.method.get_untracked() != "POST" {
            return;
        }
        match self.idempotency_slot() {
            Some(value) if !value.get_untracked().trim().is_empty() => {}
            Some(value) => value.set(new_idempotency_key()),
            None => {
                let row = self.pair(IDEMPOTENCY_KEY, &new_idempotency_key());
                self.extra_headers.update(|rows| rows.push(row));
            }
        }
    }

    /// Replaces the Idempotency-Key with a fresh one (to send a new operation, not a replay).
    pub fn renew_idempotency_key(&self) {
        match self.idempotency_slot() {
            Some(value) => value.set(new_idempotency_key()),
            None => {
                let row = self.pair(IDEMPOTENCY_KEY, &new_idempotency_key());
                self.extra_headers.update(|rows| rows.push(row));
            }
        }
    }

    fn collect(&self, environment: String, tracked: bool) -> ExecuteRequest {
        let mut request = ExecuteRequest {
            environment,
            method: read(self.method, tracked),
            path: read(self.path, tracked),
            endpoint_id: read(self.endpoint_id, tracked),
            ..ExecuteRequest::default()
        };
        for field in read(self.fields, tracked) {
            let param = field.param.get_value();
            let value = read(field.value, tracked);
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
        for row in read(self.extra_query, tracked) {
            let name = read(row.name, tracked);
            if !name.trim().is_empty() {
                request.query.push((name, read(row.value, tracked)));
            }
        }
        for row in read(self.extra_headers, tracked) {
            let name = read(row.name, tracked);
            if !name.trim().is_empty() {
                request.headers.push((name.trim().to_owned(), read(row.value, tracked)));
            }
        }
        let body = read(self.body, tracked);
        if !body.trim().is_empty() && method_has_body(&request.method) {
            request.body = Some(body);
        }
        request
    }

    /// The request as the server expects it; empty optional parameters are left out.
    pub fn to_request(&self, environment: String) -> ExecuteRequest {
        self.collect(environment, false)
    }

    /// Same, but subscribing to every part, for views that follow the form (link, snippets).
    pub fn tracked_request(&self, environment: String) -> ExecuteRequest {
        self.collect(environment, true)
    }

    /// What would make the API refuse the request, for a confirmation before sending.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.path.get_untracked().trim().is_empty() {
            problems.push("the path is empty".to_owned());
        }
        for field in self.fields.get_untracked() {
            let param = field.param.get_value();
            if let Some(problem) = check_param(&param, &field.value.get_untracked()) {
                problems.push(format!("{} ({}): {problem}", param.name, location_name(param.location)));
            }
        }
        problems
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

fn location_name(location: ParamLocation) -> &'static str {
    match location {
        ParamLocation::Path => "path",
        ParamLocation::Query => "query",
        ParamLocation::Header => "header",
    }
}

/// JSON syntax error with line and column, or `None` when the body parses (or is empty).
pub fn body_syntax_error(body: &str) -> Option<String> {
    if body.trim().is_empty() {
        return None;
    }
    serde_json::from_str::<Value>(body)
        .err()
        .map(|e| format!("Not valid JSON at line {}, column {}: {e}. Sending anyway is allowed.", e.line(), e.column()))
}

/// Schema warnings for a body that parses; none when there is no schema or the body does not parse.
pub fn body_warnings(body: &str, schema: Option<&Value>) -> Vec<SchemaWarning> {
    match (schema, serde_json::from_str::<Value>(body)) {
        (Some(schema), Ok(value)) if !body.trim().is_empty() => validate(schema, &value),
        _ => Vec::new(),
    }
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

#[component]
pub fn RequestEditor(draft: RequestDraft, on_run: Callback<()>, pending: Signal<bool>) -> impl IntoView {
    view! {
        <section class="request" aria-label="Request">
            <RequestLine draft on_run pending />
            <Show when=move || draft.endpoint_id.with(Option::is_none) && draft.path.with(|p| !p.is_empty())>
                <p class="hint raw-mode" data-testid="raw-mode">
                    "Raw request: not a catalog operation. Any path under the environment's API base; "
                    "the console refuses URLs, '..' and encoded separators."
                </p>
            </Show>
            <div class="params">
                {move || {
                    let fields = draft.fields.get();
                    if fields.is_empty() {
                        return view! { <p class="hint">"Pick an endpoint, or type any path under the environment's API base."</p> }.into_any();
                    }
                    fields.into_iter().map(|field| view! { <ParamInput field draft /> }).collect_view().into_any()
                }}
            </div>
            <PairRows rows=draft.extra_query kind="query" label="Query parameters" add_label="Add query parameter" draft />
            <PairRows rows=draft.extra_headers kind="header" label="Headers" add_label="Add header" draft />
            <BodyEditor draft />
        </section>
    }
    .into_any()
}

/// Method, path and Run.
#[component]
fn RequestLine(draft: RequestDraft, on_run: Callback<()>, pending: Signal<bool>) -> impl IntoView {
    view! {
        <div class="request-line">
            <select
                class="method-select"
                aria-label="HTTP method"
                data-testid="method-select"
                prop:value=move || draft.method.get()
                on:change=move |ev| {
                    draft.method.set(event_target_value(&ev));
                    draft.ensure_idempotency_key();
                }
            >
                {METHODS.iter().map(|m| view! { <option value=*m>{*m}</option> }).collect_view()}
            </select>
            <input
                class="path-input"
                data-testid="path-input"
                placeholder="/bank/wallet/charges/"
                spellcheck="false"
                aria-label="Path under the environment's API base"
                prop:value=move || draft.path.get()
                on:input=move |ev| {
                    draft.path.set(event_target_value(&ev));
                    draft.endpoint_id.set(None);
                    draft.sync_path_fields();
                }
            />
            <button
                class="run"
                data-testid="run-button"
                title="Run (Ctrl+Enter or Cmd+Enter)"
                disabled=move || pending.get()
                on:click=move |_| on_run.run(())
            >
                {move || if pending.get() { "Running…" } else { "Run" }}
            </button>
        </div>
    }
}

/// The JSON body of a method that has one: editor, format, example, skeleton, syntax error and
/// schema warnings.
#[component]
fn BodyEditor(draft: RequestDraft) -> impl IntoView {
    let body_error = Memo::new(move |_| {
        if !method_has_body(&draft.method.get()) {
            return None;
        }
        draft.body.with(|b| body_syntax_error(b))
    });
    let warnings = Memo::new(move |_| {
        if !method_has_body(&draft.method.get()) {
            return Vec::new();
        }
        draft.body_schema.with(|schema| draft.body.with(|b| body_warnings(b, schema.as_ref())))
    });
    let format_body = move |_| {
        if let Ok(value) = serde_json::from_str::<Value>(&draft.body.get_untracked()) {
            if let Ok(pretty) = serde_json::to_string_pretty(&value) {
                draft.body.set(pretty);
            }
        }
    };
    let use_skeleton = move |_| {
        if let Some(schema) = draft.body_schema.get_untracked() {
            if let Ok(text) = serde_json::to_string_pretty(&skeleton(&schema)) {
                draft.body.set(text);
            }
        }
    };
    let use_example = move |_| {
        if let Some(example) = draft.body_example.get_untracked() {
            draft.body.set(example);
        }
    };
    view! {
        <Show when=move || method_has_body(&draft.method.get())>
            <div class="body-toolbar">
                <label class="body-label" for="body-editor">"JSON body"</label>
                <button class="small" data-testid="body-format" on:click=format_body disabled=move || body_error.with(Option::is_some)>
                    "Format"
                </button>
                <Show when=move || draft.body_example.with(Option::is_some)>
                    <button class="small" data-testid="body-example" on:click=use_example>"Example"</button>
                </Show>
                <Show when=move || draft.body_schema.with(Option::is_some)>
                    <button class="small" data-testid="body-skeleton" on:click=use_skeleton>"Skeleton from schema"</button>
                </Show>
            </div>
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
            {move || {
                let all = warnings.get();
                (!all.is_empty()).then(|| {
                    let more = all.len().saturating_sub(SHOWN_WARNINGS);
                    view! {
                        <div class="schema-warnings" data-testid="schema-warnings">
                            <p>"The body does not match the operation's schema (sending is still allowed):"</p>
                            <ul>
                                {all.into_iter().take(SHOWN_WARNINGS).map(|w| view! { <li><code>{w.path.clone()}</code>" "{w.message.clone()}</li> }).collect_view()}
                            </ul>
                            {(more > 0).then(|| view! { <p>{format!("…and {more} more")}</p> })}
                        </div>
                    }
                })
            }}
        </Show>
    }
}

#[component]
fn ParamInput(field: Field, draft: RequestDraft) -> impl IntoView {
    let param = field.param.get_value();
    let id = format!("param-{}", param.name);
    let location = location_name(param.location);
    let required = param.required;
    let checked = param.clone();
    let problem = Memo::new(move |_| field.value.with(|v| check_param(&checked, v)));
    let missing = move || required && field.value.with(|v| v.trim().is_empty());
    let is_idempotency = param.location == ParamLocation::Header && param.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY);
    let input = if param.enum_values.is_empty() {
        let kind = match (param.schema_type.as_str(), param.format.as_deref()) {
            (kind, Some(format)) => format!("{kind} ({format})"),
            (kind, None) => kind.to_owned(),
        };
        let hint = match &param.example {
            Some(example) if !required => format!("{kind}, e.g. {example}"),
            _ => kind,
        };
        view! {
            <input
                id=id.clone()
                data-testid=id.clone()
                spellcheck="false"
                placeholder=hint
                aria-invalid=move || problem.with(Option::is_some).to_string()
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
    let problem_id = format!("{id}-problem");
    view! {
        <div class="param" class:missing=missing class:invalid=move || problem.with(Option::is_some) title=param.description.clone()>
            <label for=id>
                <span class="param-name">{param.name.clone()}</span>
                {required.then(|| view! { <span class="required" title="required">"*"</span> })}
                <span class="param-location">{location}</span>
            </label>
            <div class="param-input">
                {input}
                {is_idempotency.then(|| view! {
                    <button class="small" data-testid="new-idempotency-key" title="A new key sends a new operation; the same key replays" on:click=move |_| draft.renew_idempotency_key()>
                        "New key"
                    </button>
                })}
            </div>
            {move || problem.get().filter(|_| !missing()).map(|p| view! { <p class="param-problem" data-testid=problem_id.clone()>{p}</p> })}
        </div>
    }
}

#[component]
fn PairRows(
    rows: RwSignal<Vec<Pair>>,
    kind: &'static str,
    label: &'static str,
    add_label: &'static str,
    draft: RequestDraft,
) -> impl IntoView {
    view! {
        <div class=format!("pairs pairs-{kind}")>
            <Show when=move || rows.with(|r| !r.is_empty())>
                <h4>{label}</h4>
            </Show>
            {move || rows.get().into_iter().enumerate().map(|(index, row)| {
                let is_idempotency = move || row.name.with(|n| n.trim().eq_ignore_ascii_case(IDEMPOTENCY_KEY));
                view! {
                    <div class="pair">
                        <input
                            class="pair-name"
                            data-testid=format!("extra-{kind}-name-{index}")
                            placeholder="name"
                            spellcheck="false"
                            prop:value=move || row.name.get()
                            on:input=move |ev| row.name.set(event_target_value(&ev))
                        />
                        <input
                            class="pair-value"
                            data-testid=format!("extra-{kind}-value-{index}")
                            placeholder="value"
                            spellcheck="false"
                            prop:value=move || row.value.get()
                            on:input=move |ev| row.value.set(event_target_value(&ev))
                        />
                        <Show when=is_idempotency>
                            <button class="small" data-testid="new-idempotency-key" title="A new key sends a new operation; the same key replays" on:click=move |_| draft.renew_idempotency_key()>
                                "New key"
                            </button>
                        </Show>
                        <button
                            class="small remove"
                            data-testid=format!("extra-{kind}-remove-{index}")
                            title="Remove"
                            on:click=move |_| rows.update(|all| {
                                if index < all.len() {
                                    all.remove(index);
                                }
                            })
                        >
                            "✕"
                        </button>
                    </div>
                }
            }).collect_view()}
            <button class="small add" data-testid=format!("add-{kind}") on:click=move |_| draft.add_row(rows)>
                {format!("+ {add_label}")}
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create_charge() -> Endpoint {
        Endpoint {
            id: "createCharge".into(),
            method: "POST".into(),
            path: "/bank/wallet/charge/".into(),
            summary: String::new(),
            description: String::new(),
            tag: "Charges".into(),
            parameters: vec![
                Parameter {
                    name: "wallet_uuid".into(),
                    location: ParamLocation::Query,
                    required: true,
                    description: String::new(),
                    schema_type: "string".into(),
                    enum_values: vec![],
                    example: Some("w-1".into()),
                    format: None,
                },
                Parameter {
                    name: "status".into(),
                    location: ParamLocation::Query,
                    required: false,
                    description: String::new(),
                    schema_type: "string".into(),
                    enum_values: vec!["paid".into(), "pending".into()],
                    example: None,
                    format: None,
                },
                Parameter {
                    name: "limit".into(),
                    location: ParamLocation::Query,
                    required: false,
                    description: String::new(),
                    schema_type: "integer".into(),
                    enum_values: vec![],
                    example: Some("20".into()),
                    format: None,
                },
            ],
            body_example: None,
            body_schema: Some(crate::wire::JsonDocument(
                json!({"type": "object", "required": ["value"], "properties": {"value": {"type": "number"}, "payer": {"type": "object", "properties": {"email": {"type": "string"}}}}}),
            )),
            needs_token: true,
            writes: true,
            source: String::new(),
            confidence: "high".into(),
            origin: "a55".into(),
            also_in: vec![],
        }
    }

    #[test]
    fn loading_a_post_generates_a_skeleton_body_prefills_only_required_examples_and_adds_an_idempotency_key() {
        let owner = Owner::new();
        owner.set();
        let draft = RequestDraft::new();
        draft.load(&create_charge());
        let request = draft.to_request("sandbox".into());
        assert_eq!(request.query, vec![("wallet_uuid".to_owned(), "w-1".to_owned())]);
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, json!({"value": 0, "payer": {"email": ""}}));
        let (name, key) = &request.headers[0];
        assert_eq!(name, IDEMPOTENCY_KEY);
        assert!(uuid::Uuid::parse_str(key).is_ok_and(|u| u.get_version_num() == 4), "{key}");
        draft.renew_idempotency_key();
        assert_ne!(&draft.to_request("sandbox".into()).headers[0].1, key);
    }

    #[test]
    fn applying_a_request_fills_known_fields_and_keeps_the_rest_as_rows_without_inventing_values() {
        let owner = Owner::new();
        owner.set();
        let draft = RequestDraft::new();
        let request = ExecuteRequest {
            environment: "sandbox".into(),
            method: "POST".into(),
            path: "/bank/wallet/charge/".into(),
            query: vec![("status".into(), "paid".into()), ("debug".into(), "1".into())],
            headers: vec![("X-Partner".into(), "p".into())],
            body: Some("{broken".into()),
            endpoint_id: Some("createCharge".into()),
            ..ExecuteRequest::default()
        };
        draft.apply(&request, Some(&create_charge()));
        let again = draft.to_request("sandbox".into());
        assert_eq!(again.query, vec![("status".to_owned(), "paid".to_owned()), ("debug".to_owned(), "1".to_owned())]);
        assert_eq!(again.headers, vec![("X-Partner".to_owned(), "p".to_owned())], "no Idempotency-Key invented");
        assert_eq!(again.body.as_deref(), Some("{broken"));
        assert_eq!(draft.problems(), vec!["wallet_uuid (query): required".to_owned()]);
    }

    #[test]
    fn a_raw_request_gets_path_fields_for_its_placeholders() {
        let owner = Owner::new();
        owner.set();
        let draft = RequestDraft::new();
        let request = ExecuteRequest {
            method: "GET".into(),
            path: "/custom/{id}/".into(),
            path_params: vec![("id".into(), "42".into())],
            query: vec![("q".into(), "x".into())],
            ..ExecuteRequest::default()
        };
        draft.apply(&request, None);
        let again = draft.to_request("simulator".into());
        assert_eq!(again.path_params, vec![("id".to_owned(), "42".to_owned())]);
        assert_eq!(again.query, vec![("q".to_owned(), "x".to_owned())]);
        assert_eq!(again.endpoint_id, None);
        draft.path.set("/custom/".into());
        draft.sync_path_fields();
        assert!(draft.to_request("simulator".into()).path_params.is_empty());
    }

    #[test]
    fn body_checks_report_line_and_column_and_schema_warnings() {
        let error = body_syntax_error("{\n  \"a\": 1,\n}").unwrap();
        assert!(error.starts_with("Not valid JSON at line 3, column 1"), "{error}");
        assert_eq!(body_syntax_error("  "), None);
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        assert_eq!(body_warnings("{\"a\": 1}", Some(&schema)).len(), 1);
        assert!(body_warnings("{\"a\": 1", Some(&schema)).is_empty());
    }
}

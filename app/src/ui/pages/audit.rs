//! The admin page of the audit trail: filters, the newest rows first, and JSON Lines / CSV export.

use leptos::prelude::*;

use crate::api::list_audit_records;
use crate::wire::AuditFilter;

/// `2026-11-29T04:05:06Z`-style text from Unix milliseconds (UTC, computed without a date library).
pub fn utc_text(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn export_href(format: &str, filter: &AuditFilter) -> String {
    let mut href = format!("/audit/export?format={format}");
    for (key, value) in [
        ("actor", &filter.actor),
        ("environment", &filter.environment),
        ("event", &filter.event),
        ("status", &filter.status),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            href.push_str(&format!("&{key}={}", js_encode(value)));
        }
    }
    href
}

/// Percent-encodes everything but unreserved characters.
fn js_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let environment = RwSignal::new(String::new());
    let event = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let applied = RwSignal::new(AuditFilter::default());
    let rows = crate::codec::load(move || applied.get(), list_audit_records);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let text = |s: RwSignal<String>| Some(s.get_untracked()).filter(|v| !v.trim().is_empty());
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        applied.set(AuditFilter {
            actor: text(actor),
            environment: text(environment),
            event: text(event),
            status: text(status),
            limit: Some(500),
            ..AuditFilter::default()
        });
    };
    let field = |label: &'static str, signal: RwSignal<String>, testid: &'static str, hint: &'static str| {
        view! {
            <label>
                <span>{label}</span>
                <input data-testid=testid placeholder=hint prop:value=move || signal.get() on:input=move |ev| signal.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <main class="audit" data-hydrated=move || hydrated.get().to_string()>
            <header class="audit-head">
                <h1 class="brand"><a href="/">"a55 console"</a>" · audit trail"</h1>
                <a data-testid="export-jsonl" href=move || export_href("jsonl", &applied.get())>"Export JSON Lines"</a>
                <a data-testid="export-csv" href=move || export_href("csv", &applied.get())>"Export CSV"</a>
            </header>
            <form class="audit-filters" on:submit=apply>
                {field("Staff", actor, "filter-actor", "name")}
                {field("Environment", environment, "filter-environment", "id")}
                {field("Event", event, "filter-event", "request, login, refused…")}
                {field("Status", status, "filter-status", "200 or 4xx")}
                <button type="submit" data-testid="filter-apply">"Apply"</button>
            </form>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="hint">"No matching events."</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="audit-table" data-testid="audit-table">
                                <thead><tr>
                                    <th>"Time (UTC)"</th><th>"Staff"</th><th>"Event"</th><th>"Environment"</th>
                                    <th>"Request"</th><th>"Status"</th><th>"ms"</th><th>"Outcome"</th><th>"Detail"</th><th>"Address"</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|r| { let event = r.event.clone(); let path = r.path.clone().unwrap_or_default(); view! {
                                        <tr data-testid="audit-row" data-event=event>
                                            <td>{utc_text(r.at_ms)}</td>
                                            <td>{r.actor}</td>
                                            <td>{r.event}</td>
                                            <td>{r.environment.unwrap_or_default()}</td>
                                            <td title=path>
                                                {format!("{} {}", r.method.unwrap_or_default(), r.path_template.unwrap_or_default()).trim().to_owned()}
                                            </td>
                                            <td>{r.status.map(|s| s.to_string()).unwrap_or_default()}</td>
                                            <td>{r.duration_ms.map(|d| d.to_string()).unwrap_or_default()}</td>
                                            <td>{r.outcome}</td>
                                            <td>{r.detail.unwrap_or_default()}</td>
                                            <td>{r.address.unwrap_or_default()}</td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <p class="console-error" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_matches_known_instants() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc_text(951_782_400_000), "2000-02-29 00:00:00Z");
        assert_eq!(utc_text(1_795_000_000_123), "2026-11-18 11:06:40Z");
    }

    #[test]
    fn export_links_carry_the_filters_encoded() {
        let filter = AuditFilter { actor: Some("a b&c".into()), status: Some("4xx".into()), ..AuditFilter::default() };
        assert_eq!(export_href("csv", &filter), "/audit/export?format=csv&actor=a%20b%26c&status=4xx");
    }
}

//! Saved requests shared by all staff: save the current request under a name in a collection,
//! open, copy; its owner (or an admin) may also update, rename/move and delete it.

use leptos::prelude::*;

use crate::api::{delete_saved_request, list_saved_requests, store_saved_request};
use crate::wire::{ExecuteRequest, SaveRequest, SavedRequest};

#[component]
pub fn SavedPanel(current: Signal<ExecuteRequest>, on_open: Callback<ExecuteRequest>) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        async move { list_saved_requests().await }
    });
    let name = RwSignal::new(String::new());
    let collection = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<i64>);
    let message = RwSignal::new(None::<Result<String, String>>);
    let store = move |input: SaveRequest| {
        leptos::task::spawn_local(async move {
            match store_saved_request(input).await {
                Ok(saved) => {
                    message.set(Some(Ok(format!("Saved \"{}\" in {}", saved.name, saved.collection))));
                    editing.set(None);
                    name.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(error) => message.set(Some(Err(error.to_string()))),
            }
        });
    };
    let save = move |_| {
        store(SaveRequest {
            id: editing.get_untracked(),
            name: name.get_untracked(),
            collection: collection.get_untracked(),
            request: current.get_untracked(),
        })
    };
    let remove = move |id: i64| {
        leptos::task::spawn_local(async move {
            match delete_saved_request(id).await {
                Ok(()) => version.update(|v| *v += 1),
                Err(error) => message.set(Some(Err(error.to_string()))),
            }
        });
    };
    let edit = move |saved: &SavedRequest| {
        editing.set(Some(saved.id));
        name.set(saved.name.clone());
        collection.set(saved.collection.clone());
        message.set(None);
    };
    // Someone else's request: open it and prepare a new one under a new name.
    let copy = move |saved: &SavedRequest| {
        on_open.run(saved.request.clone());
        editing.set(None);
        name.set(format!("{} (copy)", saved.name));
        collection.set(saved.collection.clone());
        message.set(None);
    };
    view! {
        <div class="tool saved" data-testid="saved-panel">
            <div class="save-form">
                <input data-testid="saved-name" placeholder="Name, e.g. Partner X refund" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                <input data-testid="saved-collection" placeholder="Collection (General)" prop:value=move || collection.get() on:input=move |ev| collection.set(event_target_value(&ev)) />
                <button class="small" data-testid="saved-save" on:click=save>
                    {move || if editing.get().is_some() { "Update with the current request" } else { "Save the current request" }}
                </button>
                <Show when=move || editing.get().is_some()>
                    <button class="small" on:click=move |_| { editing.set(None); name.set(String::new()); }>"Cancel"</button>
                </Show>
            </div>
            <p class="hint">"Saved requests are shared with all staff; only the person who saved one, or an admin, may change or delete it (others copy it). They never hold a token or secret."</p>
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" data-testid="saved-message">{text}</p> }.into_any(),
                Err(text) => view! { <p class="console-error" role="alert" data-testid="saved-error">{text}</p> }.into_any(),
            })}
            {move || match list.get() {
                None => view! { <p class="hint">"Loading saved requests…"</p> }.into_any(),
                Some(Err(error)) => view! { <p class="console-error">{error.to_string()}</p> }.into_any(),
                Some(Ok(all)) if all.is_empty() => view! { <p class="hint">"Nothing saved yet."</p> }.into_any(),
                Some(Ok(all)) => {
                    let mut groups: Vec<(String, Vec<SavedRequest>)> = Vec::new();
                    for saved in all {
                        match groups.iter_mut().find(|(c, _)| *c == saved.collection) {
                            Some((_, members)) => members.push(saved),
                            None => groups.push((saved.collection.clone(), vec![saved])),
                        }
                    }
                    groups.into_iter().map(|(collection_name, members)| view! {
                        <section class="saved-collection">
                            <h4>{collection_name}</h4>
                            <ul>
                                {members.into_iter().map(|saved| {
                                    let request = saved.request.clone();
                                    let id = saved.id;
                                    let for_edit = saved.clone();
                                    let can_change = saved.can_change;
                                    view! {
                                        <li class="saved-item" data-testid="saved-item">
                                            <span class="saved-name">{saved.name.clone()}</span>
                                            <code>{format!("{} {} · {}", saved.request.method, saved.request.path, saved.request.environment)}</code>
                                            <span class="saved-by">{format!("by {}", saved.updated_by)}</span>
                                            <button class="small" data-testid="saved-open" on:click=move |_| on_open.run(request.clone())>"Open"</button>
                                            {if can_change {
                                                view! {
                                                    <button class="small" data-testid="saved-edit" on:click=move |_| edit(&for_edit)>"Edit"</button>
                                                    <button class="small remove" data-testid="saved-delete" on:click=move |_| remove(id)>"Delete"</button>
                                                }.into_any()
                                            } else {
                                                view! {
                                                    <button class="small" data-testid="saved-copy" title=format!("Only {} or an admin may change it", for_edit.created_by) on:click=move |_| copy(&for_edit)>"Copy"</button>
                                                }.into_any()
                                            }}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    }).collect_view().into_any()
                }
            }}
        </div>
    }
}

//! The browser's clock as a signal, ticking only after hydration (the server never reads it), and
//! timers and window listeners that live exactly as long as the component that starts them.

use leptos::prelude::*;
use std::time::Duration;

/// Milliseconds since the Unix epoch in the browser, `None` during SSR and before hydration.
#[derive(Clone, Copy)]
pub struct BrowserClock(pub ReadSignal<Option<f64>>);

/// Starts a 250 ms ticker once the app is live in the browser and provides it as context.
pub fn provide_browser_clock() -> BrowserClock {
    let (now, set_now) = signal(None::<f64>);
    Effect::new(move |_| set_now.set(Some(js_sys::Date::now())));
    repeat_while_mounted(Duration::from_millis(250), move || set_now.set(Some(js_sys::Date::now())));
    let clock = BrowserClock(now);
    provide_context(clock);
    clock
}

/// Runs `tick` every `period` in the browser while the calling component is mounted: the timer
/// stops when the page that started it goes away, so moving between pages never stacks timers.
pub fn repeat_while_mounted(period: Duration, tick: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(tick.clone(), period) {
            on_cleanup(move || handle.clear());
        }
    });
}

/// A window event listener that is removed when the calling component unmounts (a page's keyboard
/// shortcut must not outlive the page, or one key press would act once per visit).
pub fn window_listener_while_mounted<E>(event: E, handler: impl Fn(E::EventType) + 'static)
where
    E: leptos::tachys::html::event::EventDescriptor + 'static,
    E::EventType: wasm_bindgen::JsCast,
{
    let handle = window_event_listener(event, handler);
    on_cleanup(move || handle.remove());
}

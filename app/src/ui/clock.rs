//! The browser's clock as a signal, ticking only after hydration (the server never reads it).

use leptos::prelude::*;
use std::time::Duration;

/// Milliseconds since the Unix epoch in the browser, `None` during SSR and before hydration.
#[derive(Clone, Copy)]
pub struct BrowserClock(pub ReadSignal<Option<f64>>);

/// Starts a 250 ms ticker once the app is live in the browser and provides it as context.
pub fn provide_browser_clock() -> BrowserClock {
    let (now, set_now) = signal(None::<f64>);
    Effect::new(move |_| {
        set_now.set(Some(js_sys::Date::now()));
        // The handle lives as long as the page; the console has a single long-lived screen.
        let _ = set_interval_with_handle(move || set_now.set(Some(js_sys::Date::now())), Duration::from_millis(250));
    });
    let clock = BrowserClock(now);
    provide_context(clock);
    clock
}

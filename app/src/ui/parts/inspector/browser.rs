//! The few browser calls the inspector needs: fetching a stored body, the clipboard, performance marks.
//! On the server build they are inert (the inspector only runs them from effects and events).

#[cfg(feature = "hydrate")]
mod imp {
    use wasm_bindgen::{JsCast as _, JsValue};
    use wasm_bindgen_futures::JsFuture;

    fn describe(value: &JsValue) -> String {
        value.as_string().or_else(|| js_sys::JSON::stringify(value).ok().map(String::from)).unwrap_or_default()
    }

    /// The body bytes from `/api/bodies/{id}`, as the server kept them.
    pub async fn fetch_body(id: &str) -> Result<Vec<u8>, String> {
        let window = web_sys::window().ok_or("no browser window")?;
        let answer = JsFuture::from(window.fetch_with_str(&format!("/api/bodies/{id}")))
            .await
            .map_err(|e| format!("the body could not be fetched: {}", describe(&e)))?;
        let response: web_sys::Response = answer.dyn_into().map_err(|_| "the body fetch gave no response")?;
        if !response.ok() {
            let text = match response.text() {
                Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
                Err(_) => String::new(),
            };
            return Err(format!("the body could not be loaded ({}): {text}", response.status()));
        }
        let buffer = JsFuture::from(response.array_buffer().map_err(|e| describe(&e))?)
            .await
            .map_err(|e| format!("the body could not be read: {}", describe(&e)))?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }

    /// Writes `text` to the clipboard; `done` hears whether it worked.
    pub fn copy(text: String, done: impl FnOnce(Result<(), String>) + 'static) {
        leptos::task::spawn_local(async move {
            let Some(window) = web_sys::window() else {
                done(Err("no browser window".into()));
                return;
            };
            let promise = window.navigator().clipboard().write_text(&text);
            done(JsFuture::from(promise).await.map(|_| ()).map_err(|e| describe(&e)));
        });
    }

    pub fn now_ms() -> f64 {
        web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
    }

    /// `performance.mark(name, {detail})`, read by the benchmark.
    pub fn mark(name: &str, detail: &[(&str, f64)]) {
        let Some(performance) = web_sys::window().and_then(|w| w.performance()) else { return };
        let options = js_sys::Object::new();
        let details = js_sys::Object::new();
        for (key, value) in detail {
            let _ = js_sys::Reflect::set(&details, &JsValue::from_str(key), &JsValue::from_f64(*value));
        }
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str("detail"), &details);
        if let Ok(function) = js_sys::Reflect::get(&performance, &JsValue::from_str("mark")) {
            if let Some(function) = function.dyn_ref::<js_sys::Function>() {
                let _ = function.call2(&performance, &JsValue::from_str(name), &options);
            }
        }
    }

    /// Bytes of WASM linear memory in use (the index lives there, outside the JS heap).
    pub fn wasm_memory_bytes() -> f64 {
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .map_or(0.0, |m| f64::from(m.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length()))
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub async fn fetch_body(_id: &str) -> Result<Vec<u8>, String> {
        Err("bodies are fetched by the browser".into())
    }
    pub fn copy(_text: String, done: impl FnOnce(Result<(), String>) + 'static) {
        done(Err("the clipboard is only available in the browser".into()));
    }
    pub fn now_ms() -> f64 {
        0.0
    }
    pub fn mark(_name: &str, _detail: &[(&str, f64)]) {}
    pub fn wasm_memory_bytes() -> f64 {
        0.0
    }
}

pub use imp::*;

//! How the browser reads the server's JSON: through one parsed value and a small non-generic decoder per type.
//!
//! serde's derived `Deserialize` is generic over the deserializer, so every wire type brings its
//! own copy of serde_json's parsing loops into the WASM (about 11 % of all code). `serde_lite`
//! parses the text once into a value (`Intermediate`), the only serde_json instantiation, and each
//! type reads that value with one plain function. The bytes on the wire do not change: the server
//! still writes them with serde, so scripts and tests that read the `/api` answers see the same JSON.
//! Every wire type derives both; the tests check that each one reads back what serde wrote, and that
//! every server function and resource goes through here.

use bytes::Bytes;
use leptos::prelude::Resource;
use leptos::server_fn::codec::Post;
use leptos::server_fn::error::ServerFnErrorErr;
use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType};
use serde_lite::Intermediate;

use crate::wire::ConsoleError;

/// Reads JSON text into `T`. The message names the field that did not fit.
pub fn from_json<T: serde_lite::Deserialize>(text: &[u8]) -> Result<T, String> {
    let value: Intermediate = serde_json::from_slice(text).map_err(|error| error.to_string())?;
    T::deserialize(&value).map_err(|error| error.to_string())
}

/// A parsed value as a `serde_json::Value`, for the few answers that carry a JSON document as is.
pub fn to_value(value: &Intermediate) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Intermediate::None => Value::Null,
        Intermediate::Bool(flag) => Value::Bool(*flag),
        Intermediate::Number(number) => match *number {
            serde_lite::Number::SignedInt(n) => Value::from(n),
            serde_lite::Number::UnsignedInt(n) => Value::from(n),
            serde_lite::Number::Float(n) => Value::from(n),
        },
        Intermediate::String(text) => Value::String(text.to_string()),
        Intermediate::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        Intermediate::Map(map) => {
            Value::Object(map.iter().map(|(key, item)| (key.to_string(), to_value(item))).collect())
        }
    }
}

/// The answer encoding of the console's server functions: written by serde as JSON, read by [`from_json`].
pub struct LiteJsonEncoding;

impl ContentType for LiteJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for LiteJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: serde::Serialize> Encodes<T> for LiteJsonEncoding {
    type Error = ServerFnErrorErr;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from).map_err(|error| ServerFnErrorErr::Serialization(error.to_string()))
    }
}

impl<T: serde_lite::Deserialize> Decodes<T> for LiteJsonEncoding {
    type Error = ServerFnErrorErr;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        from_json(&bytes).map_err(ServerFnErrorErr::Deserialization)
    }
}

/// `#[server(output = LiteJson)]`: the answer is JSON in the response body.
pub type LiteJson = Post<LiteJsonEncoding>;

/// How a resource's value travels in the page to be picked up by hydration: serde's JSON of
/// `Result<T, ConsoleError>` (`{"Ok": …}` or `{"Err": …}`), read back by [`from_json`].
pub struct LiteCodec;

impl<T: serde::Serialize> codee::Encoder<T> for LiteCodec {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: serde_lite::Deserialize> codee::Decoder<Result<T, ConsoleError>> for LiteCodec {
    type Error = String;
    type Encoded = str;

    fn decode(text: &str) -> Result<Result<T, ConsoleError>, String> {
        let value: Intermediate = serde_json::from_str(text).map_err(|error| error.to_string())?;
        let map = value.as_map().ok_or("a resource's value is not an object")?;
        if let Some(ok) = map.get("Ok") {
            T::deserialize(ok).map(Ok).map_err(|error| error.to_string())
        } else if let Some(err) = map.get("Err") {
            <ConsoleError as serde_lite::Deserialize>::deserialize(err).map(Err).map_err(|error| error.to_string())
        } else {
            Err("a resource's value is neither Ok nor Err".into())
        }
    }
}

/// A value the page loads from the server, rendered on the server and picked up by hydration.
pub type Loaded<T> = Resource<Result<T, ConsoleError>, LiteCodec>;

/// [`Resource::new`] for the console's server functions, with the lighter codec.
#[track_caller]
pub fn load<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: serde::Serialize + serde_lite::Deserialize + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, ConsoleError>> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests;

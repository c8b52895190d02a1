//! Code snippets that reproduce a request outside the console: curl, Python `requests`, JavaScript
//! `fetch` and Rust `reqwest`, each with the client-credentials token step reading the credentials
//! from `A55_CLIENT_ID` / `A55_CLIENT_SECRET`. Nothing here ever sees a token or a secret: the
//! inputs are the request as the browser described it and the environment's public URLs.

use app::wire::{ExecuteRequest, Snippet, SnippetLanguage};
use url::Url;

use crate::config::ClientAuth;
use crate::upstream::path::{build_url, PathError};

pub const CLIENT_ID_VAR: &str = "A55_CLIENT_ID";
pub const CLIENT_SECRET_VAR: &str = "A55_CLIENT_SECRET";

/// What a snippet needs to know about the environment (all of it public).
pub struct SnippetTarget<'a> {
    pub api_base: &'a Url,
    pub token_url: &'a Url,
    pub client_auth: ClientAuth,
    pub scope: Option<&'a str>,
    /// False for public endpoints: no token step then.
    pub needs_token: bool,
}

/// The request as it will be sent: URL (under the base), method, headers, body.
struct Shape {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

fn shape(target: &SnippetTarget<'_>, request: &ExecuteRequest) -> Result<Shape, PathError> {
    let url = build_url(target.api_base, &request.path, &request.path_params, &request.query)?;
    let method = request.method.trim().to_ascii_uppercase();
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, value)| !name.trim().is_empty() && !value.trim().is_empty())
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = request.body.clone().filter(|b| !b.trim().is_empty());
    if body.is_some() && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
        // The console sends JSON by default; the snippet must say so explicitly.
        headers.insert(0, ("Content-Type".into(), "application/json".into()));
    }
    Ok(Shape { method, url: url.to_string(), headers, body })
}

/// All four snippets, in the order of `SnippetLanguage::ALL`.
pub fn snippets(target: &SnippetTarget<'_>, request: &ExecuteRequest) -> Result<Vec<Snippet>, PathError> {
    let shape = shape(target, request)?;
    Ok(SnippetLanguage::ALL
        .into_iter()
        .map(|language| Snippet {
            language,
            code: match language {
                SnippetLanguage::Curl => curl(target, &shape),
                SnippetLanguage::Python => python(target, &shape),
                SnippetLanguage::JavaScript => javascript(target, &shape),
                SnippetLanguage::Rust => rust(target, &shape),
            },
        })
        .collect())
}

// ------------------------------------------------------------------ quoting

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A JSON string literal is a valid Python and JavaScript string literal too.
fn c_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

fn python_text(text: &str) -> String {
    // A raw triple-quoted string keeps a JSON body byte for byte and readable.
    if text.contains("\"\"\"") || text.ends_with('\\') || text.ends_with('"') || text.contains('\r') {
        c_string(text)
    } else {
        format!("r\"\"\"{text}\"\"\"")
    }
}

fn js_template(text: &str) -> String {
    format!("`{}`", text.replace('\\', r"\\").replace('`', r"\`").replace("${", r"\${"))
}

fn rust_raw(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

// ------------------------------------------------------------------ languages

fn curl(target: &SnippetTarget<'_>, shape: &Shape) -> String {
    let mut out = String::new();
    if target.needs_token {
        out.push_str(&format!(
            "# Token: client credentials from ${CLIENT_ID_VAR} and ${CLIENT_SECRET_VAR} (needs jq).\n\
             ACCESS_TOKEN=$(curl -sS -X POST {} \\\n  -H 'Content-Type: application/x-www-form-urlencoded' \\\n  --data-urlencode 'grant_type=client_credentials' \\\n",
            shell_quote(target.token_url.as_str())
        ));
        match target.client_auth {
            ClientAuth::SecretPost => out.push_str(&format!(
                "  --data-urlencode \"client_id=${CLIENT_ID_VAR}\" \\\n  --data-urlencode \"client_secret=${CLIENT_SECRET_VAR}\" \\\n"
            )),
            ClientAuth::SecretBasic => out.push_str(&format!("  -u \"${CLIENT_ID_VAR}:${CLIENT_SECRET_VAR}\" \\\n")),
        }
        if let Some(scope) = target.scope {
            out.push_str(&format!("  --data-urlencode {} \\\n", shell_quote(&format!("scope={scope}"))));
        }
        out.push_str("  | jq -r .access_token)\n\n");
    }
    out.push_str("curl -sS");
    match shape.method.as_str() {
        "GET" => {}
        "HEAD" => out.push_str(" --head"),
        other => out.push_str(&format!(" -X {other}")),
    }
    out.push_str(&format!(" {}", shell_quote(&shape.url)));
    if target.needs_token {
        out.push_str(" \\\n  -H \"Authorization: Bearer $ACCESS_TOKEN\"");
    }
    for (name, value) in &shape.headers {
        out.push_str(&format!(" \\\n  -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    if let Some(body) = &shape.body {
        out.push_str(&format!(" \\\n  --data-raw {}", shell_quote(body)));
    }
    out.push('\n');
    out
}

fn python(target: &SnippetTarget<'_>, shape: &Shape) -> String {
    let mut out = String::from("import os\n\nimport requests\n\n");
    if target.needs_token {
        out.push_str(&format!("TOKEN_URL = {}\n\n\n", c_string(target.token_url.as_str())));
        out.push_str(
            "def get_access_token():\n    \"\"\"Client-credentials token; the credentials come from the environment.\"\"\"\n    response = requests.post(\n        TOKEN_URL,\n        data={\n            \"grant_type\": \"client_credentials\",\n",
        );
        if let ClientAuth::SecretPost = target.client_auth {
            out.push_str(&format!(
                "            \"client_id\": os.environ[\"{CLIENT_ID_VAR}\"],\n            \"client_secret\": os.environ[\"{CLIENT_SECRET_VAR}\"],\n"
            ));
        }
        if let Some(scope) = target.scope {
            out.push_str(&format!("            \"scope\": {},\n", c_string(scope)));
        }
        out.push_str("        },\n");
        if let ClientAuth::SecretBasic = target.client_auth {
            out.push_str(&format!(
                "        auth=(os.environ[\"{CLIENT_ID_VAR}\"], os.environ[\"{CLIENT_SECRET_VAR}\"]),\n"
            ));
        }
        out.push_str(
            "        headers={\"Content-Type\": \"application/x-www-form-urlencoded\"},\n        timeout=30,\n    )\n    response.raise_for_status()\n    return response.json()[\"access_token\"]\n\n\n",
        );
    }
    if let Some(body) = &shape.body {
        out.push_str(&format!("body = {}\n\n", python_text(body)));
    }
    out.push_str(&format!(
        "response = requests.request(\n    {},\n    {},\n",
        c_string(&shape.method),
        c_string(&shape.url)
    ));
    if target.needs_token || !shape.headers.is_empty() {
        out.push_str("    headers={\n");
        if target.needs_token {
            out.push_str("        \"Authorization\": f\"Bearer {get_access_token()}\",\n");
        }
        for (name, value) in &shape.headers {
            out.push_str(&format!("        {}: {},\n", c_string(name), c_string(value)));
        }
        out.push_str("    },\n");
    }
    if shape.body.is_some() {
        out.push_str("    data=body.encode(\"utf-8\"),\n");
    }
    out.push_str("    timeout=30,\n)\nprint(response.status_code)\nprint(response.text)\n");
    if !target.needs_token {
        out = out.replace("import os\n\n", "");
    }
    out
}

fn javascript(target: &SnippetTarget<'_>, shape: &Shape) -> String {
    let mut out = String::from("// Node 18+ (global fetch), as an ES module.\n");
    if target.needs_token {
        out.push_str(&format!(
            "// Token: client credentials from the environment, never from code.\nconst tokenResponse = await fetch({}, {{\n  method: \"POST\",\n  headers: {{\n    \"Content-Type\": \"application/x-www-form-urlencoded\",\n",
            c_string(target.token_url.as_str())
        ));
        if let ClientAuth::SecretBasic = target.client_auth {
            out.push_str(&format!(
                "    Authorization: `Basic ${{Buffer.from(`${{encodeURIComponent(process.env.{CLIENT_ID_VAR})}}:${{encodeURIComponent(process.env.{CLIENT_SECRET_VAR})}}`).toString(\"base64\")}}`,\n"
            ));
        }
        out.push_str("  },\n  body: new URLSearchParams({\n    grant_type: \"client_credentials\",\n");
        if let ClientAuth::SecretPost = target.client_auth {
            out.push_str(&format!(
                "    client_id: process.env.{CLIENT_ID_VAR},\n    client_secret: process.env.{CLIENT_SECRET_VAR},\n"
            ));
        }
        if let Some(scope) = target.scope {
            out.push_str(&format!("    scope: {},\n", c_string(scope)));
        }
        out.push_str(
            "  }),\n});\nif (!tokenResponse.ok) throw new Error(`token request failed: ${tokenResponse.status}`);\nconst { access_token: accessToken } = await tokenResponse.json();\n\n",
        );
    }
    out.push_str(&format!(
        "const response = await fetch({}, {{\n  method: {},\n",
        c_string(&shape.url),
        c_string(&shape.method)
    ));
    if target.needs_token || !shape.headers.is_empty() {
        out.push_str("  headers: {\n");
        if target.needs_token {
            out.push_str("    Authorization: `Bearer ${accessToken}`,\n");
        }
        for (name, value) in &shape.headers {
            out.push_str(&format!("    {}: {},\n", c_string(name), c_string(value)));
        }
        out.push_str("  },\n");
    }
    if let Some(body) = &shape.body {
        out.push_str(&format!("  body: {},\n", js_template(body)));
    }
    out.push_str("});\nconsole.log(response.status);\nconsole.log(await response.text());\n");
    out
}

fn rust(target: &SnippetTarget<'_>, shape: &Shape) -> String {
    let mut out = String::from(
        "// Cargo.toml: reqwest = { version = \"0.12\", features = [\"json\"] }, serde_json = \"1\",\n//             tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n",
    );
    if target.needs_token {
        out.push_str("use std::env;\n\n");
    }
    out.push_str("#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n    let client = reqwest::Client::new();\n");
    if target.needs_token {
        out.push_str(
            "    // Token: client credentials from the environment, never from code.\n    let mut form = vec![(\"grant_type\", \"client_credentials\".to_owned())];\n",
        );
        if let ClientAuth::SecretPost = target.client_auth {
            out.push_str(&format!(
                "    form.push((\"client_id\", env::var(\"{CLIENT_ID_VAR}\")?));\n    form.push((\"client_secret\", env::var(\"{CLIENT_SECRET_VAR}\")?));\n"
            ));
        }
        if let Some(scope) = target.scope {
            out.push_str(&format!("    form.push((\"scope\", {}.to_owned()));\n", c_string(scope)));
        }
        out.push_str(&format!(
            "    let token: serde_json::Value = client\n        .post({})\n",
            c_string(target.token_url.as_str())
        ));
        if let ClientAuth::SecretBasic = target.client_auth {
            out.push_str(&format!(
                "        .basic_auth(env::var(\"{CLIENT_ID_VAR}\")?, Some(env::var(\"{CLIENT_SECRET_VAR}\")?))\n"
            ));
        }
        out.push_str(
            "        .form(&form)\n        .send()\n        .await?\n        .error_for_status()?\n        .json()\n        .await?;\n    let access_token = token[\"access_token\"].as_str().ok_or(\"no access_token in the token response\")?;\n\n",
        );
    }
    out.push_str(&format!(
        "    let response = client\n        .request(reqwest::Method::from_bytes(b{})?, {})\n",
        c_string(&shape.method),
        c_string(&shape.url)
    ));
    if target.needs_token {
        out.push_str("        .bearer_auth(access_token)\n");
    }
    for (name, value) in &shape.headers {
        out.push_str(&format!("        .header({}, {})\n", c_string(name), c_string(value)));
    }
    if let Some(body) = &shape.body {
        out.push_str(&format!("        .body({})\n", rust_raw(body)));
    }
    out.push_str(
        "        .send()\n        .await?;\n    println!(\"{}\", response.status());\n    println!(\"{}\", response.text().await?);\n    Ok(())\n}\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://core-manager.a55.tech/api/v1/").unwrap()
    }

    fn token_url() -> Url {
        Url::parse("https://smart-capital.auth.us-east-1.amazoncognito.com/oauth2/token").unwrap()
    }

    fn create_charge() -> ExecuteRequest {
        ExecuteRequest {
            environment: "production".into(),
            method: "POST".into(),
            path: "/bank/wallet/charge/".into(),
            query: vec![("note".into(), "a b&c".into())],
            headers: vec![("Idempotency-Key".into(), "7d5c6b0e-1111-4222-8333-944445555666".into())],
            body: Some(
                "{\n  \"wallet_uuid\": \"w-1\",\n  \"description\": \"it's \\\"quoted\\\" ${x} `y` \\\\n\"\n}".into(),
            ),
            endpoint_id: Some("createCharge".into()),
            ..ExecuteRequest::default()
        }
    }

    fn list_charges() -> ExecuteRequest {
        ExecuteRequest {
            environment: "production".into(),
            method: "GET".into(),
            path: "/bank/wallet/charge/{charge_uuid}/".into(),
            path_params: vec![("charge_uuid".into(), "c 1".into())],
            ..ExecuteRequest::default()
        }
    }

    /// Compares with `server/tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the files instead.
    fn golden(name: &str, actual: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
        assert_eq!(actual, expected, "{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)");
    }

    #[test]
    fn snippets_for_a_post_with_body_headers_and_query_match_the_golden_files() {
        let base = base();
        let token_url = token_url();
        let target = SnippetTarget {
            api_base: &base,
            token_url: &token_url,
            client_auth: ClientAuth::SecretPost,
            scope: None,
            needs_token: true,
        };
        for snippet in snippets(&target, &create_charge()).unwrap() {
            golden(&format!("snippet_post_{}.txt", snippet.language.id()), &snippet.code);
        }
    }

    #[test]
    fn snippets_with_basic_client_auth_and_a_scope_match_the_golden_files() {
        let base = base();
        let token_url = token_url();
        let target = SnippetTarget {
            api_base: &base,
            token_url: &token_url,
            client_auth: ClientAuth::SecretBasic,
            scope: Some("a55/api"),
            needs_token: true,
        };
        for snippet in snippets(&target, &list_charges()).unwrap() {
            golden(&format!("snippet_basic_{}.txt", snippet.language.id()), &snippet.code);
        }
    }

    #[test]
    fn a_public_endpoint_has_no_token_step() {
        let base = base();
        let token_url = token_url();
        let target = SnippetTarget {
            api_base: &base,
            token_url: &token_url,
            client_auth: ClientAuth::SecretPost,
            scope: None,
            needs_token: false,
        };
        for snippet in snippets(&target, &list_charges()).unwrap() {
            assert!(!snippet.code.contains("A55_CLIENT_SECRET"), "{}", snippet.code);
            assert!(!snippet.code.contains("Bearer"), "{}", snippet.code);
            assert!(!snippet.code.contains(token_url.as_str()), "{}", snippet.code);
            golden(&format!("snippet_public_{}.txt", snippet.language.id()), &snippet.code);
        }
    }

    #[test]
    fn every_snippet_reads_credentials_from_env_vars_and_holds_no_literal_credential() {
        let base = base();
        let token_url = token_url();
        for auth in [ClientAuth::SecretPost, ClientAuth::SecretBasic] {
            let target = SnippetTarget {
                api_base: &base,
                token_url: &token_url,
                client_auth: auth,
                scope: None,
                needs_token: true,
            };
            for snippet in snippets(&target, &create_charge()).unwrap() {
                assert!(
                    snippet.code.contains(CLIENT_ID_VAR) && snippet.code.contains(CLIENT_SECRET_VAR),
                    "{}",
                    snippet.code
                );
                assert!(!snippet.code.contains("eyJ"), "{}", snippet.code);
                assert!(snippet.code.contains("smart-capital.auth"), "the token step uses the environment's token URL");
            }
        }
    }

    #[test]
    fn a_path_that_would_leave_the_base_gives_no_snippet() {
        let base = base();
        let token_url = token_url();
        let target = SnippetTarget {
            api_base: &base,
            token_url: &token_url,
            client_auth: ClientAuth::SecretPost,
            scope: None,
            needs_token: true,
        };
        let request = ExecuteRequest { method: "GET".into(), path: "/../admin".into(), ..ExecuteRequest::default() };
        assert!(snippets(&target, &request).is_err());
    }

    #[test]
    fn quoting_keeps_bodies_exact_in_every_language() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(rust_raw("a\"#b"), "r##\"a\"#b\"##");
        assert_eq!(js_template("`${a}\\"), r"`\`\${a}\\`");
        assert_eq!(python_text("{\"a\": 1}"), "r\"\"\"{\"a\": 1}\"\"\"");
        assert_eq!(python_text("ends with \""), r#""ends with \"""#);
    }
}

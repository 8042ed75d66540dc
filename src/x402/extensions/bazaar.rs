//! `bazaar` (the official x402 discovery extension): a server declares in its 402
//! `extensions["bazaar"]` how a resource is called and what it answers, so that facilitators
//! can catalog it: `{"info": {"input": …, "output": …}, "schema": <JSON Schema of info>}`.
//!
//! The shape follows the official SDKs (`declare_discovery_extension` and the resource server's
//! `enrich_declaration`, x402 2.25): a *query* declaration (GET, HEAD, DELETE: `queryParams`) or
//! a *body* declaration (POST, PUT, PATCH: `bodyType`, `body`), then, per request, the method
//! and, for routes with parameters, `pathParams` and a `routeTemplate` in `:param` syntax. Keys
//! come out in the official SDK's order, so the JSON is byte-identical to what it emits.

use serde_json::{json, Map, Value};

use crate::x402::error::ProtocolError;
use crate::x402::reason;

pub const BAZAAR: &str = "bazaar";
const SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
const QUERY_METHODS: [&str; 3] = ["GET", "HEAD", "DELETE"];
const BODY_METHODS: [&str; 3] = ["POST", "PUT", "PATCH"];
const BODY_TYPES: [&str; 3] = ["json", "form-data", "text"];
const ALL_METHODS: [&str; 6] = ["GET", "HEAD", "DELETE", "POST", "PUT", "PATCH"];

/// What a seller says about a route (every part optional).
#[derive(Debug, Default, Clone)]
pub struct Discovery {
    /// The route's verb (`GET`, `POST`, …; `None` or `*`: any). Picks the declaration's kind
    /// when `body_type` is not given, and must agree with it when it is.
    pub method: Option<String>,
    /// `json`, `form-data` or `text`: a body declaration.
    pub body_type: Option<String>,
    /// An example input: query parameters, or the body.
    pub input: Option<Value>,
    /// JSON Schema of the query parameters or of the body.
    pub input_schema: Option<Value>,
    /// JSON Schema of the path parameters.
    pub path_params_schema: Option<Value>,
    /// An example of the output.
    pub output_example: Option<Value>,
    /// JSON Schema of the output (its example).
    pub output_schema: Option<Value>,
}

fn bad(path: impl Into<String>, message: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::field(reason::INVALID_PAYLOAD, path, message)
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ProtocolError> {
    value
        .as_object()
        .ok_or_else(|| bad(path, "must be a JSON object"))
}

/// A non-empty object (the official helper treats `{}` as absent).
fn given<'a>(
    value: &'a Option<Value>,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, ProtocolError> {
    match value {
        None => Ok(None),
        Some(v) => Ok(Some(object(v, path)?).filter(|m| !m.is_empty())),
    }
}

/// `{"type": "object"}` with `extra`'s keys merged in (a `type` in `extra` wins, in place).
fn typed_object(extra: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!("object"));
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// The route's static declaration (`extensions["bazaar"]` before any request): the official
/// `declare_discovery_extension(...)["bazaar"]` for the same arguments, except that a route
/// verb picks the body form for POST/PUT/PATCH (default `json`), and an output schema given
/// without an example is declared too (`output: {"type": "json"}`; the official helper drops it).
pub fn bazaar_declaration(d: &Discovery) -> Result<Value, ProtocolError> {
    let method = match d.method.as_deref().map(str::to_ascii_uppercase) {
        None => None,
        Some(m) if m == "*" => None,
        Some(m) if ALL_METHODS.contains(&m.as_str()) => Some(m),
        Some(m) => return Err(bad("method", format!("{m:?} is not an HTTP method bazaar describes (GET, HEAD, DELETE, POST, PUT, PATCH)"))),
    };
    let body_type = match (&d.body_type, &method) {
        (Some(t), _) if !BODY_TYPES.contains(&t.as_str()) => {
            return Err(bad(
                "body_type",
                format!("{t:?}: one of json, form-data, text"),
            ))
        }
        (Some(_), Some(m)) if QUERY_METHODS.contains(&m.as_str()) => {
            return Err(bad(
                "body_type",
                format!("a {m} route takes query parameters, not a body"),
            ))
        }
        (Some(t), _) => Some(t.clone()),
        (None, Some(m)) if BODY_METHODS.contains(&m.as_str()) => Some("json".to_owned()),
        (None, _) => None,
    };
    let input_schema = match &d.input_schema {
        None => Some(json!({"properties": {}})),
        Some(v) => {
            object(v, "input_schema")?;
            Some(v.clone())
        }
    };
    let path_params = given(&d.path_params_schema, "path_params_schema")?;
    if body_type.is_none() && !matches!(d.input, None | Some(Value::Object(_))) {
        return Err(bad("input", "query parameters must be a JSON object"));
    }
    let output_schema = given(&d.output_schema, "output_schema")?;
    let example = d.output_example.as_ref().filter(|v| !v.is_null());

    let mut input = Map::new();
    input.insert("type".into(), json!("http"));
    let mut props = Map::new();
    props.insert("type".into(), json!({"type": "string", "const": "http"}));
    let required: Vec<&str> = match &body_type {
        None => {
            if let Some(Value::Object(q)) = &d.input {
                if !q.is_empty() {
                    input.insert("queryParams".into(), Value::Object(q.clone()));
                }
            }
            props.insert(
                "method".into(),
                json!({"type": "string", "enum": QUERY_METHODS}),
            );
            if let Some(Value::Object(s)) = &input_schema {
                if !s.is_empty() {
                    props.insert("queryParams".into(), typed_object(s));
                }
            }
            vec!["type", "method"]
        }
        Some(t) => {
            input.insert("bodyType".into(), json!(t));
            let body = match &d.input {
                Some(v) if is_truthy(v) => v.clone(),
                _ => json!({}),
            };
            input.insert("body".into(), body);
            props.insert(
                "method".into(),
                json!({"type": "string", "enum": BODY_METHODS}),
            );
            props.insert(
                "bodyType".into(),
                json!({"type": "string", "enum": BODY_TYPES}),
            );
            props.insert("body".into(), input_schema.unwrap_or(json!({})));
            vec!["type", "method", "bodyType", "body"]
        }
    };
    if let Some(p) = path_params {
        props.insert("pathParams".into(), typed_object(p));
    }
    let mut info = Map::new();
    info.insert("input".into(), Value::Object(input));
    let mut schema_props = Map::new();
    schema_props.insert(
        "input".into(),
        json!({
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        }),
    );
    if example.is_some() || output_schema.is_some() {
        let mut output = Map::new();
        output.insert("type".into(), json!("json"));
        if let Some(e) = example {
            output.insert("example".into(), e.clone());
        }
        info.insert("output".into(), Value::Object(output));
        let mut example_schema = Map::new();
        example_schema.insert("type".into(), json!("object"));
        for (k, v) in output_schema.into_iter().flatten() {
            example_schema.insert(k.clone(), v.clone());
        }
        // The official schema types the example as an object unless told otherwise; its own
        // facilitator check refuses an example that does not fit it.
        if example.is_some_and(|e| !e.is_object()) && example_schema["type"] == "object" {
            return Err(bad(
                "output_example",
                "not a JSON object: give an output_schema with its \"type\"",
            ));
        }
        schema_props.insert(
            "output".into(),
            json!({
                "type": "object",
                "properties": {"type": {"type": "string"}, "example": example_schema},
                "required": ["type"],
            }),
        );
    }
    let out = json!({
        "info": info,
        "schema": {
            "$schema": SCHEMA_DIALECT,
            "type": "object",
            "properties": schema_props,
            "required": ["input"],
        },
    });
    validate_bazaar(&out)?;
    Ok(out)
}

/// Python truthiness of a JSON value (the official helper's `input if input else {}`).
fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => !n.as_str().trim_start_matches(['-', '0', '.']).is_empty(),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The declaration as answered to one request (the official resource server's
/// `enrich_declaration`): `info.input.method` is the request's method; when `route` (the path
/// part of the route pattern) has parameters (`:name`, `[name]`, `{name}`, `*` segments as
/// `:var1`, `:var2`, …), `info.input.pathParams` holds their values in `path` and
/// `routeTemplate` the route in `:param` syntax.
pub fn bazaar_for_request(
    declaration: &Value,
    method: &str,
    route: Option<&str>,
    path: &str,
) -> Result<Value, ProtocolError> {
    let mut ext = declaration.clone();
    let map = ext
        .as_object_mut()
        .ok_or_else(|| bad("extensions.bazaar", "must be an object"))?;
    let input = map
        .entry("info")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| bad("extensions.bazaar.info", "must be an object"))?
        .entry("input")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| bad("extensions.bazaar.info.input", "must be an object"))?;
    input.insert("method".into(), json!(method));
    if let Some(input_schema) = map
        .get_mut("schema")
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut("input"))
        .and_then(Value::as_object_mut)
    {
        let required = input_schema.entry("required").or_insert_with(|| json!([]));
        if let Some(list) = required.as_array_mut() {
            if !list.iter().any(|v| v == "method") {
                list.push(json!("method"));
            }
        }
    }
    let Some((template, params)) = route.and_then(|r| dynamic_route(r, path)) else {
        return Ok(ext);
    };
    if let Some(input) = map
        .get_mut("info")
        .and_then(|i| i.get_mut("input"))
        .and_then(Value::as_object_mut)
    {
        input.insert("pathParams".into(), Value::Object(params));
    }
    map.insert("routeTemplate".into(), Value::String(template));
    if let Some(props) = map
        .get_mut("schema")
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut("input"))
        .and_then(|i| i.get_mut("properties"))
        .and_then(Value::as_object_mut)
    {
        props
            .entry("pathParams")
            .or_insert_with(|| json!({"type": "object"}));
    }
    Ok(ext)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `route` in `:param` syntax: `*` segments become `:var1`, `:var2`…; `{name}` and `[name]`
/// become `:name`.
fn normalize_route(route: &str) -> String {
    let mut counter = 0;
    let segments: Vec<String> = route
        .split('/')
        .map(|seg| {
            if seg == "*" {
                counter += 1;
                return format!(":var{counter}");
            }
            let mut out = String::with_capacity(seg.len());
            let mut rest = seg;
            while let Some(open) = rest.find(['{', '[']) {
                let close_char = if rest[open..].starts_with('{') {
                    '}'
                } else {
                    ']'
                };
                out.push_str(&rest[..open]);
                let after = &rest[open + 1..];
                match after.find(close_char) {
                    Some(end)
                        if end > 0
                            && (close_char == ']'
                                || (after[..end].starts_with(is_name_start)
                                    && after[..end].chars().all(is_name_char))) =>
                    {
                        out.push(':');
                        out.push_str(&after[..end]);
                        rest = &after[end + 1..];
                    }
                    _ => {
                        out.push_str(&rest[open..open + 1]);
                        rest = after;
                    }
                }
            }
            out.push_str(rest);
            out
        })
        .collect();
    segments.join("/")
}

enum Part<'a> {
    Literal(&'a str),
    Param(&'a str),
}

/// `:name` (a letter or `_`, then word characters) splits the template into literals and params.
fn parts(template: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let (mut literal_start, mut i) = (0, 0);
    let bytes = template.as_bytes();
    while i < bytes.len() {
        // `:` is ASCII: never inside a multi-byte character, so `i + 1` is a boundary.
        if bytes[i] == b':' && template[i + 1..].starts_with(is_name_start) {
            let start = i + 1;
            let end = template[start..]
                .find(|c| !is_name_char(c))
                .map_or(template.len(), |e| start + e);
            out.push(Part::Literal(&template[literal_start..i]));
            out.push(Part::Param(&template[start..end]));
            literal_start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    out.push(Part::Literal(&template[literal_start..]));
    out
}

/// Match `path` against `parts` (a param is one or more characters other than `/`, greedy,
/// like the official SDK's regex); memoised failures keep it polynomial.
fn capture<'p>(
    parts: &[Part<'_>],
    path: &'p str,
    i: usize,
    pos: usize,
    failed: &mut std::collections::HashSet<(usize, usize)>,
    out: &mut Vec<&'p str>,
) -> bool {
    if i == parts.len() {
        return pos == path.len();
    }
    if failed.contains(&(i, pos)) {
        return false;
    }
    let ok = match &parts[i] {
        Part::Literal(lit) => {
            path[pos..].starts_with(lit)
                && capture(parts, path, i + 1, pos + lit.len(), failed, out)
        }
        Part::Param(_) => {
            let segment_end = path[pos..].find('/').map_or(path.len(), |e| pos + e);
            let mut ends: Vec<usize> = path[pos..segment_end]
                .char_indices()
                .map(|(k, c)| pos + k + c.len_utf8())
                .collect();
            ends.reverse();
            let mut found = false;
            for end in ends {
                out.push(&path[pos..end]);
                if capture(parts, path, i + 1, end, failed, out) {
                    found = true;
                    break;
                }
                out.pop();
            }
            found
        }
    };
    if !ok {
        failed.insert((i, pos));
    }
    ok
}

/// `(routeTemplate, pathParams)` when `route` has parameters (the official
/// `_extract_dynamic_route_info`: params that do not match `path` give `{}`).
fn dynamic_route(route: &str, path: &str) -> Option<(String, Map<String, Value>)> {
    let template = normalize_route(route);
    let parts = parts(&template);
    let names: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Param(n) => Some(*n),
            Part::Literal(_) => None,
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut values = Vec::new();
    let mut params = Map::new();
    if capture(&parts, path, 0, 0, &mut Default::default(), &mut values) {
        for (name, value) in names.iter().zip(values) {
            params.insert((*name).to_owned(), json!(value));
        }
    }
    Some((template, params))
}

/// The official facilitators' spec check of a bazaar extension (HTTP form), plus the shape of
/// the parts they read: `info.input` an object with `type: "http"`, a known `method` if any, a
/// `bodyType` of json/form-data/text only with a body method, `queryParams`/`pathParams`/
/// `headers` objects, `output` an object, `schema` an object. Errors name the JSON path.
pub fn validate_bazaar(ext: &Value) -> Result<(), ProtocolError> {
    let base = "extensions.bazaar";
    let ext = object(ext, base)?;
    let info = object(
        ext.get("info").unwrap_or(&Value::Null),
        &format!("{base}.info"),
    )?;
    let input = object(
        info.get("input").unwrap_or(&Value::Null),
        &format!("{base}.info.input"),
    )?;
    if input.get("type") != Some(&json!("http")) {
        return Err(bad(format!("{base}.info.input.type"), "must be \"http\""));
    }
    let method = match input.get("method") {
        None => None,
        Some(Value::String(m)) if ALL_METHODS.contains(&m.as_str()) => Some(m.as_str()),
        Some(_) => {
            return Err(bad(
                format!("{base}.info.input.method"),
                "one of GET, HEAD, DELETE, POST, PUT, PATCH",
            ))
        }
    };
    match input.get("bodyType") {
        None => {}
        Some(Value::String(t))
            if BODY_TYPES.contains(&t.as_str())
                && method.is_some_and(|m| !BODY_METHODS.contains(&m)) =>
        {
            return Err(bad(
                format!("{base}.info.input.bodyType"),
                "set, but the method is not a body method (POST, PUT, PATCH)",
            ));
        }
        Some(Value::String(t)) if BODY_TYPES.contains(&t.as_str()) => {}
        Some(_) => {
            return Err(bad(
                format!("{base}.info.input.bodyType"),
                "one of json, form-data, text",
            ))
        }
    }
    for key in ["queryParams", "pathParams", "headers"] {
        if let Some(v) = input.get(key) {
            object(v, &format!("{base}.info.input.{key}"))?;
        }
    }
    if let Some(Value::Object(headers)) = input.get("headers") {
        if let Some((k, _)) = headers.iter().find(|(_, v)| !v.is_string()) {
            return Err(bad(
                format!("{base}.info.input.headers.{k}"),
                "must be a string",
            ));
        }
    }
    if let Some(v) = info.get("output") {
        object(v, &format!("{base}.info.output"))?;
    }
    object(
        ext.get("schema").unwrap_or(&Value::Null),
        &format!("{base}.schema"),
    )?;
    if let Some(t) = ext.get("routeTemplate") {
        if !t.is_string() {
            return Err(bad(format!("{base}.routeTemplate"), "must be a string"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovery() -> Discovery {
        Discovery {
            method: Some("GET".into()),
            input: Some(json!({"city": "oslo"})),
            input_schema: Some(json!({"properties": {"city": {"type": "string"}}})),
            output_example: Some(json!({"temp": 3})),
            output_schema: Some(json!({"properties": {"temp": {"type": "integer"}}})),
            ..Discovery::default()
        }
    }

    #[test]
    fn a_query_declaration_in_the_official_key_order() {
        let d = bazaar_declaration(&discovery()).unwrap();
        assert_eq!(
            serde_json::to_string(&d["info"]).unwrap(),
            r#"{"input":{"type":"http","queryParams":{"city":"oslo"}},"output":{"type":"json","example":{"temp":3}}}"#
        );
        let input = &d["schema"]["properties"]["input"];
        assert_eq!(input["properties"]["queryParams"]["type"], "object");
        assert_eq!(
            d["schema"]["properties"]["output"]["properties"]["example"]["properties"]["temp"]
                ["type"],
            "integer"
        );
    }

    #[test]
    fn a_post_route_gets_a_body_declaration_and_a_get_route_refuses_a_body() {
        let mut d = discovery();
        d.method = Some("post".into());
        let decl = bazaar_declaration(&d).unwrap();
        assert_eq!(decl["info"]["input"]["bodyType"], "json");
        assert_eq!(decl["info"]["input"]["body"], json!({"city": "oslo"}));
        let mut d = discovery();
        d.body_type = Some("json".into());
        assert_eq!(bazaar_declaration(&d).unwrap_err().path, "body_type");
        d.method = None;
        d.body_type = Some("xml".into());
        assert_eq!(bazaar_declaration(&d).unwrap_err().path, "body_type");
        let d = Discovery {
            input_schema: Some(json!([1])),
            ..Discovery::default()
        };
        assert_eq!(bazaar_declaration(&d).unwrap_err().path, "input_schema");
    }

    #[test]
    fn requests_add_the_method_and_path_params() {
        let decl = bazaar_declaration(&discovery()).unwrap();
        let ext = bazaar_for_request(
            &decl,
            "GET",
            Some("/weather/{city}/[day]"),
            "/weather/oslo/mon",
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&ext["info"]["input"]).unwrap(),
            r#"{"type":"http","queryParams":{"city":"oslo"},"method":"GET","pathParams":{"city":"oslo","day":"mon"}}"#
        );
        assert_eq!(ext["routeTemplate"], "/weather/:city/:day");
        let ext = bazaar_for_request(&decl, "GET", Some("/files/*"), "/files/a/b").unwrap();
        assert_eq!(ext["routeTemplate"], "/files/:var1");
        assert_eq!(ext["info"]["input"]["pathParams"], json!({}));
        let ext = bazaar_for_request(&decl, "GET", Some("/plain"), "/plain").unwrap();
        assert!(ext.get("routeTemplate").is_none());
        // Two params in one segment: greedy then backtracking, like a regex.
        let ext = bazaar_for_request(&decl, "GET", Some("/f/:name.:ext"), "/f/a.b.c").unwrap();
        assert_eq!(
            ext["info"]["input"]["pathParams"],
            json!({"name": "a.b", "ext": "c"})
        );
        validate_bazaar(&ext).unwrap();
    }

    #[test]
    fn validation_names_the_path() {
        let bad_method =
            json!({"info": {"input": {"type": "http", "method": "TRACE"}}, "schema": {}});
        assert_eq!(
            validate_bazaar(&bad_method).unwrap_err().path,
            "extensions.bazaar.info.input.method"
        );
        let body_on_get = json!({"info": {"input": {"type": "http", "method": "GET", "bodyType": "json"}}, "schema": {}});
        assert_eq!(
            validate_bazaar(&body_on_get).unwrap_err().path,
            "extensions.bazaar.info.input.bodyType"
        );
        let no_schema = json!({"info": {"input": {"type": "http"}}});
        assert_eq!(
            validate_bazaar(&no_schema).unwrap_err().path,
            "extensions.bazaar.schema"
        );
    }
}

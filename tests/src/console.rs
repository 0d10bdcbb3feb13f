//! The console's sign-in form over plain HTTP (no browser), as the HTTP-level console tests and
//! `bench console` post it: fetch the form (its CSRF cookie and field), post a key.

use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};

/// The `name=value` of each cookie an answer sets.
pub fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    let values = resp.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok());
    values.map(|c| c.split(';').next().unwrap_or_default().to_owned()).collect()
}

/// The value of the hidden form field `name` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    html[start..].split('"').next().map(str::to_owned)
}

/// Fetch the sign-in form and post `key` with its CSRF token, asking for `next` afterwards; the
/// answer to the post (303 and the session cookie when the key is good). `http` must not follow
/// redirects.
pub async fn post_sign_in(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    next: &str,
) -> anyhow::Result<reqwest::Response> {
    let form = http.get(format!("{base}/console/sign-in")).send().await?;
    let form_cookie = set_cookies(&form).join("; ");
    let html = form.text().await?;
    let csrf = hidden_field(&html, "csrf").ok_or_else(|| anyhow::anyhow!("the sign-in form has no CSRF field"))?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("api_key", key)
        .append_pair("csrf", &csrf)
        .append_pair("next", next)
        .finish();
    Ok(http
        .post(format!("{base}/console/sign-in"))
        .header(COOKIE, form_cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?)
}

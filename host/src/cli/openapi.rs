//! `edgecart openapi`: prints the OpenAPI document the server serves at `/openapi.json`, so
//! that client generators (`clients/typescript/scripts/generate`) need no running server. It
//! adds nothing of its own: the document is [`ApiDoc`]'s.

use std::io::Write;

use utoipa::OpenApi;

use crate::http::openapi::ApiDoc;

/// Why the document was not printed.
#[derive(Debug, thiserror::Error)]
pub enum OpenapiError {
    /// The document did not serialize.
    #[error("the OpenAPI document could not be serialized")]
    Serialize(#[from] serde_json::Error),
    /// Standard output could not be written.
    #[error("standard output")]
    Write(#[from] std::io::Error),
}

/// Prints the document, pretty-printed, to standard output.
pub fn print() -> Result<(), OpenapiError> {
    let document = ApiDoc::openapi().to_pretty_json()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{document}")?;
    out.flush()?;
    Ok(())
}

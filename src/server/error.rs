//! The one error type of the HTTP layer. Every refusal and failure becomes
//! `{"error": "<what happened and what to do>"}` with a fitting status code.
//!
//! Messages are written for the person at the dashboard. Internal details
//! (I/O errors, panics in blocking tasks) go to the log, never to the client.
//! No variant is ever built from a secret.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::engine::EngineError;
use crate::secrets::SecretError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("the request body is larger than {limit} bytes; nothing was changed")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Something this process depends on is missing or stopped (keyring, engine, history).
    #[error("{0}")]
    Unavailable(String),
    /// `public` is sent; `detail` is only logged.
    #[error("{public}")]
    Internal { public: String, detail: String },
}

impl AppError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn internal(public: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        AppError::Internal {
            public: public.into(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn body_too_large() -> Self {
        AppError::PayloadTooLarge {
            limit: super::BODY_LIMIT,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AppError::Internal { public, detail } => {
                tracing::error!(%status, error = %detail, "{public}");
            }
            other if status.is_server_error() => tracing::warn!(%status, "{other}"),
            other => tracing::debug!(%status, "{other}"),
        }
        let body = serde_json::json!({ "error": self.to_string() }).to_string();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::UnknownProvider(id) => {
                AppError::BadRequest(format!("unknown provider {id:?} (see `switchboard providers`)"))
            }
            // Names the config file and the OS error: the user can fix either.
            EngineError::Edit(e) => AppError::Internal {
                public: format!("the setting was not saved: {e}"),
                detail: e.to_string(),
            },
            EngineError::Invalid(why) => AppError::BadRequest(why),
            EngineError::Stopped => AppError::Unavailable(
                "the Switchboard engine has stopped; restart `switchboard watch`".into(),
            ),
        }
    }
}

impl From<SecretError> for AppError {
    fn from(e: SecretError) -> Self {
        match e {
            SecretError::Empty => AppError::BadRequest("api_key is empty: paste the key".into()),
            // SecretError messages never contain the secret and say how to fix the keyring.
            other => AppError::Unavailable(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::internal("an internal task failed; see the Switchboard log", e)
    }
}

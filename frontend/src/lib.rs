//! Invitegate web app (Leptos, client-side rendered) and embeddable registration widget.
//!
//! Placeholder: the single-page app and the widget are built in the next milestone. Until
//! then the server answers `/` with a short page that points to the API documentation.

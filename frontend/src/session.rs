//! The signed-in session: the short-lived access token in memory only (never in storage a
//! script could read later), renewed silently through the HttpOnly refresh cookie.

use std::future::Future;
use std::time::Duration;

use invitegate_client::{Client, ClientError};
use invitegate_core::api::SessionResponse;
use invitegate_core::model::{Role, SignupMode};
use leptos::prelude::*;

use crate::errors::Limits;

/// App-wide state, provided as a context.
#[derive(Clone, Copy)]
pub struct AppCtx {
    /// API origin, e.g. `https://invite.example.com`.
    pub base: StoredValue<String>,
    /// The current session, if signed in.
    pub session: RwSignal<Option<SessionResponse>>,
    /// False until the first silent refresh has answered.
    pub ready: RwSignal<bool>,
    /// The product name from the server's configuration.
    pub product: RwSignal<String>,
    /// The password length policy (defaults until [`AppCtx::load_policy`] answers).
    pub limits: RwSignal<Limits>,
    /// The sign-up mode, once known.
    pub mode: RwSignal<Option<SignupMode>>,
    generation: StoredValue<u64>,
}

impl AppCtx {
    /// A signed-out context for the API at `base`.
    pub fn new(base: String) -> Self {
        Self {
            base: StoredValue::new(base),
            session: RwSignal::new(None),
            ready: RwSignal::new(false),
            product: RwSignal::new("Invitegate".into()),
            limits: RwSignal::new(Limits::default()),
            mode: RwSignal::new(None),
            generation: StoredValue::new(0),
        }
    }

    /// Fetches `GET /signup-policy` once into `product`, `limits` and `mode`.
    pub fn load_policy(&self) {
        let this = *self;
        leptos::task::spawn_local(async move {
            if let Ok(p) = this.anon().signup_policy().await {
                this.limits.set(Limits {
                    min: p.password_min_length,
                    max: p.password_max_length,
                });
                this.mode.set(Some(p.mode));
                if !p.product_name.is_empty() {
                    this.product.set(p.product_name);
                }
            }
        });
    }

    /// An anonymous client.
    pub fn anon(&self) -> Client {
        Client::new(&self.base.get_value()).expect("client")
    }

    /// A client carrying the access token, when signed in.
    pub fn client(&self) -> Client {
        let c = self.anon();
        match self
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()))
        {
            Some(t) => c.with_bearer(&t),
            None => c,
        }
    }

    /// True when the signed-in user is an administrator.
    pub fn is_admin(&self) -> bool {
        self.session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role == Role::Admin))
    }

    /// Stores a new session and schedules its silent renewal at 80 % of its lifetime.
    pub fn signed_in(&self, s: SessionResponse) {
        let lifetime = s.expires_in;
        self.session.set(Some(s));
        self.ready.set(true);
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        let this = *self;
        set_timeout(
            move || {
                if this.generation.get_value() == generation {
                    leptos::task::spawn_local(async move {
                        this.refresh().await;
                    });
                }
            },
            Duration::from_millis(lifetime.saturating_mul(800).max(5_000)),
        );
    }

    /// Exchanges the refresh cookie for a new session; false (and signed out) when refused.
    pub async fn refresh(&self) -> bool {
        match self.anon().refresh().await {
            Ok(s) => {
                self.signed_in(s);
                true
            }
            Err(_) => {
                self.generation.set_value(self.generation.get_value() + 1);
                self.session.set(None);
                self.ready.set(true);
                false
            }
        }
    }

    /// Ends the session on the server and here.
    pub async fn sign_out(&self) {
        let _ = self.client().logout().await;
        self.forget();
    }

    /// Forgets the session here (the server already ended it).
    pub fn forget(&self) {
        #[cfg(feature = "console")]
        crate::pages::oidc::forget();
        self.generation.set_value(self.generation.get_value() + 1);
        self.session.set(None);
    }

    /// [`call`](Self::call) with an argument (a request body, an id) handed to each attempt.
    pub async fn call_with<A, T, F, Fut>(&self, arg: A, f: F) -> Result<T, ClientError>
    where
        A: Clone,
        F: Fn(Client, A) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        self.call(|c| f(c, arg.clone())).await
    }

    /// Runs [`call_with`](Self::call_with) in the background: the value goes to `done`; a
    /// failure's message (in the user's words) goes to `error`. The console's one way to act.
    pub fn act<A, T, F, Fut, D>(self, error: RwSignal<Option<String>>, arg: A, f: F, done: D)
    where
        A: Clone + 'static,
        T: 'static,
        F: Fn(Client, A) -> Fut + 'static,
        Fut: Future<Output = Result<T, ClientError>> + 'static,
        D: FnOnce(T) + 'static,
    {
        leptos::task::spawn_local(async move {
            match self.call_with(arg, f).await {
                Ok(value) => done(value),
                Err(e) => error.set(Some(crate::errors::describe(&e, Limits::default()))),
            }
        });
    }

    /// [`act`](Self::act) for a form: `busy` is set while the call runs (its submit button
    /// shows it), and cleared before `done` or the error.
    pub fn act_busy<A, T, F, Fut, D>(
        self,
        busy: RwSignal<bool>,
        error: RwSignal<Option<String>>,
        arg: A,
        f: F,
        done: D,
    ) where
        A: Clone + 'static,
        T: 'static,
        F: Fn(Client, A) -> Fut + 'static,
        Fut: Future<Output = Result<T, ClientError>> + 'static,
        D: FnOnce(T) + 'static,
    {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let res = self.call_with(arg, f).await;
            busy.set(false);
            match res {
                Ok(value) => done(value),
                Err(e) => error.set(Some(crate::errors::describe(&e, Limits::default()))),
            }
        });
    }

    /// Runs an authenticated call; on 401 renews the session once and retries.
    pub async fn call<T, F, Fut>(&self, f: F) -> Result<T, ClientError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let first = f(self.client()).await;
        match first {
            // Only an expired access token is renewed: a wrong password typed into a form
            // (`invalid_credentials`) is an answer, and must not be sent twice.
            Err(e)
                if matches!(&e, ClientError::Api { status: 401, problem }
                    if problem.code == invitegate_core::ErrorCode::Unauthenticated.as_str()) =>
            {
                if self.refresh().await {
                    f(self.client()).await
                } else {
                    Err(e)
                }
            }
            other => other,
        }
    }
}

/// The app context; panics outside the app (a programming error).
pub fn ctx() -> AppCtx {
    expect_context::<AppCtx>()
}

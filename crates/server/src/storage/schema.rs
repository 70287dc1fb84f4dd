// The one schema both backends share: Text, BigInt, Integer, Bool, Timestamp (UTC) only.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        invited_by_type -> Nullable<Text>,
        invited_by_id -> Nullable<Text>,
        invitation_id -> Nullable<Text>,
        invitation_serial -> BigInt,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        token_hash -> Text,
        email -> Nullable<Text>,
        pending_email -> Nullable<Text>,
        email_domain -> Nullable<Text>,
        role -> Text,
        max_uses -> Integer,
        uses -> Integer,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        inviter_type -> Text,
        inviter_id -> Text,
        note -> Nullable<Text>,
        bootstrap -> Bool,
        reminded_at -> Nullable<Timestamp>,
        expired_at -> Nullable<Timestamp>,
        email_proof_required -> Bool,
        organization_id -> Nullable<Text>,
        organization_role -> Nullable<Text>,
        declined_at -> Nullable<Timestamp>,
        client_id -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        opened_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        members_can_invite -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    memberships (organization_id, user_id) {
        organization_id -> Text,
        user_id -> Text,
        role -> Text,
        invited_by_type -> Nullable<Text>,
        invited_by_id -> Nullable<Text>,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    rate_counters (key, window_start) {
        key -> Text,
        window_start -> BigInt,
        window_end -> BigInt,
        count -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        refresh_token_hash -> Text,
        previous_refresh_token_hash -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    email_verifications (id) {
        id -> Text,
        token_hash -> Text,
        email -> Text,
        display_name -> Nullable<Text>,
        invitation_id -> Nullable<Text>,
        basis -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        action -> Text,
        outcome -> Text,
        actor_type -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        endpoint_id -> Nullable<Text>,
        response_status -> Nullable<Integer>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    write_lock (id) {
        id -> Integer,
        counter -> BigInt,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    acceptance_proofs (id) {
        id -> Text,
        token_hash -> Text,
        invitation_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        consumed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organization_domains (domain) {
        domain -> Text,
        organization_id -> Text,
        policy -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    join_requests (id) {
        id -> Text,
        organization_id -> Text,
        user_id -> Text,
        state -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
    }
}

diesel::table! {
    membership_exits (organization_id, user_id) {
        organization_id -> Text,
        user_id -> Text,
        left_at -> Timestamp,
    }
}

diesel::table! {
    redemptions (id) {
        id -> Text,
        invitation_id -> Text,
        email -> Text,
        external_id -> Nullable<Text>,
        api_key_id -> Nullable<Text>,
        redeemed_at -> Timestamp,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
        client_id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        initiate_login_uri -> Nullable<Text>,
        id_token_signed_response_alg -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Text,
        session_id -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        auth_time -> Timestamp,
        code_hash -> Text,
        redirect_uri -> Text,
        code_challenge -> Nullable<Text>,
        code_expires_at -> Timestamp,
        code_used_at -> Nullable<Timestamp>,
        refresh_token_hash -> Nullable<Text>,
        previous_refresh_token_hash -> Nullable<Text>,
        refresh_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(join_requests -> users (user_id));
diesel::joinable!(join_requests -> organizations (organization_id));
diesel::joinable!(organization_domains -> organizations (organization_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(oauth_grants -> oauth_clients (client_id));
diesel::joinable!(oauth_grants -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    invitations,
    sessions,
    email_verifications,
    api_keys,
    audit_events,
    settings,
    outbox,
    write_lock,
    password_resets,
    webhook_endpoints,
    rate_counters,
    organizations,
    memberships,
    acceptance_proofs,
    organization_domains,
    join_requests,
    membership_exits,
    redemptions,
    oauth_clients,
    oauth_grants,
    oauth_refresh_tokens
);

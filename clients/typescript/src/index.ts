/**
 * Typed client for the Invitegate API.
 *
 * The types in `schema.d.ts` are generated from `openapi/openapi.json` by openapi-typescript
 * (`npm run generate`); requests go through openapi-fetch, so paths, parameters, bodies and
 * responses are all checked by the TypeScript compiler. Errors are RFC 9457 problem documents
 * whose `code` is one of the `ErrorCode` values.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** The schemas of the API, by name: `Schemas["Invitation"]`, `Schemas["Problem"]`, ... */
export type Schemas = components["schemas"];

/** An RFC 9457 problem document, as every error response carries. */
export type Problem = Schemas["Problem"];

/** Options of {@link createInvitegateClient}. */
export interface InvitegateClientOptions {
  /** The service's base URL, e.g. `https://invite.example.com` (without `/api/v1`). */
  baseUrl: string;
  /**
   * A credential sent as `Authorization: Bearer …`: an API key (`igk_…`) or a session access
   * token. Omit it for the public operations (verifying an invitation, registering).
   */
  token?: string;
  /** A `fetch` implementation; defaults to the global one. */
  fetch?: typeof globalThis.fetch;
}

/**
 * A client for every operation of the document. Paths are the document's, e.g.
 * `client.POST("/api/v1/invitations", { body: { email: "ada@example.com" } })`; each call
 * resolves to `{ data }` on success or `{ error }` (a {@link Problem}) with the `response`.
 */
export function createInvitegateClient(options: InvitegateClientOptions): Client<paths> {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (options.token) {
    const auth: Middleware = {
      onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${options.token}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}

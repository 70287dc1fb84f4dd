// Create → verify → list against a running server, through the generated types only.
// Reads INVITEGATE_URL and INVITEGATE_API_KEY (an `invitations:read invitations:write` key)
// and prints one JSON line with what it saw; any surprise exits non-zero.
import { createInvitegateClient, type Schemas } from "../src/index.js";

function fail(message: string, detail?: unknown): never {
  console.error(message, detail === undefined ? "" : JSON.stringify(detail));
  process.exit(1);
}

const baseUrl = process.env.INVITEGATE_URL ?? fail("INVITEGATE_URL is not set");
const token = process.env.INVITEGATE_API_KEY ?? fail("INVITEGATE_API_KEY is not set");
const email = `ts-${Date.now()}@example.com`;

const admin = createInvitegateClient({ baseUrl, token });
const visitor = createInvitegateClient({ baseUrl });

const created = await admin.POST("/api/v1/invitations", {
  body: { email, note: "from the TypeScript client", send_email: false },
});
if (created.error || created.response.status !== 201) {
  fail(`create answered ${created.response.status}`, created.error);
}
const invitation: Schemas["InvitationWithToken"] = created.data;

const verified = await visitor.POST("/api/v1/invitations/verify", {
  body: { token: invitation.token },
});
if (verified.error) fail(`verify answered ${verified.response.status}`, verified.error);
const preview: Schemas["InvitationPreview"] = verified.data.invitation;
if (preview.id !== invitation.id || preview.email !== email) fail("verify named another invitation", preview);

const listed = await admin.GET("/api/v1/invitations", {
  params: { query: { email, state: "pending", limit: 10 } },
});
if (listed.error) fail(`list answered ${listed.response.status}`, listed.error);
const found = listed.data.data.filter((i) => i.id === invitation.id);
if (found.length !== 1) fail("the new invitation is not listed", listed.data);

const forged = await visitor.POST("/api/v1/invitations/verify", { body: { token: "forged" } });
const problem: Schemas["Problem"] | undefined = forged.error;
if (!problem || forged.response.status !== 400) fail(`a forged token answered ${forged.response.status}`, problem);

console.log(
  JSON.stringify({
    created: invitation.id,
    state: found[0]?.state,
    role: preview.role,
    forged_code: problem.code,
  }),
);

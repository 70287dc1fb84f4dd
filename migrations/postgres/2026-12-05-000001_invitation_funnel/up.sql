-- The funnel of an invitation (issue 14): when its email was accepted by the mail server (or
-- written to a file), and when it was first opened (verified) — no tracking pixel, no link
-- rewriting. Invitations verified before this migration get the time of their first
-- successful verification from the audit log.
ALTER TABLE invitations ADD COLUMN delivered_at TIMESTAMP;
ALTER TABLE invitations ADD COLUMN opened_at TIMESTAMP;
UPDATE invitations SET opened_at = (
    SELECT MIN(a.occurred_at) FROM audit_events a
    WHERE a.target_id = invitations.id
      AND a.target_type = 'invitation'
      AND a.action = 'invitation.verified'
      AND a.outcome = 'success'
)
WHERE id IN (
    SELECT target_id FROM audit_events
    WHERE target_type = 'invitation' AND action = 'invitation.verified' AND outcome = 'success'
);
CREATE INDEX invitations_created_at ON invitations (created_at);

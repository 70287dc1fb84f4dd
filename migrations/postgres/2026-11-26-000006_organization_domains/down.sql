DROP TABLE membership_exits;
DROP TABLE join_requests;
DROP TABLE organization_domains;

DROP TABLE join_requests;
DROP TABLE organization_domains;

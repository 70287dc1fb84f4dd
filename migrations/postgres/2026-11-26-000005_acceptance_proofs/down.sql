DROP TABLE acceptance_proofs;

-- The schema of sqlgen's CRUD, InsertRows, batching, limit and transaction integration tests
-- (sqlgen/*_integration_test.go): organisations, their users (with a JSON
-- settings column, a nullable email and a named status type) and a
-- membership table whose composite key and reserved-word columns (`key`,
-- `order`) exercise quoting. Loaded with sqlgentest.OpenFile; each test
-- gets it in a database of its own.

CREATE TABLE orgs (
	id   BIGINT AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(255) NOT NULL
);

CREATE TABLE users (
	id       BIGINT AUTO_INCREMENT PRIMARY KEY,
	org_id   BIGINT NOT NULL,
	name     VARCHAR(255) NOT NULL,
	email    VARCHAR(255) NULL,
	status   VARCHAR(32) NOT NULL,
	settings JSON NULL,
	KEY (org_id)
);

CREATE TABLE memberships (
	org_id  BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	`key`   VARCHAR(64) NOT NULL,
	`order` INT NOT NULL,
	PRIMARY KEY (org_id, user_id)
);

module github.com/seed-b2691315/sqlgen

go 1.24.0

require (
	github.com/DATA-DOG/go-sqlmock v1.5.2
	github.com/go-sql-driver/mysql v1.10.1
	github.com/google/go-cmp v0.7.0
)

require filippo.io/edwards25519 v1.2.0 // indirect

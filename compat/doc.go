// Package compat holds sqlgen's compatibility tests against servers other
// than MySQL and MariaDB: TiDB (this module, package compat, with the
// in-process server of [github.com/seed-b2691315/sqlgen/compat/tidbtest],
// or a real cluster named by SQLGEN_TIDB_DSN) and Vitess (the nested
// module compat/vitess, which checks vtgate's routing of sqlgen's
// statements with Vitess's own planner). See README.md in this folder.
package compat

// EnvTiDBDSN names the environment variable that points the TiDB tests at
// a real TiDB server or cluster instead of the in-process one, as a DSN
// ending in "/" (such as "root@tcp(tidb.example:4000)/"). Each test
// creates its own database there and drops it at the end.
const EnvTiDBDSN = "SQLGEN_TIDB_DSN"

// Package exampletest gives the examples' tests a throwaway database on
// the real server of SQLGEN_TEST_DSN.
package exampletest

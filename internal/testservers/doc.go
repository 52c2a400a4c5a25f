// Package testservers starts the real storage servers that the targets'
// tests run against, each on a loopback port chosen by the test and with
// its data in the test's temporary directory: versitygw (S3) and Azurite
// (Azure Blob). A server is stopped when its test ends, and can be
// stopped and started again on the same port and data, as a target that
// goes down and comes back. The servers are installed under .tools/ by
// scripts/install-versitygw and scripts/install-azurite (make test runs
// them); a test whose server is missing is skipped, or fails when CI=true.
//
// It is test support: no binary may depend on it.
package testservers

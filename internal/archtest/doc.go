// Package archtest holds no code: its test keeps the package boundaries of
// ARCHITECTURE.md ("must not know") and checks every package has a doc
// comment.
package archtest

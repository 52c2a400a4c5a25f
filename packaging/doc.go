// Package packaging holds the Debian package of callvault: nfpm.yaml, the
// maintainer scripts and build-deb (run by `make deb`), with the systemd
// unit, sysusers.d and tmpfiles.d files in ../systemd. It has no code of
// its own: its test builds the package and checks what it holds, and
// gencopyright writes the package's copyright file.
package packaging

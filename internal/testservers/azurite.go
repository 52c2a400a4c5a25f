package testservers

import (
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Azurite's well-known development account: every Azurite has it, and
// its key is public.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azuriteKind is Azurite's blob server, as scripts/install-azurite
// installs it; Azurite (Node) may take a minute to answer.
var azuriteKind = kind{name: "azurite", bin: "azurite-blob", installed: ".tools/azurite/node_modules/.bin/azurite-blob", ready: time.Minute, poll: 50 * time.Millisecond}

// Azurite is a running Azurite blob service, on a loopback port of its
// own with its data in a temporary directory.
type Azurite struct {
	// Endpoint is the blob service URL, with the account as its path:
	// http://127.0.0.1:PORT/devstoreaccount1.
	Endpoint string
	// Account and Key are the shared key (AzuriteAccount, AzuriteKey).
	Account, Key string
	// Dir is the data directory, kept across Stop and Start.
	Dir string

	*server // Start, Stop
}

// StartAzurite starts Azurite's blob service (azurite-blob) for t and
// stops it when t ends. The binary is the one scripts/install-azurite
// puts under the module root, else azurite-blob in PATH; without it the
// test is skipped, or fails when CI=true.
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	a := &Azurite{Account: AzuriteAccount, Key: AzuriteKey, Dir: t.TempDir()}
	a.server = newServer(t, azuriteKind, a.command, a.answering)
	a.launch(func(port int) { a.Endpoint = fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount) })
	return a
}

// CredentialsFile writes the shared key as the Azure target reads it
// ("ACCOUNT:KEY") to a file of the test's and returns its path.
func (a *Azurite) CredentialsFile() string {
	a.t.Helper()
	return a.credentialsFile("azure.cred", a.Account+":"+a.Key)
}

// command runs the blob service on its port, with its data in Dir.
func (a *Azurite) command() *exec.Cmd {
	return exec.Command(a.bin,
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(a.port),
		"--location", a.Dir, "--skipApiVersionCheck", "--silent",
		// Telemetry would hold every stop for a minute and more, trying
		// to reach a host on the internet.
		"--disableTelemetry")
}

// answering is nil once the blob service answers a request to list the
// account's containers, whatever the status.
func (a *Azurite) answering() error { return answering(a.Endpoint + "?comp=list") }

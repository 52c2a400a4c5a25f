package target

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ReadCredentials reads a credential file's one line and splits it at
// its first colon: "ACCESS_KEY:SECRET", "ACCOUNT:KEY". A line with no
// colon, or one that starts with "?" or "sv=", comes back whole as secret
// (an Azure SAS token). A name without a
// slash is looked up in $CREDENTIALS_DIRECTORY when systemd set it.
// Errors name the file, never its content.
func ReadCredentials(name string) (id, secret string, err error) {
	path := CredentialsPath(name)
	if path == "" {
		return "", "", fmt.Errorf("no credentials file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("credentials: %w", err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", fmt.Errorf("credentials %s: empty", path)
	}
	if strings.HasPrefix(line, "?") || strings.HasPrefix(line, "sv=") {
		return "", line, nil // a SAS token, whatever it holds
	}
	id, secret, ok := strings.Cut(line, ":")
	if !ok || strings.ContainsAny(id, "=&") {
		return "", line, nil // a SAS token as the portal shows it (sp=...&st=2026-...T10:00:00Z&...)
	}
	if id == "" || secret == "" {
		return "", "", fmt.Errorf("credentials %s: want ID:SECRET on one line", path)
	}
	return id, secret, nil
}

// CredentialsPath is where the credential file name is read from: the
// path itself, or for a bare name (no slash) the file of that name in
// $CREDENTIALS_DIRECTORY when it is set.
func CredentialsPath(name string) string {
	if name == "" {
		return ""
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" && !strings.Contains(name, "/") {
		return filepath.Join(dir, name)
	}
	return name
}

package api

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Request types that carry passwords never print them, whichever way they are logged.
func TestSecretsRedacted(t *testing.T) {
	const secret = "hunter2-very-secret"
	values := []any{
		loginRequest{Username: "owner", Password: secret},
		reauthRequest{Password: secret},
		changePasswordRequest{Current: secret, New: secret},
	}
	for _, v := range values {
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "req", v)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "req", v)
		for _, f := range []string{"%v", "%+v", "%s"} {
			buf.WriteString(fmt.Sprintf(f, v))
		}
		if strings.Contains(buf.String(), secret) {
			t.Errorf("%T leaks its password: %s", v, buf.String())
		}
	}
}

// Package privacytest builds the privacy services over a test's database, for the API
// and web UI tests.
package privacytest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/events"
	"hearth/internal/privacy"
)

// Setup is what the services are built over.
type Setup struct {
	Store  privacy.ConsentStore
	Authz  privacy.Authorizer
	Events events.Publisher
	Now    func() time.Time
	// Parts delete the test's user data, in order; a last part named
	// "factory_accounts" then calls Restore (recreating the owner) and reloads the
	// consents, as the gateway does.
	Parts   []privacy.Part
	Restore func(ctx context.Context) error
}

// Services returns the consent service and the eraser (journal in a temporary
// directory), failing the test on error.
func Services(t testing.TB, s Setup) (*privacy.ConsentService, *privacy.Eraser) {
	t.Helper()
	consents, err := privacy.NewConsentService(context.Background(), privacy.ConsentConfig{Store: s.Store, Authz: s.Authz, Events: s.Events, Now: s.Now})
	if err != nil {
		t.Fatal(err)
	}
	parts := append(append([]privacy.Part(nil), s.Parts...), privacy.Part{Name: "factory_accounts", Erase: func(ctx context.Context) error {
		if s.Restore != nil {
			if err := s.Restore(ctx); err != nil {
				return err
			}
		}
		return consents.Reload(ctx)
	}})
	eraser, err := privacy.NewEraser(privacy.EraserConfig{Path: filepath.Join(t.TempDir(), privacy.ErasureFile), Authz: s.Authz, Events: s.Events, Now: s.Now, Parts: parts})
	if err != nil {
		t.Fatal(err)
	}
	return consents, eraser
}

package release_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/release"
	"hearth/internal/release/releaseinfo"
	"hearth/internal/release/releasetest"
)

// Each fixture of releasetest puts the repository in a state a conforming client
// refuses; before it, the same client accepts the repository (so each case fails for
// the reason it names). The device side runs the same fixtures against its own client.
func TestAttackFixturesAreRefused(t *testing.T) {
	mixed := []error{&metadata.ErrLengthOrHashMismatch{}, &metadata.ErrDownloadLengthMismatch{}}
	cases := []struct {
		name   string
		attack func(dir string) error
		// want lists the go-tuf error classes a client may report. A mixed-in older
		// file is refused either as longer than the length the newer metadata records
		// (its signature may be a byte longer) or by its hash.
		want []error
	}{
		{"expired timestamp", releasetest.ExpireTimestamp, []error{&metadata.ErrExpiredMetadata{}}},
		{"mix and match snapshot", func(d string) error { return releasetest.MixAndMatch(d, release.RoleSnapshot) }, mixed},
		{"mix and match targets", func(d string) error { return releasetest.MixAndMatch(d, release.RoleTargets) }, mixed},
		{"program bit flipped", func(d string) error { return releasetest.TamperTarget(d, "1.1.0", releasetest.FlipByte) }, []error{&metadata.ErrLengthOrHashMismatch{}}},
		{"program endless", func(d string) error { return releasetest.TamperTarget(d, "1.1.0", releasetest.Append) }, []error{&metadata.ErrDownloadLengthMismatch{}}},
		{"program truncated", func(d string) error { return releasetest.TamperTarget(d, "1.1.0", releasetest.Truncate) }, []error{&metadata.ErrLengthOrHashMismatch{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := releasetest.New(t, release.InitOptions{})
			repo.Publish(t, "1.0.0", 0, program(t, 1000))
			body := program(t, 1000)
			repo.Publish(t, "1.1.0", 2, body)
			srv := repo.Serve(t)
			if data, err := fetch(t, srv, repo.TrustedRoot(t), t.TempDir(), "1.1.0"); err != nil || !bytes.Equal(data, body) {
				t.Fatalf("before the attack: %v", err)
			}
			if err := tc.attack(repo.Dir); err != nil {
				t.Fatal(err)
			}
			_, err := fetch(t, srv, repo.TrustedRoot(t), t.TempDir(), "1.1.0")
			if !slices.ContainsFunc(tc.want, func(w error) bool { return errors.Is(err, w) }) {
				t.Fatalf("client after the attack: %v, want one of %T", err, tc.want)
			}
		})
	}
}

// A replayed, validly signed older timestamp is refused by a client that saw a newer
// one (TUF 5.4.3); a client without history would accept it, which is why devices keep
// their metadata and why timestamps expire within a day.
func TestReplayedTimestampRefused(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	repo.Publish(t, "1.0.0", 0, program(t, 1000))
	old, err := releasetest.CaptureTimestamp(repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	repo.Publish(t, "1.1.0", 2, program(t, 1000))
	srv := repo.Serve(t)
	device := t.TempDir()
	if _, err := fetch(t, srv, repo.TrustedRoot(t), device, "1.1.0"); err != nil {
		t.Fatal(err)
	}
	if err := releasetest.ReplayTimestamp(repo.Dir, old); err != nil {
		t.Fatal(err)
	}
	err = client(t, srv, repo.TrustedRoot(t), device).Refresh()
	if !errors.Is(err, &metadata.ErrBadVersionNumber{}) {
		t.Fatalf("device refresh against a replayed timestamp: %v, want a version rollback error", err)
	}
	if err := client(t, srv, repo.TrustedRoot(t), t.TempDir()).Refresh(); err != nil {
		t.Fatalf("a client without history refused the replay (%v): the fixture does not replay a valid state", err)
	}
}

// OfferOlder and RewriteRelease produce validly signed repositories: TUF accepts them,
// and only the device's release policy (version, security version) can refuse them.
func TestPolicyFixturesAreValidlySigned(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	repo.Publish(t, "1.0.0", 1, program(t, 1000))
	repo.Publish(t, "1.1.0", 2, program(t, 1000))
	repo.Publish(t, "1.2.0", 2, program(t, 1000))
	if err := releasetest.OfferOlder(repo.Dir, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := releasetest.RewriteRelease(repo.Dir, "1.2.0", func(c *releaseinfo.Custom) {
		c.SecurityVersion = 1
		c.Rollout.Withdrawn = false
	}); err != nil {
		t.Fatal(err)
	}
	up := client(t, repo.Serve(t), repo.TrustedRoot(t), t.TempDir())
	if err := up.Refresh(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	got := map[string]releaseinfo.Custom{}
	for name, info := range up.GetTopLevelTargets() {
		c, err := releaseinfo.ParseTarget(name, *info.Custom)
		if err != nil {
			t.Fatal(err)
		}
		got[c.Version] = c
	}
	if c := got["1.0.0"]; !c.Rollout.Offered() || c.Rollout.Percent != 100 {
		t.Errorf("1.0.0 not offered: %+v", c.Rollout)
	}
	if c := got["1.1.0"]; !c.Rollout.Withdrawn {
		t.Errorf("1.1.0 not withdrawn: %+v", c.Rollout)
	}
	if c := got["1.2.0"]; c.SecurityVersion != 1 || !c.Rollout.Offered() {
		t.Errorf("1.2.0 not rewritten: %+v", c)
	}
	// The vendor's own tools go on from the forged state.
	if err := release.RefreshTimestamp(repo.Dir, release.Options{}); err != nil {
		t.Fatal(err)
	}
}

package update

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"hearth/internal/atomicfile"
	"hearth/internal/release/releaseinfo"
)

// Errors of checking and installing.
var (
	ErrNoSlots     = errors.New("update: this installation has no A/B slots (run hearthd under hearth-launcher)")
	ErrNothingNew  = errors.New("update: no newer release for this device")
	ErrRolledBack  = errors.New("update: release is older than the device's security version")
	ErrInstalling  = errors.New("update: an update is already being installed")
	ErrDownloadBad = errors.New("update: downloaded program does not match its signed length and hashes")
)

// AgentConfig configures the device's update agent.
type AgentConfig struct {
	DataDir string
	// RepositoryURL is the vendor's TUF repository: <cloud>/tuf (metadata/ and targets/).
	RepositoryURL string
	// Client reaches the vendor with the vendor root pinned (and the device certificate).
	Client *http.Client
	Vault  Vault
	// Serial places the device in staged rollouts.
	Serial string
	// Current is the running firmware version.
	Current string
	Log     *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
}

// Agent checks for and installs updates. It is safe for concurrent use; one install runs
// at a time.
type Agent struct {
	cfg        AgentConfig
	installing sync.Mutex
}

// NewAgent returns an agent.
func NewAgent(cfg AgentConfig) (*Agent, error) {
	if cfg.DataDir == "" || cfg.Client == nil || cfg.Vault == nil {
		return nil, errors.New("update: data directory, HTTP client and keystore are required")
	}
	if _, err := url.Parse(cfg.RepositoryURL); err != nil || !strings.HasPrefix(cfg.RepositoryURL, "https://") {
		return nil, fmt.Errorf("update: repository URL must be https://, got %q", cfg.RepositoryURL)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Agent{cfg: cfg}, nil
}

// Offer is a release this device may install.
type Offer struct {
	Target string
	Info   Info
	file   *metadata.TargetFiles
	// targets is the signed targets metadata listing it, kept with the slot.
	targets []byte
	// local is the program's file in an offline bundle; empty means download it.
	local string
}

// Check refreshes the TUF metadata (root rotation, timestamp, snapshot, targets, with
// go-tuf's freshness, rollback and mix-and-match protection) and returns the newest
// release meant for this device.
//
// TS-0045 5.3.1.10: the server is authenticated (TLS, vendor root pinned) and every
// piece of metadata is signature-checked before use.
func (a *Agent) Check(ctx context.Context) (Offer, error) {
	up, err := a.refresh()
	if err != nil {
		return Offer{}, err
	}
	trusted := up.GetTrustedMetadataSet()
	targets := trusted.Targets[metadata.TARGETS]
	raw, err := targets.ToBytes(false)
	if err != nil {
		return Offer{}, fmt.Errorf("update: %w", err)
	}
	return a.choose(targets.Signed.Targets, raw, true)
}

// refresh runs the TUF client workflow against the vendor's repository.
func (a *Agent) refresh() (*updater.Updater, error) {
	return a.refreshFrom(&fetcher{client: a.cfg.Client, timeout: time.Minute}, a.cfg.RepositoryURL+"/metadata")
}

// refreshFrom runs the TUF client workflow with f (the vendor's repository, or an offline
// bundle) and keeps a rotated root as the new anchor. The device's metadata cache is the
// same for both, so neither can go back behind what the other has shown.
func (a *Agent) refreshFrom(f fetcherFunc, metadataURL string) (*updater.Updater, error) {
	root, err := TrustedRoot(a.cfg.Vault)
	if err != nil {
		return nil, err
	}
	cfg, err := config.New(metadataURL, root)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	cfg.RemoteTargetsURL = a.cfg.RepositoryURL + "/targets"
	cfg.LocalMetadataDir = filepath.Join(a.cfg.DataDir, "update", "tuf")
	cfg.LocalTargetsDir = filepath.Join(a.cfg.DataDir, "update", "download")
	cfg.Fetcher = f
	if err := cfg.EnsurePathsExist(); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	up, err := updater.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("update: trusted root: %w", err)
	}
	if err := up.Refresh(); err != nil {
		return nil, fmt.Errorf("update: refresh metadata: %w", err)
	}
	if err := a.keepRoot(up.GetTrustedMetadataSet().Root); err != nil {
		return nil, err
	}
	return up, nil
}

// fetcherFunc is go-tuf's metadata fetcher interface.
type fetcherFunc interface {
	DownloadFile(url string, maxLength int64, timeout time.Duration) ([]byte, error)
}

// keepRoot stores a root that the refresh reached through signed rotations.
func (a *Agent) keepRoot(root *metadata.Metadata[metadata.RootType]) error {
	cur, err := TrustedRoot(a.cfg.Vault)
	if err != nil {
		return err
	}
	old, err := metadata.Root().FromBytes(cur)
	if err != nil || root.Signed.Version <= old.Signed.Version {
		return err
	}
	b, err := root.ToBytes(false)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	a.cfg.Log.Info("TUF root rotated", "version", root.Signed.Version)
	return a.cfg.Vault.Put(RootRecord, b)
}

// choose picks the newest release newer than the running one, not below the security
// version, not withdrawn or paused, not refused before, and rolled out to this device.
func (a *Agent) choose(files map[string]*metadata.TargetFiles, targetsJSON []byte, rollout bool) (Offer, error) {
	current, err := ParseVersion(a.cfg.Current)
	if err != nil {
		return Offer{}, fmt.Errorf("update: running version: %w", err)
	}
	minSV, err := SecurityVersion(a.cfg.Vault)
	if err != nil {
		return Offer{}, err
	}
	st, _ := LoadState(a.cfg.DataDir)
	var best Offer
	var bestV Version
	rolledBack := false
	for name, tf := range files {
		info, err := ParseInfo(tf.Custom)
		if err != nil || !strings.HasPrefix(name, "hearthd-") || name != releaseinfo.TargetName(info.Version) {
			continue
		}
		v, _ := ParseVersion(info.Version)
		switch {
		case v.Compare(current) <= 0, info.Rollout.Withdrawn, slices.Contains(st.Refused, info.Version),
			rollout && (!info.Rollout.Offered() || !InRollout(a.cfg.Serial, info.Version, info.Rollout.Percent)):
			continue
		case info.SecurityVersion < minSV:
			rolledBack = true
			continue
		}
		if best.file == nil || v.Compare(bestV) > 0 {
			best, bestV = Offer{Target: name, Info: info, file: tf, targets: targetsJSON}, v
		}
	}
	if best.file == nil {
		if rolledBack {
			return Offer{}, ErrRolledBack
		}
		return Offer{}, ErrNothingNew
	}
	return best, nil
}

// Install downloads o into the inactive slot, verifying it as it streams, and marks that
// slot for trial. The running program is untouched; the launcher starts the new one,
// checks its health and keeps it or returns to this one. A crash or power loss at any
// point leaves the active slot as it was.
//
// TS-0045 5.3.1.9: the program is checked against its signed length and hashes before it
// can run.
func (a *Agent) Install(ctx context.Context, o Offer) error {
	if !a.installing.TryLock() {
		return ErrInstalling
	}
	defer a.installing.Unlock()
	st, err := LoadState(a.cfg.DataDir)
	if errors.Is(err, os.ErrNotExist) {
		return ErrNoSlots
	}
	if err != nil {
		return err
	}
	slot := Other(st.Active)
	if err := a.place(ctx, o, slot); err != nil {
		st.Last = "failed: " + err.Error()
		SaveState(a.cfg.DataDir, st)
		return err
	}
	st.Trial = &Trial{Slot: slot, Version: o.Info.Version}
	st.Last = ""
	return SaveState(a.cfg.DataDir, st)
}

// place writes o's program into slot: from the offline bundle it came in, or downloaded.
func (a *Agent) place(ctx context.Context, o Offer, slot string) error {
	if o.local != "" {
		return a.writeSlot(slot, o, func(tmp string) error {
			f, err := os.Open(o.local)
			if err != nil {
				return fmt.Errorf("update: bundle: %w", err)
			}
			defer f.Close()
			return streamTo(f, tmp, o.file)
		})
	}
	return a.download(ctx, o, slot)
}

// download streams the target into slot, then writes its metadata; the program file
// appears only once complete and verified.
func (a *Agent) download(ctx context.Context, o Offer, slot string) error {
	return a.writeSlot(slot, o, func(tmp string) error {
		sum := o.file.Hashes["sha256"]
		u := a.cfg.RepositoryURL + "/targets/" + hex.EncodeToString(sum) + "." + o.Target
		return a.fetchTo(ctx, u, tmp, o.file)
	})
}

// writeSlot empties slot, has fill write the verified program to a temporary file, and
// then moves it into place and writes the slot's metadata.
func (a *Agent) writeSlot(slot string, o Offer, fill func(tmp string) error) error {
	dir := slotsPath(a.cfg.DataDir, slot)
	// Invalidate the slot first: from here until the end it holds no runnable program.
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("update: clear slot %s: %w", slot, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("update: slot %s: %w", slot, err)
	}
	if _, ok := o.file.Hashes["sha256"]; !ok {
		return fmt.Errorf("update: %s lists no sha256", o.Target)
	}
	tmp := filepath.Join(dir, ".download")
	if err := fill(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, BinaryFile)); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, targetsFile), o.targets, 0o600); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, targetFile), []byte(o.Target), 0o600)
}

// fetchTo streams url into path through the target's hashes (see streamTo).
func (a *Agent) fetchTo(ctx context.Context, u, path string, tf *metadata.TargetFiles) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := a.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("update: download: %s", res.Status)
	}
	return streamTo(res.Body, path, tf)
}

// streamTo writes r into path through the target's hash, stopping at its signed length:
// an endless source is cut off, a short or altered one refused.
func streamTo(r io.Reader, path string, tf *metadata.TargetFiles) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	defer f.Close()
	h := newHashes(tf.Hashes)
	n, err := io.Copy(io.MultiWriter(f, h.writer()), io.LimitReader(r, tf.Length+1))
	if err != nil {
		return fmt.Errorf("update: download: %w", err)
	}
	if n != tf.Length || !h.match(tf.Hashes) {
		return fmt.Errorf("%w (%d of %d bytes)", ErrDownloadBad, n, tf.Length)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return f.Close()
}

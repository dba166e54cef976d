package update

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/atomicfile"
)

// Slot names.
const (
	SlotA = "a"
	SlotB = "b"
)

// Files of the slot directory.
const (
	SlotsDir    = "slots"
	stateFile   = "state.json"
	BinaryFile  = "hearthd"
	targetsFile = "targets.json"
	targetFile  = "target"
)

// Errors of verified launch.
var (
	ErrNoSlot        = errors.New("update: slot is empty")
	ErrSlotSignature = errors.New("update: slot metadata is not signed by the trusted root")
	ErrSlotAltered   = errors.New("update: slot program does not match its signed length and hashes")
)

// Trial is a slot that was installed and has not yet passed its health check.
type Trial struct {
	Slot      string    `json:"slot"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

// State is slots/state.json.
type State struct {
	Active string `json:"active"`
	Trial  *Trial `json:"trial,omitempty"`
	// Refused lists versions that failed their health check; they are not offered again.
	Refused []string `json:"refused,omitempty"`
	// Last is the outcome of the last install, for the status page.
	Last string `json:"last,omitempty"`
}

// Other returns the slot that is not s.
func Other(s string) string {
	if s == SlotA {
		return SlotB
	}
	return SlotA
}

func slotsPath(dataDir string, elem ...string) string {
	return filepath.Join(append([]string{dataDir, SlotsDir}, elem...)...)
}

// LoadState reads the slot state; a device without slots has none (os.ErrNotExist).
func LoadState(dataDir string) (State, error) {
	raw, err := os.ReadFile(slotsPath(dataDir, stateFile))
	if err != nil {
		return State{}, err
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil || (st.Active != SlotA && st.Active != SlotB) ||
		(st.Trial != nil && st.Trial.Slot != SlotA && st.Trial.Slot != SlotB) {
		return State{}, fmt.Errorf("update: %s is damaged", stateFile)
	}
	return st, nil
}

// SaveState writes the slot state atomically.
func SaveState(dataDir string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(slotsPath(dataDir, stateFile), append(b, '\n'), 0o600)
}

// SlotBinary is the path of the program in slot s.
func SlotBinary(dataDir, s string) string { return slotsPath(dataDir, s, BinaryFile) }

// Installed describes a verified slot.
type Installed struct {
	Target string
	Info   Info
}

// VerifySlot checks slot s before it runs: its targets metadata must be signed by the
// trusted root's targets role, and its program must have exactly the signed length and
// hashes. Expiry is not checked here: a device that was offline for a year must still
// start the program it verified when it installed it.
//
// TS-0045 5.5.1.1: the launcher verifies the program it is about to run.
func VerifySlot(dataDir, s string, trustedRoot []byte) (Installed, error) {
	dir := slotsPath(dataDir, s)
	name, err := os.ReadFile(filepath.Join(dir, targetFile))
	if errors.Is(err, os.ErrNotExist) {
		return Installed{}, ErrNoSlot
	}
	if err != nil {
		return Installed{}, fmt.Errorf("update: slot %s: %w", s, err)
	}
	tf, err := signedTarget(filepath.Join(dir, targetsFile), string(name), trustedRoot)
	if err != nil {
		return Installed{}, err
	}
	info, err := ParseInfo(tf.Custom)
	if err != nil {
		return Installed{}, err
	}
	if err := checkFile(filepath.Join(dir, BinaryFile), tf); err != nil {
		return Installed{}, err
	}
	return Installed{Target: string(name), Info: info}, nil
}

// signedTarget returns the target name from a targets file signed under trustedRoot.
func signedTarget(path, name string, trustedRoot []byte) (*metadata.TargetFiles, error) {
	root, err := metadata.Root().FromBytes(trustedRoot)
	if err != nil {
		return nil, fmt.Errorf("update: trusted root: %w", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSlotSignature, err)
	}
	targets, err := metadata.Targets().FromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSlotSignature, err)
	}
	if err := root.VerifyDelegate(metadata.TARGETS, targets); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSlotSignature, err)
	}
	tf, ok := targets.Signed.Targets[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s is not listed", ErrSlotSignature, name)
	}
	return tf, nil
}

// checkFile streams path through the target's hashes and compares its length.
func checkFile(path string, tf *metadata.TargetFiles) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSlotAltered, err)
	}
	defer f.Close()
	h := newHashes(tf.Hashes)
	n, err := io.Copy(h.writer(), io.LimitReader(f, tf.Length+1))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSlotAltered, err)
	}
	if n != tf.Length || !h.match(tf.Hashes) {
		return ErrSlotAltered
	}
	return nil
}

// hashes computes the hash a target is checked against.
type hashes map[string]hash.Hash

// One strong hash suffices: SHA-256 where listed (hardware-accelerated on most CPUs),
// else SHA-512. The length is always checked too.
func newHashes(want metadata.Hashes) hashes {
	if _, ok := want["sha256"]; ok {
		return hashes{"sha256": sha256.New()}
	}
	if _, ok := want["sha512"]; ok {
		return hashes{"sha512": sha512.New()}
	}
	return hashes{}
}

func (h hashes) writer() io.Writer {
	ws := make([]io.Writer, 0, len(h))
	for _, x := range h {
		ws = append(ws, x)
	}
	return io.MultiWriter(ws...)
}

// match requires a known hash, and it to agree.
func (h hashes) match(want metadata.Hashes) bool {
	if len(h) == 0 {
		return false
	}
	for alg, x := range h {
		if !bytes.Equal(x.Sum(nil), want[alg]) {
			return false
		}
	}
	return true
}

// InstallFactory writes the first firmware into slot a of a new device and makes it
// active: used by provisioning, with the release's signed targets metadata. The slot is
// verified against root before it is accepted, and the device's security version starts
// at the release's.
func InstallFactory(dataDir string, v Vault, root []byte, target string, targetsJSON []byte, program io.Reader) (Installed, error) {
	dir := slotsPath(dataDir, SlotA)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Installed{}, fmt.Errorf("update: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, BinaryFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o700)
	if err != nil {
		return Installed{}, fmt.Errorf("update: %w", err)
	}
	_, err = io.Copy(f, program)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Installed{}, fmt.Errorf("update: factory firmware: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, targetsFile), targetsJSON, 0o600); err != nil {
		return Installed{}, err
	}
	if err := atomicfile.Write(filepath.Join(dir, targetFile), []byte(target), 0o600); err != nil {
		return Installed{}, err
	}
	inst, err := VerifySlot(dataDir, SlotA, root)
	if err != nil {
		return Installed{}, err
	}
	if err := RaiseSecurityVersion(v, inst.Info.SecurityVersion); err != nil {
		return Installed{}, err
	}
	return inst, SaveState(dataDir, State{Active: SlotA})
}

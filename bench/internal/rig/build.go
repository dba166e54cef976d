// Package rig runs Hearth's real binaries for the benchmarks under bench/: it builds them
// the way a release is built (docs/BUILD.md), provisions a device with the vendor tools,
// starts hearthd on a loopback port, talks to it as a client and reads its resource use
// from /proc.
//
// Safety: clients built here refuse any address outside 127.0.0.0/8, on both ends of the
// connection, so a benchmark cannot send traffic off the machine. Every process started
// here is stopped by Process.Stop, which callers defer.
//
// Linux only (/proc). Not safe for concurrent use unless a type says otherwise.
package rig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ReleaseVersion is the version stamped into benchmark release builds.
const ReleaseVersion = "1.0.0"

// Build is one `go build` of a main package of the module.
type Build struct {
	// Pkg is the package path relative to the module root, e.g. "./cmd/hearthd".
	Pkg string
	// Out is the binary to write.
	Out string
	// Release uses the documented release command: CGO_ENABLED=0 GOFIPS140=v1.0.0,
	// -tags release, -trimpath, -s -w and the version stamp. False is a plain `go build`.
	Release bool
	// Unstripped drops -s -w from a release build, keeping the symbol table and DWARF,
	// to show what stripping saves.
	Unstripped bool
}

func (b Build) args() []string {
	args := []string{"build", "-o", b.Out}
	if b.Release {
		ld := "-X hearth/internal/buildinfo.version=" + ReleaseVersion
		if !b.Unstripped {
			ld = "-s -w " + ld
		}
		args = append(args, "-tags", "release", "-trimpath", "-ldflags", ld)
	}
	return append(args, b.Pkg)
}

// Command is the build as a shell command line, for reports.
func (b Build) Command() string {
	var env string
	if b.Release {
		env = "CGO_ENABLED=0 GOFIPS140=v1.0.0 "
	}
	args := b.args()
	for i, a := range args {
		if strings.Contains(a, " ") {
			args[i] = `"` + a + `"`
		}
	}
	return env + "go " + strings.Join(args, " ")
}

// Run builds in the module rooted at root.
func (b Build) Run(ctx context.Context, root string) error {
	cmd := exec.CommandContext(ctx, "go", b.args()...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if b.Release {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0", "GOFIPS140=v1.0.0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", b.Pkg, err, out)
	}
	return nil
}

// ModuleRoot returns the directory of the main module's go.mod.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := string(bytes.TrimSpace(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module: run from the hearth module")
	}
	return filepath.Dir(mod), nil
}

// GoVersion returns `go version` output, for reports.
func GoVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "version").Output()
	if err != nil {
		return "", fmt.Errorf("go version: %w", err)
	}
	return string(bytes.TrimSpace(out)), nil
}

// FileSize returns the size of the file at path in bytes.
func FileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("size: %w", err)
	}
	return fi.Size(), nil
}

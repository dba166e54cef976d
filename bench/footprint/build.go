package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"hearth/bench/internal/rig"
)

// binaries are the programs measured, with their sizes.
type binaries struct {
	hearthd, hearthdUnstripped, peer, cloud rig.Build
	size                                    map[string]int64 // by Out path
	goVersion                               string
}

// build compiles hearthd (release command, and once more without -s -w), the peer (same
// release command) and hearth-cloud into dir.
func build(ctx context.Context, dir string, stderr io.Writer) (binaries, error) {
	root, err := rig.ModuleRoot(ctx)
	if err != nil {
		return binaries{}, err
	}
	b := binaries{
		hearthd:           rig.Build{Pkg: "./cmd/hearthd", Out: filepath.Join(dir, "hearthd"), Release: true},
		hearthdUnstripped: rig.Build{Pkg: "./cmd/hearthd", Out: filepath.Join(dir, "hearthd-unstripped"), Release: true, Unstripped: true},
		peer:              rig.Build{Pkg: "./bench/footprint/peer", Out: filepath.Join(dir, "peer"), Release: true},
		cloud:             rig.Build{Pkg: "./cmd/hearth-cloud", Out: filepath.Join(dir, "hearth-cloud")},
		size:              map[string]int64{},
	}
	if b.goVersion, err = rig.GoVersion(ctx); err != nil {
		return binaries{}, err
	}
	for _, x := range []rig.Build{b.hearthd, b.hearthdUnstripped, b.peer, b.cloud} {
		fmt.Fprintln(stderr, "footprint:", x.Command())
		if err := x.Run(ctx, root); err != nil {
			return binaries{}, err
		}
		if b.size[x.Out], err = rig.FileSize(x.Out); err != nil {
			return binaries{}, err
		}
	}
	return b, nil
}

//go:build !release

package buildinfo

const release = false

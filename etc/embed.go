// Package etc embeds the files of the etc/ tree that the binaries need at run
// time, so an installed cloister works without a copy of the source tree.
package etc

import "embed"

// Scenarios holds the built-in authorization scenarios, one file per scenario
// named <operation>.<name> under scenarios/ (see docs/scenarios.md).
//
//go:embed scenarios/*
var Scenarios embed.FS
